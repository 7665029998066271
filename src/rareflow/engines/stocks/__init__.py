"""Dynamic stock engine: lifetimes, inflow- and stock-driven models, recycling chain.

Pure computation on numpy arrays; the public entry point is :mod:`rareflow.stocks`.
"""
