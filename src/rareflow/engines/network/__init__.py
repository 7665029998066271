"""Monthly simulation of the world network, vectorised over samples.

Arrays in (:class:`NetworkInputs`, built from a scenario by
:func:`rareflow.model.network.build_network` or by hand), arrays out
(:class:`NetworkResult`); :func:`check_mass_balance` recomputes every month's balance from
the outputs. See :mod:`rareflow.engines.network.core` for the rules.
"""

from rareflow.engines.network.check import MassBalanceError, check_mass_balance
from rareflow.engines.network.core import NetworkResult, simulate_network
from rareflow.engines.network.inputs import NetworkInputs

__all__ = ["MassBalanceError", "NetworkInputs", "NetworkResult", "check_mass_balance",
           "simulate_network"]
