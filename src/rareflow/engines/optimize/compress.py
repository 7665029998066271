"""Exact scenario compression, year by year.

The operation stage has no coupling between years (no stocks carried over), so in a
given year two disruption scenarios with identical data (here: the same import
availability) have identical operating problems given the shared build decisions. They
can be merged into one copy weighted by the sum of their probabilities; the optimum (and
the objective) is unchanged. With disruptions that last a few years, most scenarios equal
the base case in most years, so the LP shrinks several-fold.

After the solve, per-scenario arrays are expanded back; duals of a merged copy are split
among its members in proportion to their probabilities (a valid dual of the full LP).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import xarray as xr

from rareflow.dims import SCENARIO, YEAR
from rareflow.engines.optimize.inputs import PlanInputs


def compress_scenarios(p: PlanInputs) -> tuple[PlanInputs, np.ndarray]:
    """Merge scenarios with identical data, year by year.

    Parameters
    ----------
    p : prepared PlanInputs (probability [scenario]).

    Returns
    -------
    (compressed inputs, mapping) where ``mapping[s, y]`` is the copy (index on the new
    ``scenario`` dim, labelled ``copy0``, ``copy1``...) that stands for original scenario
    ``s`` in year ``y``. The compressed probability has dims [scenario, year]; copies with
    probability 0 are masked out of the model.
    """
    av = p.import_availability.transpose(SCENARIO, ..., YEAR)
    vals = av.values
    S, Y = vals.shape[0], vals.shape[-1]
    prob = p.probability.values
    mapping = np.zeros((S, Y), dtype=int)
    reps: list[list[int]] = []
    for y in range(Y):
        cols = vals[..., y].reshape(S, -1)
        seen: list[int] = []
        for s in range(S):
            for k, r in enumerate(seen):
                if np.array_equal(cols[s], cols[r]):
                    mapping[s, y] = k
                    break
            else:
                mapping[s, y] = len(seen)
                seen.append(s)
        reps.append(seen)
    K = max(len(r) for r in reps)
    new_av = np.empty((K, *vals.shape[1:]))
    new_p = np.zeros((K, Y))
    for y in range(Y):
        for k in range(K):
            rep = reps[y][k] if k < len(reps[y]) else reps[y][0]
            new_av[k, ..., y] = vals[rep, ..., y]
        for s in range(S):
            new_p[mapping[s, y], y] += prob[s]
    labels = [f"copy{k}" for k in range(K)]
    years = p.demand[YEAR].values
    av_da = xr.DataArray(new_av, dims=av.dims,
                         coords={**{d: av[d].values for d in av.dims if d != SCENARIO},
                                 SCENARIO: labels})
    p_da = xr.DataArray(new_p, coords={SCENARIO: labels, YEAR: years}, dims=[SCENARIO, YEAR])
    order = p.import_availability.dims
    return replace(p, import_availability=av_da.transpose(*order), probability=p_da), mapping


def expand(a: xr.DataArray, mapping: np.ndarray, scenarios: xr.DataArray,
           probability: xr.DataArray | None = None,
           copy_probability: xr.DataArray | None = None) -> xr.DataArray:
    """Expand an array on the compressed ``scenario`` dim back to the original scenarios.

    With ``probability`` (original, [scenario]) and ``copy_probability`` ([scenario, year]
    of the copies) the values are split in proportion (for duals); otherwise copied.
    """
    if SCENARIO not in a.dims:
        return a
    dims = a.dims
    b = a.transpose(SCENARIO, ..., YEAR)
    v = b.values
    S, Y = mapping.shape
    idx = mapping.reshape((S,) + (1,) * (v.ndim - 2) + (Y,))
    idx = np.broadcast_to(idx, (S, *v.shape[1:]))
    out = np.take_along_axis(v, idx, axis=0)
    if probability is not None and copy_probability is not None:
        ps = probability.values.reshape((S,) + (1,) * (v.ndim - 1))
        pc = copy_probability.transpose(SCENARIO, YEAR).values
        pk = np.take_along_axis(pc, mapping, axis=0).reshape((S,) + (1,) * (v.ndim - 2) + (Y,))
        with np.errstate(invalid="ignore", divide="ignore"):
            out = out * np.where(pk > 0, ps / pk, 0.0)
    coords = {d: b[d] for d in b.dims if d != SCENARIO}
    coords[SCENARIO] = scenarios.values
    res = xr.DataArray(out, dims=b.dims, coords=coords, name=a.name)
    return res.transpose(*dims)
