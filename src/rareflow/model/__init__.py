"""Compile a validated Scenario into labelled arrays (the chain, capacities, demand)."""
