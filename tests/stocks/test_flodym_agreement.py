"""rareflow's dynamic stock models against flodym on the same inputs (1e-9 relative)."""

from __future__ import annotations

import numpy as np
import pytest

from rareflow.stocks import Lifetime, inflow_driven, stock_driven

fd = pytest.importorskip("flodym")

T = 25
S = 3
INFLOW_AT = ["start", "middle", "end"]

# (name, rareflow constructor, flodym class, {flodym name: rareflow name}, params [S, T])
_rng = np.random.default_rng(42)
_MEAN = 6.0 + 8.0 * _rng.random((S, T))
_SD = 1.0 + 3.0 * _rng.random((S, T))
_SHAPE = 1.2 + 2.0 * _rng.random((S, T))
_FIXED = np.round(3.0 + 8.0 * _rng.random((S, T)), 1)
DISTS = {
    "fixed": (Lifetime.fixed, fd.FixedLifetime, {"mean": ("years", _FIXED)}),
    "normal": (Lifetime.normal, fd.NormalLifetime, {"mean": ("mean", _MEAN), "std": ("sd", _SD)}),
    "folded_normal": (
        Lifetime.folded_normal,
        fd.FoldedNormalLifetime,
        {"mean": ("mean", _MEAN / 3), "std": ("sd", _SD)},
    ),
    "lognormal": (
        Lifetime.lognormal,
        fd.LogNormalLifetime,
        {"mean": ("mean", _MEAN), "std": ("sd", _SD)},
    ),
    "weibull": (
        Lifetime.weibull,
        fd.WeibullLifetime,
        {"weibull_shape": ("shape", _SHAPE), "weibull_scale": ("scale", _MEAN)},
    ),
}
# how parameters vary: scalar (shared matrix), by cohort only, by series and cohort
VARIATION = ["scalar", "cohort", "series_cohort"]


def _params(spec: dict, variation: str) -> tuple[dict, dict]:
    """(rareflow kwargs [..., cohort], flodym kwargs [t, s])."""
    rf, fl = {}, {}
    for fl_name, (rf_name, arr) in spec.items():
        if variation == "scalar":
            v = float(arr[0, 0])
            rf[rf_name], fl[fl_name] = v, v
        elif variation == "cohort":
            rf[rf_name] = arr[0]
            fl[fl_name] = np.repeat(arr[0][:, None], S, axis=1)
        else:
            rf[rf_name] = arr
            fl[fl_name] = arr.T.copy()
    return rf, fl


def _dims():
    return fd.DimensionSet(
        dim_list=[
            fd.Dimension(name="time", letter="t", items=list(range(2000, 2000 + T))),
            fd.Dimension(name="series", letter="s", items=list(range(S))),
        ]
    )


def _close(ours: np.ndarray, theirs: np.ndarray) -> None:
    scale = max(float(np.abs(theirs).max()), 1e-300)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12 * scale)


def _inflow() -> np.ndarray:
    rng = np.random.default_rng(7)
    years = np.arange(T)
    return (5.0 + years[None, :] * (1.0 + rng.random((S, 1)))) * (0.8 + 0.4 * rng.random((S, T)))


@pytest.mark.parametrize("variation", VARIATION)
@pytest.mark.parametrize("inflow_at", INFLOW_AT)
@pytest.mark.parametrize("dist", list(DISTS))
def test_inflow_driven_matches_flodym(dist: str, inflow_at: str, variation: str) -> None:
    make, fl_cls, spec = DISTS[dist]
    rf_p, fl_p = _params(spec, variation)
    inflow = _inflow()
    dims = _dims()
    lm = fl_cls(dims=dims, inflow_at=inflow_at, **fl_p)
    dsm = fd.InflowDrivenDSM(dims=dims, lifetime_model=lm)
    dsm.inflow.values[...] = inflow.T
    dsm.compute()

    r = inflow_driven(inflow, make(**rf_p), inflow_at=inflow_at)
    _close(r.stock, dsm.stock.values.T)
    _close(r.outflow, dsm.outflow.values.T)
    # flodym cohort tables are [t, c, s]; ours [s, t, c]
    _close(r.stock_by_cohort, np.moveaxis(dsm.get_stock_by_cohort(), -1, 0))
    _close(r.outflow_by_cohort, np.moveaxis(dsm.get_outflow_by_cohort(), -1, 0))


@pytest.mark.parametrize("variation", VARIATION)
@pytest.mark.parametrize("inflow_at", INFLOW_AT)
@pytest.mark.parametrize("dist", list(DISTS))
def test_stock_driven_matches_flodym(dist: str, inflow_at: str, variation: str) -> None:
    make, fl_cls, spec = DISTS[dist]
    rf_p, fl_p = _params(spec, variation)
    lt = make(**rf_p)
    # a growing stock: every year needs a positive inflow (no early retirement)
    stock = inflow_driven(_inflow(), lt, inflow_at=inflow_at).stock
    dims = _dims()
    lm = fl_cls(dims=dims, inflow_at=inflow_at, **fl_p)
    dsm = fd.StockDrivenDSM(dims=dims, lifetime_model=lm)
    dsm.stock.values[...] = stock.T
    dsm.compute()
    assert np.all(dsm.inflow.values >= 0)

    s = stock_driven(stock, lt, inflow_at=inflow_at)
    assert not s.early_retirement.any()
    _close(s.inflow, dsm.inflow.values.T)
    _close(s.outflow, dsm.outflow.values.T)
    _close(s.stock_by_cohort, np.moveaxis(dsm.get_stock_by_cohort(), -1, 0))
    _close(s.outflow_by_cohort, np.moveaxis(dsm.get_outflow_by_cohort(), -1, 0))


def test_many_series_by_group_matches_flodym() -> None:
    """Parameters per sector, inflow per region x sector: the grouped path."""
    n_reg, n_sec = 6, 2
    mean = np.array([[8.0], [17.0]])  # [sector, 1]
    sd = np.array([[2.0], [6.0]])
    rng = np.random.default_rng(3)
    inflow = rng.uniform(1.0, 5.0, (n_reg, n_sec, T))
    r = inflow_driven(inflow, Lifetime.normal(mean, sd), inflow_at="middle")
    dims = fd.DimensionSet(
        dim_list=[
            fd.Dimension(name="time", letter="t", items=list(range(T))),
            fd.Dimension(name="region", letter="r", items=list(range(n_reg))),
            fd.Dimension(name="sector", letter="g", items=list(range(n_sec))),
        ]
    )
    lm = fd.NormalLifetime(
        dims=dims,
        mean=np.broadcast_to(mean[:, 0], (T, n_reg, n_sec)).copy(),
        std=np.broadcast_to(sd[:, 0], (T, n_reg, n_sec)).copy(),
    )
    dsm = fd.InflowDrivenDSM(dims=dims, lifetime_model=lm)
    dsm.inflow.values[...] = np.moveaxis(inflow, -1, 0)
    dsm.compute()
    _close(r.stock, np.moveaxis(dsm.stock.values, 0, -1))
    _close(r.outflow, np.moveaxis(dsm.outflow.values, 0, -1))
    _close(r.stock_by_cohort, np.moveaxis(dsm.get_stock_by_cohort(), (0, 1), (-2, -1)))

    sdm = fd.StockDrivenDSM(dims=dims, lifetime_model=lm)
    sdm.stock.values[...] = np.moveaxis(r.stock, -1, 0)
    sdm.compute()
    s = stock_driven(r.stock, Lifetime.normal(mean, sd), inflow_at="middle")
    _close(s.inflow, np.moveaxis(sdm.inflow.values, 0, -1))
    _close(s.outflow, np.moveaxis(sdm.outflow.values, 0, -1))
    _close(s.outflow_by_cohort, np.moveaxis(sdm.get_outflow_by_cohort(), (0, 1), (-2, -1)))
