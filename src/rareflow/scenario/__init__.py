"""Scenario files: YAML with line numbers → ``extends:`` merge → pydantic validation → units.

Nothing below this package reads files.
"""
