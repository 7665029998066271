"""Event-based reference of the small stress model, written with SimPy.

This is how an analyst would otherwise write the model: one SimPy environment per sample,
a process per origin shipping each month into the destination's inbound container, an
embargo / licence process switching the trade on and off and holding shipments back, and
a demand process that serves sectors by priority tier, then draws the stockpile, then
refills it from what is left. Scalars only, one sample at a time.

Scope (enough to cross-check :func:`rareflow.engines.simulate.simulate`): one
destination, one material, several origins with constant capacity, other load and
sourcing share, one restriction (severity, licence delay) on a set of origins, sectors
with priority tiers and constant demand, redirect of spare capacity, one shared
stockpile (initial, max draw, target, refill rate, eligible sectors).

:func:`to_stress_model` builds the equivalent :class:`~rareflow.engines.simulate.StressModel`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

INF = float("inf")


@dataclass(frozen=True)
class SmallCase:
    """One sample of the small model (all flows t/month, months as ints)."""

    months: int
    origins: tuple[str, ...]
    capacity: tuple[float, ...]  # per origin
    other_load: tuple[float, ...]  # per origin
    sourcing: tuple[float, ...]  # per origin, sums to 1
    redirect_share: float
    sectors: tuple[str, ...]
    demand: tuple[float, ...]  # per sector
    priority: tuple[int, ...]  # per sector
    embargo_origins: tuple[str, ...]
    embargo_start: int
    embargo_end: int
    severity: float = 1.0
    licence_delay: int = 0
    stock_initial: float = 0.0
    stock_max_draw: float = INF
    stock_target: float | None = None
    stock_refill_rate: float = INF
    stock_sectors: tuple[str, ...] = ()


def _tier_share(avail: float, needs: list[float], priority: tuple[int, ...]) -> list[float]:
    give = [0.0] * len(needs)
    for tier in sorted(set(priority)):
        members = [k for k, p in enumerate(priority) if p == tier]
        tn = sum(needs[k] for k in members)
        if tn <= 0:
            continue
        frac = min(avail / tn, 1.0)
        for k in members:
            give[k] = needs[k] * frac
        avail = avail - min(avail, tn)
    return give


def run_case(case: SmallCase) -> dict[str, np.ndarray]:
    """Simulate one sample; returns shortfall [month, sector] and stock [month] (t)."""
    env = simpy.Environment()
    total_demand = sum(case.demand)
    inbound = simpy.Container(env, init=0.0)
    held = simpy.Container(env, init=0.0)
    target = case.stock_initial if case.stock_target is None else case.stock_target
    cap_stock = max(target, case.stock_initial, 1e-300) * 2 + 1.0
    stock = simpy.Container(env, capacity=cap_stock, init=case.stock_initial)
    state = {"active": False, "hold": False}
    K = len(case.sectors)
    shortfall = np.zeros((case.months, K))
    stock_hist = np.zeros(case.months)
    eligible = [(not case.stock_sectors) or (s in case.stock_sectors) for s in case.sectors]
    redirect_pot = [0.0]

    def policy() -> simpy.events.Event:
        # at the start of each month (priority: before shipments) update the regime
        while True:
            t = int(env.now)
            state["active"] = case.embargo_start <= t < case.embargo_end
            state["hold"] = state["active"] and t < case.embargo_start + case.licence_delay
            if case.licence_delay > 0 and t == case.embargo_start + case.licence_delay:
                if held.level > 0:
                    amount = held.level
                    yield held.get(amount)
                    yield inbound.put(amount)
            yield env.timeout(1)

    def origin(i: int) -> simpy.events.Event:
        yield env.timeout(0.1)
        while True:
            load = case.other_load[i] + case.sourcing[i] * total_demand
            frac = min(case.capacity[i] / load, 1.0) if load > 0 else 1.0
            ship = case.sourcing[i] * total_demand * frac
            spare = max(case.capacity[i] - load, 0.0)
            restricted = case.origins[i] in case.embargo_origins
            passing = 1.0
            if restricted and state["active"]:
                stopped = ship * case.severity
                rest = ship - stopped
                passing = 0.0  # a restricted origin redirects nothing to the destination
                if state["hold"]:
                    if rest > 0:
                        yield held.put(rest)
                    ship = 0.0
                else:
                    ship = rest
            if ship > 0:
                yield inbound.put(ship)
            redirect_pot[0] += case.redirect_share * spare * passing
            yield env.timeout(1)

    def market() -> simpy.events.Event:
        yield env.timeout(0.5)
        while True:
            t = int(env.now)
            pool = inbound.level
            gap = max(total_demand - pool, 0.0)
            redirect = min(gap, redirect_pot[0])
            extra = redirect_pot[0] - redirect
            redirect_pot[0] = 0.0
            pool += redirect
            if inbound.level > 0:
                yield inbound.get(inbound.level)
            alloc = _tier_share(pool, list(case.demand), case.priority)
            surplus = max(pool - sum(alloc), 0.0) + extra
            unmet = [d - a for d, a in zip(case.demand, alloc, strict=True)]
            # draw the stockpile
            avail = min(stock.level, case.stock_max_draw)
            needs = [u if e else 0.0 for u, e in zip(unmet, eligible, strict=True)]
            give = _tier_share(avail, needs, case.priority)
            drawn = sum(give)
            if drawn > 0:
                yield stock.get(min(drawn, stock.level))
            unmet = [u - g for u, g in zip(unmet, give, strict=True)]
            # refill
            want = min(case.stock_refill_rate, max(target - stock.level, 0.0))
            take = min(want, surplus)
            if take > 0:
                yield stock.put(take)
            shortfall[t] = unmet
            stock_hist[t] = stock.level
            yield env.timeout(1)

    env.process(policy())
    for i in range(len(case.origins)):
        env.process(origin(i))
    env.process(market())
    env.run(until=case.months)
    return {"shortfall": shortfall, "stock": stock_hist}


def run_many(cases: list[SmallCase]) -> list[dict[str, np.ndarray]]:
    """One SimPy environment per sample, one after the other (the analyst's loop)."""
    return [run_case(c) for c in cases]


def to_stress_model(cases: list[SmallCase]):  # -> StressModel
    """The rareflow StressModel of ``cases``: structure (origins, capacities, sourcing,
    sectors, demand, priorities, restricted origins, stock sectors) is taken from the first
    case and must be shared; event and stock parameters may differ per sample."""
    from rareflow.engines.simulate import Restriction, Stockpile, StressModel

    c0 = cases[0]
    T, O, K = c0.months, len(c0.origins), len(c0.sectors)

    def col(name: str) -> np.ndarray:
        return np.array([getattr(c, name) for c in cases], dtype=float)

    restr = (
        Restriction(
            "embargo", ("m",), start=col("embargo_start").astype(int),
            end=col("embargo_end").astype(int), severity=col("severity"),
            licence_delay=col("licence_delay").astype(int), origins=c0.embargo_origins,
        ),
    ) if c0.embargo_origins else ()
    targets = np.array([c.stock_initial if c.stock_target is None else c.stock_target
                        for c in cases])
    return StressModel(
        origins=c0.origins, destinations=("dest",), sectors=c0.sectors, materials=("m",),
        n_samples=len(cases),
        capacity=np.broadcast_to(np.array(c0.capacity)[None, :, None], (T, O, 1)),
        other_load=np.broadcast_to(np.array(c0.other_load)[None, :, None], (T, O, 1)),
        demand=np.broadcast_to(np.array(c0.demand)[None, None, :, None], (T, 1, K, 1)),
        sourcing=np.array(c0.sourcing)[None, :, None],
        priority=np.array(c0.priority, dtype=np.int64),
        redirect_share=c0.redirect_share,
        restrictions=restr,
        stockpiles=(Stockpile("stock", "dest", "m", initial=col("stock_initial"),
                              sectors=c0.stock_sectors, max_draw=col("stock_max_draw"),
                              target=targets, refill_rate=col("stock_refill_rate"),
                              strategic=True),),
    )
