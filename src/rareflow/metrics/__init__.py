"""Metrics derived from flow results: import reliance, concentration, coverage."""
