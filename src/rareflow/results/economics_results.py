"""Plant economics (``rareflow.economics``) behind the common results interface: each
facility's cash flows, financing and government contracts over Monte Carlo price paths
(the figures ``rareflow economics`` prints and writes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rareflow.results.base import ResultsBase, clean_json

SAMPLE_UNITS = {"npv": "USD", "irr": "1/yr", "payback": "yr", "dscr": "1", "cost": "USD",
                "gov": "USD", "pv": "USD", "paying": "1", "years": "yr"}


def _sample_unit(column: str) -> str:
    if column in ("sample", "facility"):
        return ""
    for key, unit in SAMPLE_UNITS.items():
        if key in column:
            return unit
    return ""


def _flow_unit(column: str) -> str:
    if column in ("year",):
        return "year"
    if column == "facility":
        return ""
    if "rate" in column or "share" in column or "dscr" in column:
        return "1"
    return "USD/yr"


@dataclass
class FacilityEconomics:
    """One facility's analysis: its summary, compiled case and engine result."""

    facility: str
    summary: dict[str, Any]
    case: Any
    result: Any


@dataclass
class EconomicsResults(ResultsBase):
    """Every facility analysed (in the order of ``economics.facilities``).

    Tables: ``cash_flows`` (base case, one row per facility and year: flows in USD/yr and
    each loan's schedule) and ``samples`` (one row per facility and price path: NPV, IRR,
    payback, DSCR, the government's cost of a floor)."""

    scenario: Any
    facilities: dict[str, FacilityEconomics]
    samples: int
    seed: int
    engine: str = field(default="economics", init=False)

    @property
    def scenario_name(self) -> str:  # type: ignore[override]
        return str(self.scenario.name)

    @property
    def TABLE_UNITS(self) -> dict[str, dict[str, str]]:  # type: ignore[override]  # noqa: N802
        flows = self._table_cash_flows()
        per = self._table_samples()
        return {"cash_flows": {c: _flow_unit(c) for c in flows.columns},
                "samples": {c: _sample_unit(c) for c in per.columns}}

    def _table_cash_flows(self) -> Any:
        import numpy as np
        import pandas as pd

        frames = []
        for fid, fe in self.facilities.items():
            res = fe.result
            df = pd.DataFrame({"facility": fid, "year": res.years,
                               **{k: np.asarray(v, dtype=float) for k, v in res.base.items()}})
            for lid, sch in res.loans.items():
                for k, v in sch.as_dict().items():
                    df[f"loan_{lid}_{k}"] = v
            frames.append(df)
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def _table_samples(self) -> Any:
        import numpy as np
        import pandas as pd

        frames = [pd.DataFrame({"facility": fid, "sample": np.arange(self.samples),
                                **{k: np.asarray(v, dtype=float)
                                   for k, v in fe.result.samples.items()}})
                  for fid, fe in self.facilities.items()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def summary(self) -> dict[str, Any]:
        """``{"scenario", "seed", "facilities": {ID: economics_summary.json of ID}}``."""
        return clean_json({"scenario": self.scenario.name, "seed": self.seed,  # type: ignore[no-any-return]
                           "samples": self.samples, "engine": self.engine,
                           "scenario_sha256": self.scenario.content_hash(),
                           "facilities": {f: fe.summary for f, fe in self.facilities.items()}})

    def to_xarray(self) -> Any:
        """Dataset on ``facility`` and ``sample`` (Monte Carlo metrics) and ``facility``
        and ``year`` (base-case flows)."""
        import xarray as xr

        per = self._table_samples()
        flows = self._table_cash_flows()
        ds = xr.Dataset()
        if len(per):
            ds = ds.merge(per.set_index(["facility", "sample"]).to_xarray())
        if len(flows):
            f = flows.set_index(["facility", "year"]).to_xarray()
            ds = ds.merge(f.rename({k: f"base_{k}" for k in f.data_vars}))
        for v in ds.data_vars:
            name = str(v)
            ds[v].attrs["units"] = (_flow_unit(name[len("base_"):]) if name.startswith("base_")
                                    else _sample_unit(name))
        ds.attrs.update({"engine": self.engine, "scenario": self.scenario_name,
                         "seed": self.seed, "samples": self.samples,
                         "scenario_sha256": self.scenario.content_hash()})
        return ds


def economics(scenario: Any, *, facility: str | None = None, samples: int = 2000,
              seed: int = 42, price_model: str | None = None) -> EconomicsResults:
    """Analyse a scenario's ``economics:`` section; see :func:`rareflow.economics`."""
    from rareflow.errors import RareflowInputError
    from rareflow.model.plants import economics_section

    section = economics_section(scenario)   # completed from the facilities' plant figures
    doc = scenario.document
    if section is None:
        raise RareflowInputError.single(
            "the scenario has no 'economics:' section (bundled analyses: vulcan-10k, "
            "reelement-80m, mp-price-floor)", file=doc.file, path="economics")
    if not isinstance(samples, int) or samples < 1:
        raise RareflowInputError.single(f"must be an integer >= 1 (got {samples!r})",
                                        path="samples")

    def where(parts: Any) -> tuple[str, int | None]:
        return doc.file_of(tuple(parts)), doc.line_of(tuple(parts))

    chosen = [facility] if facility is not None else list(section.facilities)
    if not chosen:
        raise RareflowInputError.single("the economics section has no facilities",
                                        path="economics.facilities")
    if price_model is not None:
        section = _with_price_model(section, price_model, where)
    done = {f: _analyse(section, where, f, scenario.name, samples, seed, price_model)
            for f in chosen}
    return EconomicsResults(scenario=scenario, facilities=done, samples=samples, seed=seed)


def _with_price_model(section: Any, price_model: str, where: Any) -> Any:
    from rareflow.errors import RareflowInputError

    if price_model not in ("gbm", "mean_reverting"):
        raise RareflowInputError.single(
            f"must be gbm or mean_reverting (got {price_model!r})", path="price_model")
    pm = {}
    for k, ix in section.price_model.items():
        if price_model == "mean_reverting" and ix.speed is None:
            f, line = where(("economics", "price_model", k))
            raise RareflowInputError.single(
                f"index '{k}' has no 'speed' for a mean-reverting model",
                file=f, line=line, path=f"economics.price_model.{k}.speed")
        pm[k] = ix.model_copy(update={"model": price_model})
    return section.model_copy(update={"price_model": pm})


def _analyse(section: Any, where: Any, facility: str, scenario: str, samples: int, seed: int,
             price_model: str | None) -> FacilityEconomics:
    import numpy as np

    from rareflow.engines.economics.analysis import run_case
    from rareflow.engines.economics.compile import compile_case
    from rareflow.scenario.schema_economics import iter_figures, unlabelled_figures

    case = compile_case(section, facility, where=where)
    res = run_case(case, n_samples=samples, rng=np.random.default_rng(seed))
    s = dict(res.summary)
    s["scenario"] = scenario
    s["seed"] = seed
    s["price_model_override"] = price_model
    prefixes = (f"facilities.{facility}.", "price_model.", "horizon", "government_discount_rate")
    related = {g: {k for k, v in getattr(section, g).items()
                   if (getattr(v, "borrower", None) or getattr(v, "facility", None)) == facility}
               for g in ("loans", "equity", "warrants", "contracts")}
    provenance = {}
    for path, fig in iter_figures(section):
        if path.startswith(prefixes) or any(path.startswith(f"{g}.{k}.")
                                            for g, ks in related.items() for k in ks):
            provenance[path] = fig.provenance()
    s["provenance"] = provenance
    s["unlabelled_figures"] = unlabelled_figures(section)
    return FacilityEconomics(facility=facility, summary=s, case=case, result=res)
