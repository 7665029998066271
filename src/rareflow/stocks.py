"""Dynamic (lifetime-based) stock models of products in use.

>>> import numpy as np
>>> from rareflow.stocks import Lifetime, inflow_driven, stock_driven
>>> lt = Lifetime.normal(mean=15, sd=5)
>>> r = inflow_driven(np.full((2, 30), 10.0), lt, inflow_at="middle")  # [region, year] t/yr
>>> r.stock.shape, r.stock_by_cohort.shape
((2, 30), (2, 30, 30))
>>> s = stock_driven(r.stock, lt, inflow_at="middle")
>>> bool(np.allclose(s.inflow, 10.0))
True

See :mod:`rareflow.engines.stocks.dynamic` for the conventions (identical to flodym's)
and :mod:`rareflow.engines.stocks.recycling` for the end-of-life recycling chain.
"""

from rareflow.engines.stocks.dynamic import DynamicStockResult, inflow_driven, stock_driven
from rareflow.engines.stocks.lifetime import Lifetime
from rareflow.engines.stocks.recycling import (
    RecyclingChainResult,
    RecyclingMetrics,
    recycling_chain,
    recycling_metrics,
)

__all__ = [
    "DynamicStockResult",
    "Lifetime",
    "RecyclingChainResult",
    "RecyclingMetrics",
    "inflow_driven",
    "recycling_chain",
    "recycling_metrics",
    "stock_driven",
]
