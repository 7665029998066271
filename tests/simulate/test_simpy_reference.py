"""The rareflow engine and an event-based SimPy model of the same small system agree."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from simpy_reference import SmallCase, run_many, to_stress_model  # noqa: E402

from rareflow.engines.simulate import simulate  # noqa: E402


def cases(n: int, seed: int) -> list[SmallCase]:
    rng = np.random.default_rng(seed)
    sectors = ("defence", "wind") if seed % 2 else ()  # structure shared by the batch
    out = []
    for _ in range(n):
        start = int(rng.integers(0, 20))
        out.append(SmallCase(
            months=36, origins=("CN", "AU", "US"), capacity=(1000.0, 30.0, 12.0),
            other_load=(900.0, 5.0, 0.0), sourcing=(0.8, 0.15, 0.05), redirect_share=0.5,
            sectors=("defence", "ev", "wind", "other"), demand=(5.0, 50.0, 25.0, 20.0),
            priority=(0, 1, 1, 2), embargo_origins=("CN",), embargo_start=start,
            embargo_end=start + int(rng.integers(0, 18)), severity=float(rng.random()),
            licence_delay=int(rng.integers(0, 4)),
            stock_initial=float(rng.random() * 300), stock_max_draw=float(rng.random() * 60 + 5),
            stock_target=float(rng.random() * 300), stock_refill_rate=float(rng.random() * 10),
            stock_sectors=sectors,
        ))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_engine_equals_simpy(seed):
    cs = cases(25, seed)
    ref = run_many(cs)
    r = simulate(to_stress_model(cs), full=True, chunk_size=7)
    short = r.full["shortfall"][:, :, 0, :, 0]
    stock = r.full["stockpile"][:, :, 0]
    for i, ref_i in enumerate(ref):
        np.testing.assert_allclose(short[i], ref_i["shortfall"], rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(stock[i], ref_i["stock"], rtol=1e-12, atol=1e-9)
    assert short.sum() > 0  # the cases do produce shortfalls
