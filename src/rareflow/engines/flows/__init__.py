"""Static mass balance: production, use, trade, gaps and requirements, year by year."""

from rareflow.engines.flows.requirements import requirements
from rareflow.engines.flows.static import FlowInputs, FlowResult, check_mass_balance, solve_flows

__all__ = ["FlowInputs", "FlowResult", "check_mass_balance", "requirements", "solve_flows"]
