"""Scenario-level analyses that combine the loader, the model and an engine.

Used by the command line and the report alike (neither computes flows itself).
"""
