"""Distributions for uncertain scenario parameters: parsing, errors, sampling."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rareflow.errors import RareflowInputError
from rareflow.uncertainty import (
    Discrete,
    LogNormal,
    Normal,
    Pert,
    Triangular,
    Uniform,
    is_distribution_node,
    parse_distribution,
    sample_all,
)
from rareflow.units import parse


def months(v):
    return parse(v, "duration") * 12 if isinstance(v, str) else float(v)


def frac(v):
    return parse(v, "fraction")


def test_parse_each_kind_and_central():
    d = parse_distribution({"dist": "triangular", "low": "6 months", "mode": "1 yr",
                            "high": "24 months"}, months, "x")
    assert isinstance(d, Triangular) and d.central() == pytest.approx(12.0)
    d = parse_distribution({"dist": "uniform", "low": "20 %", "high": "60 %"}, frac, "x")
    assert isinstance(d, Uniform) and d.central() == pytest.approx(0.4)
    d = parse_distribution({"dist": "normal", "mean": 5, "sd": 1, "low": 3}, float, "x")
    assert isinstance(d, Normal) and d.central() == 5 and d.low == 3
    d = parse_distribution({"dist": "lognormal", "mean": 10, "sd": 5}, float, "x")
    assert isinstance(d, LogNormal) and d.central() == 10
    d = parse_distribution({"dist": "pert", "low": 0, "mode": 1, "high": 5}, float, "x")
    assert isinstance(d, Pert) and d.central() == 1
    d = parse_distribution({"dist": "discrete", "values": [0, 12, 24],
                            "weights": [0.2, 0.5, 0.3]}, float, "x")
    assert isinstance(d, Discrete) and d.central() == 12
    assert is_distribution_node({"dist": "pert"}) and not is_distribution_node({"a": 1})


@pytest.mark.parametrize(
    ("node", "fragment"),
    [
        ({"dist": "triangular", "low": 5, "mode": 3, "high": 4}, "low (5) must not exceed high"),
        ({"dist": "triangular", "low": 1, "mode": 9, "high": 4}, "mode (9) must lie between"),
        ({"dist": "uniform", "low": 2, "high": 1}, "low (2) must not exceed high (1)"),
        ({"dist": "normal", "mean": 1, "sd": 0}, "sd must be > 0"),
        ({"dist": "lognormal", "mean": 1, "sd": -1}, "sd must be > 0"),
        ({"dist": "lognormal", "mean": 0, "sd": 1}, "mean must be > 0"),
        ({"dist": "discrete", "values": [1, 2], "weights": [0.5, 0.6]}, "sum to 1.1"),
        ({"dist": "discrete", "values": [1, 2], "weights": [1.0]}, "2 values but 1 weights"),
        ({"dist": "gamma", "k": 1}, "unknown distribution 'gamma'; allowed: uniform"),
        ({"dist": "pert", "low": 1, "high": 2}, "missing mode"),
        ({"dist": "uniform", "low": 1, "high": 2, "mode": 1}, "unknown key(s) mode"),
        ({"dist": "uniform", "low": "5 kg", "high": "6 months"}, "low: '5 kg' is a mass"),
    ],
)
def test_invalid_parameters_name_where_and_what(node, fragment):
    with pytest.raises(RareflowInputError) as e:
        parse_distribution(node, months, "stress.restrictions.cn.licence_delay")
    (p,) = e.value.problems
    assert p.path == "stress.restrictions.cn.licence_delay"
    assert fragment in p.message


def test_sampling_matches_laws_and_is_reproducible():
    rng = np.random.default_rng(0)
    n = 20000
    tri = Triangular(1, 2, 6).sample(rng, n)
    assert stats.kstest(tri, stats.triang(c=0.2, loc=1, scale=5).cdf).pvalue > 0.01
    pert = Pert(0, 1, 5).sample(rng, n)
    assert pert.mean() == pytest.approx((0 + 4 * 1 + 5) / 6, rel=0.01)
    ln = LogNormal(10, 5).sample(rng, n, method="mc")
    assert ln.mean() == pytest.approx(10, rel=0.03) and ln.std() == pytest.approx(5, rel=0.08)
    tn = Normal(0, 1, -0.5, 2.0).sample(rng, n)
    assert tn.min() >= -0.5 and tn.max() <= 2.0
    disc = Discrete((0.0, 12.0, 24.0), (0.2, 0.5, 0.3)).sample(rng, n)
    np.testing.assert_allclose([np.mean(disc == v) for v in (0, 12, 24)], [0.2, 0.5, 0.3],
                               atol=1e-3)  # LHS: strata make the frequencies exact to 1/n
    u = Uniform(0, 1).sample(np.random.default_rng(1), 100)
    assert sorted((u * 100).astype(int).tolist()) == list(range(100))  # one per stratum
    d = {"b": Uniform(0, 1), "a": Triangular(0, 1, 2)}
    s1, s2 = sample_all(d, 10, seed=7), sample_all(dict(reversed(d.items())), 10, seed=7)
    for k in d:
        np.testing.assert_array_equal(s1[k], s2[k])
