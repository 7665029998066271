"""The same inputs give bit-identical results whatever the chunk size and workers."""

from __future__ import annotations

import numpy as np

from rareflow.engines.network import simulate_network
from rareflow.engines.network.testing import three_region_case


def _fields(res):  # noqa: ANN001, ANN202
    return [res.cum_loss, res.cum_demand, res.first_short, res.last_short, res.deficit,
            res.monthly_short]


def test_chunks_and_workers_give_identical_results() -> None:
    rng = np.random.default_rng(7)
    inp = three_region_case(severity=rng.random(23), stockpile_t=rng.random(23) * 300)
    ref = simulate_network(inp, chunk=1000, workers=1, monthly=True)
    for chunk, workers in ((1, 1), (5, 1), (4, 2), (23, 2)):
        got = simulate_network(inp, chunk=chunk, workers=workers, monthly=True)
        for a, b in zip(_fields(ref), _fields(got), strict=True):
            assert a.tobytes() == b.tobytes()
