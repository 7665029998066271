"""Command line: thin typer commands mapping rareflow errors to exit codes."""
