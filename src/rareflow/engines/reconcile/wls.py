"""Data reconciliation: weighted least squares subject to balances.

The material-flow field's method (STAN; Cencic & Rechberger 2008; Narasimhan & Jordache
2000, ch. 3 and 7): every reported figure ``r_i`` enters with a standard deviation
``sigma_i``; the reconciled state ``z`` minimises

    chi2(z) = sum_i ((h_i(z) - r_i) / sigma_i) ** 2

subject to every balance ``g_k(z) = 0`` and the bounds ``lower <= z <= upper``
(non-negativity). ``h`` and ``g`` are affine in ``z`` plus bilinear terms ``c * z_a * z_b``
(a flow times an uncertain yield). It is solved by sequential quadratic programming: each
step is the problem linearised at the current point, a convex QP solved by OSQP (HiGHS or
SciPy's bounded least squares where OSQP does not finish); the uncertain parameters of the
bilinear terms are then held and the problem, now linear, solved again; a Newton projection
makes the balances exact. Its statistics are those of the problem linearised at the
solution (as STAN does for nonlinear balances):

* the covariance of ``z`` is that of the weighted least-squares estimate restricted to the
  null space of the balance Jacobian (and of the active bounds);
* ``dof`` is the number of redundant figures: figures minus the rank of the figure
  Jacobian on that null space; ``chi2`` is compared with the chi-square distribution
  with ``dof`` degrees of freedom (global test);
* each figure's adjustment ``r_i - h_i`` has variance ``sigma_i^2 - var(h_i)``; its
  normalised residual is the adjustment over that standard deviation, and figures whose
  normalised residual exceeds the two-sided critical value at ``alpha`` with a Bonferroni
  correction over the redundant figures are flagged as gross errors (measurement test);
* variables that no figure determines (unobservable) get a NaN standard deviation.

Pure: arrays in, arrays out. Model-specific compilation lives in ``rareflow.model``.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

REGULARISE = 1e-3   # proximal weight ||w_new - w||^2 of a step (vanishes at convergence)
POLISH_REGULARISE = 1e-9   # HiGHS's step: just enough to keep the QP strictly convex
PENALTY = 1e4       # weight of a linearised balance against a figure
RANK_RTOL = 1e-8    # singular values below this share of the largest are zero
STEP_EPS = 1e-6     # OSQP's tolerance on a step (HiGHS then solves each step exactly)
MAX_RESTARTS = 3    # restarts of a bilinear problem from its answer (see `reconcile`)

__all__ = ["Rows", "ReconcileProblem", "ReconcileResult", "reconcile"]


@dataclass(frozen=True)
class Rows:
    """``K`` functions ``f_k(z) = lin[k] @ z + const[k] + sum_t coef_t * z[a_t] * z[b_t]``
    over the terms ``t`` with ``row_t == k``.

    lin : [K, N] dense; const : [K]; row, a, b : int [T]; coef : [T].
    """

    lin: np.ndarray
    const: np.ndarray
    row: np.ndarray
    a: np.ndarray
    b: np.ndarray
    coef: np.ndarray

    @classmethod
    def linear(cls, lin: np.ndarray, const: np.ndarray | None = None) -> Rows:
        lin = np.asarray(lin, float)
        k = lin.shape[0]
        empty = np.zeros(0, int)
        return cls(lin, np.zeros(k) if const is None else np.asarray(const, float),
                   empty, empty, empty, np.zeros(0))

    @property
    def n_rows(self) -> int:
        return int(self.lin.shape[0])

    def value(self, z: np.ndarray) -> np.ndarray:
        out = self.lin @ z + self.const
        if self.coef.size:
            np.add.at(out, self.row, self.coef * z[self.a] * z[self.b])
        return out

    def jac(self, z: np.ndarray) -> np.ndarray:
        j = self.lin.copy()
        if self.coef.size:
            np.add.at(j, (self.row, self.a), self.coef * z[self.b])
            np.add.at(j, (self.row, self.b), self.coef * z[self.a])
        return j


@dataclass(frozen=True)
class ReconcileProblem:
    """A reconciliation problem. N variables, K balances, F figures.

    variables : names [N]; start : [N] starting point; lower, upper : [N] bounds;
    balances : :class:`Rows` (K) that must equal 0; balance_names : [K];
    figures : :class:`Rows` (F) whose values are reported; figure_ids : [F];
    reported : [F]; sigma : [F] standard deviations (> 0); tiebreak : [N] or None, a
    cost per unit of each variable, so small that it only chooses among states that
    reconcile the figures equally well (e.g. the least trade: flows no figure pins would
    otherwise take any value the solver's vertex gives). It enters HiGHS's step, not chi2.
    """

    variables: tuple[str, ...]
    start: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    balances: Rows
    balance_names: tuple[str, ...]
    figures: Rows
    figure_ids: tuple[str, ...]
    reported: np.ndarray
    sigma: np.ndarray
    tiebreak: np.ndarray | None = None


@dataclass(frozen=True)
class ReconcileResult:
    """The reconciled state and its statistics (see the module docstring).

    z, z_sigma : [N]; reconciled, reconciled_sigma, moved_sigma, normalized_residual : [F]
    (``moved_sigma = (reconciled - reported) / sigma``; ``normalized_residual`` is NaN for a
    figure that is not redundant); flags : indices of gross-error figures;
    balance_chi2 / balance_figures : [K] the chi-square of the figures that touch each
    balance and how many they are; max_balance_residual : largest |g_k| over the balance's
    scale at the solution.
    """

    z: np.ndarray
    z_sigma: np.ndarray
    reconciled: np.ndarray
    reconciled_sigma: np.ndarray
    moved_sigma: np.ndarray
    normalized_residual: np.ndarray
    chi2: float
    dof: int
    p_value: float
    critical: float
    flags: tuple[int, ...]
    balance_chi2: np.ndarray
    balance_figures: np.ndarray
    max_balance_residual: float
    success: bool
    message: str
    iterations: int


def _scales(p: ReconcileProblem) -> np.ndarray:
    s = np.maximum(np.abs(p.start), np.abs(p.lower) * np.isfinite(p.lower))
    positive = s[s > 0]
    floor = float(np.median(positive)) * 1e-3 if positive.size else 1.0
    return np.maximum(s, floor)


def reconcile(p: ReconcileProblem, *, alpha: float = 0.05, max_iter: int = 30
              ) -> ReconcileResult:
    """Solve ``p`` (see the module docstring). Dense linear algebra runs on one thread,
    so the same problem gives bit-identical answers in every process."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        res = _reconcile(p, alpha=alpha, max_iter=max_iter)
        if not (p.balances.b.size or p.figures.b.size):
            return res            # linear: one optimum
        # The steps scale every variable by its start, so a restart from the answer (scaled
        # by it) can find a lower chi2 the first run's scaling did not reach; restarts
        # continue while they lower chi2 (each is monotone, so none ends higher).
        for _ in range(MAX_RESTARTS):
            again = _reconcile(replace(p, start=res.z), alpha=alpha, max_iter=max_iter)
            if not (again.success and again.chi2 < res.chi2 * (1.0 - 1e-6)):
                break
            res = replace(again, iterations=res.iterations + again.iterations)
        return res


def _reconcile(p: ReconcileProblem, *, alpha: float, max_iter: int) -> ReconcileResult:
    from scipy import stats

    n = len(p.variables)
    if p.sigma.size and not np.all(p.sigma > 0):
        raise ValueError("every figure needs a standard deviation above 0")
    s = _scales(p)                      # z = s * w: every variable of order 1
    w_inv = 1.0 / p.sigma
    g_scale = np.maximum(np.abs(p.balances.jac(p.start)) @ s, 1e-12)

    def fun(w: np.ndarray) -> float:
        r = (p.figures.value(s * w) - p.reported) * w_inv
        return float(r @ r)

    lo = np.where(np.isfinite(p.lower), p.lower / s, -np.inf)
    hi = np.where(np.isfinite(p.upper), p.upper / s, np.inf)
    w = np.clip(p.start / s, lo, hi)
    params = np.unique(np.concatenate([p.balances.b, p.figures.b])).astype(int)
    it, ok_h = 0, False
    if params.size:
        # The bilinear problem is not convex, so where the steps start matters. They start
        # from the reconciliation with the uncertain parameters held at their reported
        # values: a linear problem, with one optimum. The parameters are then released.
        lo_h, hi_h = lo.copy(), hi.copy()
        lo_h[params] = hi_h[params] = w[params]
        w_h, _m, it, ok_h = _sequential(p, s, w, lo_h, hi_h, w_inv, g_scale, fun,
                                        np.zeros(0, int), max_iter)
        if ok_h:
            # the steps scale every variable by where they start: now by this answer
            z_h = s * w_h
            s = _scales(replace(p, start=z_h))
            g_scale = np.maximum(np.abs(p.balances.jac(z_h)) @ s, 1e-12)
            lo = np.where(np.isfinite(p.lower), p.lower / s, -np.inf)
            hi = np.where(np.isfinite(p.upper), p.upper / s, np.inf)
            w = np.clip(z_h / s, lo, hi)
    w, message, it_more, ok = _sequential(p, s, w, lo, hi, w_inv, g_scale, fun, params,
                                          max_iter, monotone=ok_h)
    it += it_more
    z = _project(p, np.clip(s * w, p.lower, p.upper), s, g_scale)
    g_res = float(np.max(np.abs(p.balances.value(z)) / g_scale)) if p.balances.n_rows else 0.0
    sol_success, sol_message, sol_nit = ok, message, it

    # ---- statistics of the problem linearised at the solution ----------------------
    jg = p.balances.jac(z) if p.balances.n_rows else np.zeros((0, n))
    at_lower = z - p.lower <= 1e-9 * s
    at_upper = p.upper - z <= 1e-9 * s
    at_bound = _binding(p, z, s, jg, w_inv, at_lower, at_upper)
    fixed = np.eye(n)[at_bound]
    basis = _null_space(np.vstack([jg * s[None, :], fixed]) if (jg.size or fixed.size)
                              else np.zeros((0, n)))
    basis = basis * s[:, None]          # back to z units: dz = basis @ t
    jh = p.figures.jac(z)
    m = jh @ basis                      # [F, d]
    mw = m * w_inv[:, None]
    # the covariance from the SVD of the weighted figure Jacobian itself (not of its normal
    # matrix, which squares its condition number), with a clear rank cutoff
    # The share of each figure's variance the others explain is the leverage P_ii of the
    # projector onto mw's column space; 1 - P_ii comes from the orthogonal complement's
    # columns of U, with no cancellation between near-equal numbers.
    n_fig = len(p.reported)
    if mw.size:
        u_full, sv, vt = _svd(mw)
        keep = sv > RANK_RTOL * sv[0] if sv.size and sv[0] > 0 else np.zeros(sv.size, bool)
        rank = int(keep.sum())
        vk = vt[:sv.size][keep]
        cov_t = (vk.T / sv[keep] ** 2) @ vk
        row_space = vk.T @ vk
        leverage = np.sum(u_full[:, :rank] ** 2, axis=1)
        free_share = np.sum(u_full[:, rank:] ** 2, axis=1)
    else:
        cov_t = np.zeros((basis.shape[1], basis.shape[1]))
        rank = 0
        row_space = np.zeros_like(cov_t)
        leverage, free_share = np.zeros(n_fig), np.ones(n_fig)
    if mw.size:
        # one Gauss-Newton step on the null space polishes the QP solvers' answer (exact
        # for a linear problem); kept only when it stays within the bounds and lowers chi2
        t = -cov_t @ (mw.T @ ((p.figures.value(z) - p.reported) * w_inv))
        z_new = z + basis @ t
        # (it moves only along directions the figures see, so it keeps the tie-break's
        # choice among equally good states)
        if (np.all(z_new >= p.lower - 1e-12 * s) and np.all(z_new <= p.upper + 1e-12 * s)
                and fun(np.clip(z_new, p.lower, p.upper) / s) <= fun(z / s)):
            # a step along the linearised balances leaves bilinear ones off by its square:
            # projected back, so the balances hold as exactly as before the polish
            z = _project(p, np.clip(z_new, p.lower, p.upper), s, g_scale)
            g_res = (float(np.max(np.abs(p.balances.value(z)) / g_scale))
                     if p.balances.n_rows else 0.0)
    rec = p.figures.value(z)
    rec_sigma = p.sigma * np.sqrt(np.clip(leverage, 0.0, 1.0))
    cov_z_diag = np.einsum("nd,de,ne->n", basis, cov_t, basis)
    # a variable is observable when its direction lies in the row space of mw
    if mw.size:
        proj = row_space
        leak = np.linalg.norm(basis - basis @ proj, axis=1) / np.maximum(np.linalg.norm(basis, axis=1), 1e-300)
        observable = (leak < 1e-6) | (np.linalg.norm(basis, axis=1) < 1e-12 * s)
    else:
        observable = np.linalg.norm(basis, axis=1) < 1e-12 * s
    z_sigma = np.where(observable, np.sqrt(np.maximum(cov_z_diag, 0.0)), np.nan)

    moved = (rec - p.reported) * w_inv
    var_adj = p.sigma ** 2 * np.clip(free_share, 0.0, 1.0)
    # below 1e-4 of its variance a figure is not checked by the others (and the difference
    # of two near-equal variances would be rounding noise)
    redundant = var_adj > 1e-4 * p.sigma ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        nres = np.where(redundant, (p.reported - rec) / np.sqrt(np.where(redundant, var_adj, 1.0)),
                        np.nan)
    chi2 = float(moved @ moved)
    dof = int(len(p.reported) - rank)
    p_value = float(stats.chi2.sf(chi2, dof)) if dof > 0 else float("nan")
    n_red = int(redundant.sum())
    critical = float(stats.norm.ppf(1.0 - alpha / 2.0 / max(n_red, 1)))
    flags = tuple(int(i) for i in np.flatnonzero(np.abs(np.nan_to_num(nres)) > critical))

    touches = (np.abs(jg) > 0) if jg.size else np.zeros((0, n), bool)
    fig_vars = np.abs(jh) > 0
    bal_chi2 = np.zeros(len(p.balance_names))
    bal_n = np.zeros(len(p.balance_names), int)
    for k in range(len(p.balance_names)):
        hit = (fig_vars & touches[k][None, :]).any(axis=1)
        bal_chi2[k] = float(np.sum(moved[hit] ** 2))
        bal_n[k] = int(hit.sum())
    return ReconcileResult(
        z=z, z_sigma=z_sigma, reconciled=rec, reconciled_sigma=rec_sigma, moved_sigma=moved,
        normalized_residual=nres, chi2=chi2, dof=dof, p_value=p_value, critical=critical,
        flags=flags, balance_chi2=bal_chi2, balance_figures=bal_n,
        max_balance_residual=g_res, success=bool(sol_success) and g_res < 1e-6,
        message=str(sol_message), iterations=int(sol_nit))


def _svd(a: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full SVD by LAPACK's divide and conquer, or, where that does not converge (it can
    on badly scaled matrices), by the slower QR iteration."""
    from scipy import linalg

    try:
        return linalg.svd(a, full_matrices=True)  # type: ignore[no-any-return]
    except linalg.LinAlgError:
        return linalg.svd(a, full_matrices=True, lapack_driver="gesvd")  # type: ignore[no-any-return]


def _null_space(a: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the null space of ``a`` (as :func:`_svd` falls back)."""
    from scipy import linalg

    try:
        return linalg.null_space(a)  # type: ignore[no-any-return]
    except linalg.LinAlgError:
        return linalg.null_space(a, lapack_driver="gesvd")  # type: ignore[no-any-return]


def _project(p: ReconcileProblem, z: np.ndarray, s: np.ndarray, g_scale: np.ndarray
             ) -> np.ndarray:
    """Newton projection of ``z`` onto the balances (minimum-norm steps, scaled)."""
    n = z.size
    for _ in range(20):
        if not p.balances.n_rows:
            break
        gv = p.balances.value(z) / g_scale
        if np.max(np.abs(gv)) < 1e-13:
            break
        jj = p.balances.jac(z) * s[None, :] / g_scale[:, None]
        free = (z > p.lower + 1e-12 * s) | (gv @ jj < 0)
        for _ in range(10):
            # a variable the step would push through a bound is held at it, and the step
            # taken again without it (else clipping leaves part of the residual each time)
            dz = np.zeros(n)
            dz[free] = np.linalg.lstsq(jj[:, free], -gv, rcond=None)[0]
            out = free & ((z + s * dz < p.lower - 1e-12 * s) | (z + s * dz > p.upper + 1e-12 * s))
            if not out.any():
                break
            free &= ~out
        z = np.clip(z + s * dz, p.lower, p.upper)
    return z


def _sequential(p: ReconcileProblem, s: np.ndarray, w: np.ndarray, lo: np.ndarray,
                hi: np.ndarray, w_inv: np.ndarray, g_scale: np.ndarray, fun: Any,
                params: np.ndarray, max_iter: int, *, monotone: bool = False
                ) -> tuple[np.ndarray, str, int, bool]:
    """Sequential QP from ``w`` (with ``monotone``, a point that meets the balances).

    Each step solves the problem linearised at the current point. The bilinear terms'
    second factors ``params`` (the uncertain process parameters) are then held at the
    step's values and the problem - now linear - is solved by HiGHS, so the balances hold
    exactly. From a point that meets the balances (and after the first step otherwise) a
    step that raises chi2 is halved - the parameters move half as far and the rest is
    solved again - until it does not, so chi2 falls from step to step; where no step
    lowers it, the point is the answer. With no free parameter one step is the answer."""
    message, it, ok = "no iterations", 0, False
    now = fun(w)
    for it in range(1, max_iter + 1):
        if params.size:
            w_new, message, ok = _qp_step(p, s, w, lo, hi, w_inv, g_scale, first=it == 1)
        else:                  # a linear problem: HiGHS's QP is the answer
            w_new, message, ok = _qp_step_highs(p, s, w, lo, hi, w_inv, g_scale)
        if not ok:
            ok = it > 1        # keep the last step that solved
            break
        lo_f, hi_f = lo.copy(), hi.copy()
        target = w_new[params].copy()
        checked = bool(params.size) and (monotone or it > 1)
        alpha, accepted, ok_h = 1.0, False, False
        while True:
            lo_f[params] = hi_f[params] = w[params] + alpha * (target - w[params])
            w_fix, message_h, ok_h = _qp_step_highs(p, s, w_new, lo_f, hi_f, w_inv, g_scale)
            if not ok_h:
                break
            if not checked or fun(w_fix) <= now * (1.0 + 1e-9):
                accepted = True
                break
            alpha /= 2.0
            if alpha < 1.0 / 64:
                break
        if accepted:
            w_new, message = w_fix, message_h
        elif ok_h:
            ok = True          # no step lowers chi2: this is the answer
            break
        elif params.size:
            ok = it > 1
            break
        step = float(np.max(np.abs(w_new - w))) if w.size else 0.0
        last, w = now, w_new
        now = fun(w)
        if not params.size or step < 1e-9 or abs(last - now) <= 1e-6 * max(now, 1.0):
            break
    return w, message, it, ok


def _linearised(p: ReconcileProblem, s: np.ndarray, w: np.ndarray, w_inv: np.ndarray,
                g_scale: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The step's problem in scaled variables ``w`` (z = s * w): weighted figure Jacobian
    ``jh`` [F, N] and residual ``r0`` [F]; scaled balance Jacobian ``jg`` [K, N] and the
    right-hand side ``rhs`` of ``jg @ w_new = rhs`` (the balances linearised at ``w``)."""
    z = s * w
    jh = p.figures.jac(z) * s[None, :] * w_inv[:, None]
    r0 = (p.figures.value(z) - p.reported) * w_inv
    if p.balances.n_rows:
        jg = p.balances.jac(z) * s[None, :] / g_scale[:, None]
        rhs = jg @ w - p.balances.value(z) / g_scale
    else:
        jg, rhs = np.zeros((0, w.size)), np.zeros(0)
    return jh, r0, jg, rhs


def _objective(jh: np.ndarray, r0: np.ndarray, w: np.ndarray,
               reg: float | np.ndarray = REGULARISE) -> tuple[np.ndarray, np.ndarray]:
    """``(Q, c)`` of ``1/2 w_new' Q w_new + c' w_new`` = ||jh (w_new - w) + r0||^2 plus the
    proximal term ``sum reg (w_new - w)^2`` (up to a constant; ``reg`` per variable or
    one for all)."""
    qd = 2.0 * (jh.T @ jh)
    q = qd + 2.0 * np.diag(np.broadcast_to(np.asarray(reg, float), (w.size,)))
    c = 2.0 * (jh.T @ r0) - q @ w
    return q, c


def _qp_step_lsq(p: ReconcileProblem, s: np.ndarray, w: np.ndarray, lo: np.ndarray,
                 hi: np.ndarray, w_inv: np.ndarray, g_scale: np.ndarray,
                 free: np.ndarray | None = None, reg: float | np.ndarray = REGULARISE
                 ) -> tuple[np.ndarray, str, bool]:
    """One sequential-QP step in scaled variables ``w`` (z = s * w): minimise
    ||W (h(z) + J_h dz - r)||^2 subject to g(z) + J_g dz = 0 and the bounds, solved as a
    bounded linear least-squares problem (SciPy's ``lsq_linear``, bounded-variable least
    squares) with the linearised balances as rows weighted PENALTY times a figure; the
    Newton projection after the iterations makes the balances exact."""
    from scipy import optimize

    jh, r0, jg, g_rhs = _linearised(p, s, w, w_inv, g_scale)
    n = w.size
    rr = np.sqrt(np.broadcast_to(np.asarray(reg, float), (n,)))
    a = np.vstack([jh, np.diag(rr), PENALTY * jg])
    b = np.concatenate([jh @ w - r0, rr * w, PENALTY * g_rhs])
    if free is None:
        free = np.ones(n, bool)
    free = free & (hi > lo)          # a variable whose bounds meet is held there
    w = np.where(hi > lo, w, lo)
    # held variables stay where they are: move them to the right-hand side
    b = b - a[:, ~free] @ w[~free]
    a = a[:, free]
    if not a.shape[1]:
        return w, "nothing free", True
    res = optimize.lsq_linear(a, b, bounds=(lo[free], hi[free]), method="bvls", tol=1e-14,
                              lsmr_tol=None, max_iter=None)
    if res.status < 0:
        return w, f"lsq_linear: {res.message}", False
    out = w.copy()
    out[free] = np.clip(res.x, lo[free], hi[free])
    return out, "optimal (bounded least squares)", True


def _qp_step_highs(p: ReconcileProblem, s: np.ndarray, w: np.ndarray, lo: np.ndarray,
                   hi: np.ndarray, w_inv: np.ndarray, g_scale: np.ndarray
                   ) -> tuple[np.ndarray, str, bool]:
    """One sequential-QP step in scaled variables ``w`` (z = s * w), solved by HiGHS's QP
    solver: minimise ||W (h(z) + J_h dz - r)||^2 subject to g(z) + J_g dz = 0 and the
    bounds. Falls back on :func:`_qp_step_lsq` when HiGHS does not finish."""
    import highspy
    from scipy import sparse

    jh, r0, jg, rhs = _linearised(p, s, w, w_inv, g_scale)
    n = w.size
    # HiGHS solves a convex QP to its optimum, so no proximal term is needed to converge:
    # with one, a flow that starts at zero could not grow in one step
    # in tonnes, not scaled units: a variable scaled small (it starts at 0) is not held
    # near its start by the term (its scale over a typical variable's, squared)
    typical = float(np.median(s))
    reg = POLISH_REGULARISE * (s / typical) ** 2
    q, c = _objective(jh, r0, w, reg)
    if p.tiebreak is not None:
        c = c + p.tiebreak * s
    lower_tri = sparse.tril(sparse.csc_matrix(q), format="csc")
    a = sparse.csc_matrix(jg)
    lp = highspy.HighsLp()
    lp.num_col_ = n
    lp.num_row_ = int(jg.shape[0])
    lp.col_cost_ = np.asarray(c, float)
    inf = highspy.kHighsInf
    lp.col_lower_ = np.where(np.isfinite(lo), lo, -inf)
    lp.col_upper_ = np.where(np.isfinite(hi), hi, inf)
    lp.row_lower_ = rhs
    lp.row_upper_ = rhs
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    hess = highspy.HighsHessian()
    hess.dim_ = n
    hess.format_ = highspy.HessianFormat.kTriangular
    hess.start_ = lower_tri.indptr
    hess.index_ = lower_tri.indices
    hess.value_ = lower_tri.data
    model = highspy.HighsModel()
    model.lp_ = lp
    model.hessian_ = hess
    with _quiet_stdout():
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("qp_iteration_limit", 200 * (n + int(jg.shape[0])) + 10000)
    h.passModel(model)
    h.run()
    status = h.getModelStatus()
    w_new = np.asarray(h.getSolution().col_value, float)
    ok_shape = w_new.size == n and bool(np.all(np.isfinite(w_new)))
    if status == highspy.HighsModelStatus.kOptimal and ok_shape:
        return np.clip(w_new, lo, hi), "optimal (HiGHS QP)", True
    if (status == highspy.HighsModelStatus.kSolveError and ok_shape
            and (not rhs.size or np.max(np.abs(jg @ w_new - rhs)) < 1e-5)):
        # HiGHS reports its optimum as an error when a few rows are off by more than its
        # tolerance (~1e-6 of their scale); the Newton projection afterwards removes that
        return np.clip(w_new, lo, hi), "optimal (HiGHS QP, rows to 1e-5)", True
    # the same problem by bounded least squares (with the same small proximal term: a
    # large one would hold the answer near where this step started)
    return _qp_step_lsq(p, s, w, lo, hi, w_inv, g_scale, reg=np.maximum(reg, 1e-12))


class _quiet_stdout:
    """Silence the banner HiGHS prints to file descriptor 1 when it is created."""

    def __enter__(self) -> None:
        sys.stdout.flush()
        self.saved = os.dup(1)
        self.null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(self.null, 1)

    def __exit__(self, *exc: object) -> None:
        os.dup2(self.saved, 1)
        os.close(self.saved)
        os.close(self.null)


def _qp_step(p: ReconcileProblem, s: np.ndarray, w: np.ndarray, lo: np.ndarray,
             hi: np.ndarray, w_inv: np.ndarray, g_scale: np.ndarray, first: bool = True
             ) -> tuple[np.ndarray, str, bool]:
    """One sequential-QP step in scaled variables ``w`` (z = s * w), solved by OSQP with
    solution polishing: minimise ||W (h(z) + J_h dz - r)||^2 subject to
    g(z) + J_g dz = 0 and the bounds. When OSQP does not solve the first step, SciPy's
    bounded least squares does; a later step that fails ends the iterations."""
    import osqp
    from scipy import sparse

    jh, r0, jg, rhs = _linearised(p, s, w, w_inv, g_scale)
    n = w.size
    q_dense, c = _objective(jh, r0, w)
    q = sparse.triu(sparse.csc_matrix(q_dense), format="csc")
    a = sparse.vstack([sparse.csc_matrix(jg), sparse.identity(n, format="csc")], format="csc")
    lo_all = np.concatenate([rhs, np.where(np.isfinite(lo), lo, -np.inf)])
    hi_all = np.concatenate([rhs, np.where(np.isfinite(hi), hi, np.inf)])
    solver = osqp.OSQP()
    solver.setup(P=q, q=c, A=a, l=lo_all, u=hi_all, verbose=False, polishing=True,
                 eps_abs=STEP_EPS, eps_rel=STEP_EPS, max_iter=50000, polish_refine_iter=50)
    res = solver.solve(raise_error=False)
    status = str(res.info.status)
    x = np.asarray(res.x, float) if res.x is not None else np.full(n, np.nan)
    if status.startswith("solved") and np.all(np.isfinite(x)):
        return np.clip(x, lo, hi), f"OSQP {status}", True
    if first:
        return _qp_step_lsq(p, s, w, lo, hi, w_inv, g_scale)
    return w, f"OSQP {status}", False


def _binding(p: ReconcileProblem, z: np.ndarray, s: np.ndarray, jg: np.ndarray,
             w_inv: np.ndarray, at_lower: np.ndarray, at_upper: np.ndarray) -> np.ndarray:
    """The bounds that bind at ``z``: those the least-squares step without bounds (on the
    balances' null space) would cross. A variable that only touches its bound (a zero
    multiplier, as when a flow is exactly 0 by the data) keeps its freedom and its sigma."""
    from scipy import linalg

    touching = at_lower | at_upper
    if not touching.any():
        return touching
    n = z.size
    basis = _null_space(jg * s[None, :]) if jg.size else np.eye(n)
    basis = basis * s[:, None]
    mw = (p.figures.jac(z) @ basis) * w_inv[:, None]
    r = (p.figures.value(z) - p.reported) * w_inv
    t = -linalg.pinv(mw) @ r if mw.size else np.zeros(basis.shape[1])
    dz = basis @ t
    tol = 1e-7 * s
    return (at_lower & (dz < -tol)) | (at_upper & (dz > tol))
