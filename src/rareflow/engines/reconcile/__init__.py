"""Data reconciliation engine (weighted least squares subject to balances)."""

from rareflow.engines.reconcile.wls import ReconcileProblem, ReconcileResult, Rows, reconcile

__all__ = ["ReconcileProblem", "ReconcileResult", "Rows", "reconcile"]
