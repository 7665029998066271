"""Plant economics: cash flows, financing, government contracts and Monte Carlo metrics.

Pure functions on arrays (annual periods; leading dimension ``sample`` where prices are
simulated: ``[sample, year]``). Money in USD, prices in USD/kg, volumes in t/yr, rates as
fractions per year. Randomness only through a ``numpy.random.Generator`` argument.

Modules
-------
metrics     npv, irr (robust, with reasons), payback, dscr
financing   loan_schedule (grace, capitalised interest, milestone draws, level/linear/
            sculpted), black_scholes_call, warrant_value, preferred_schedule
contracts   price_floor_payout, offtake_adjustment
prices      log_return_stats, gbm_paths, mean_reverting_paths
cashflows   utilisation_path, depreciation, income_tax, facility_cash_flows
analysis    Case / run_case: one facility with its financing and contracts, Monte Carlo
compile     compile_case: an ``economics:`` scenario section -> Case
"""

from rareflow.engines.economics.analysis import Case, CaseResult, run_case
from rareflow.engines.economics.cashflows import (
    CashFlows,
    depreciation,
    facility_cash_flows,
    income_tax,
    straight_line,
    utilisation_path,
)
from rareflow.engines.economics.contracts import (
    FloorPayout,
    contract_window,
    offtake_adjustment,
    price_floor_payout,
)
from rareflow.engines.economics.financing import (
    LoanSchedule,
    PreferredSchedule,
    black_scholes_call,
    draw_schedule,
    loan_schedule,
    preferred_schedule,
    warrant_value,
)
from rareflow.engines.economics.metrics import DscrResult, IrrResult, dscr, irr, npv, payback
from rareflow.engines.economics.prices import (
    LogReturnStats,
    gbm_paths,
    log_return_stats,
    mean_reverting_paths,
)

__all__ = [
    "Case", "CaseResult", "run_case",
    "CashFlows", "depreciation", "facility_cash_flows", "income_tax", "straight_line",
    "utilisation_path",
    "FloorPayout", "contract_window", "offtake_adjustment", "price_floor_payout",
    "LoanSchedule", "PreferredSchedule", "black_scholes_call", "draw_schedule",
    "loan_schedule", "preferred_schedule", "warrant_value",
    "DscrResult", "IrrResult", "dscr", "irr", "npv", "payback",
    "LogReturnStats", "gbm_paths", "log_return_stats", "mean_reverting_paths",
]
