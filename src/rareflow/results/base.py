"""One results interface for every engine.

Whatever ran (``rareflow.run``, ``stress``, ``recycling``, ``plan``, ``economics``), its
result answers the same five calls:

* ``to_xarray()``: an ``xarray.Dataset`` on named dimensions, every variable with a
  ``units`` attribute;
* ``table(name)``: a tidy ``pandas.DataFrame`` (``table_names`` lists them; the units of
  its columns are ``units(name)``);
* ``to_netcdf(path)``: the Dataset written atomically (netCDF, readable with
  ``xarray.open_dataset``);
* ``to_parquet(folder)``: every table as Parquet with its column units in the file's
  metadata (key :data:`rareflow.results.io.UNITS_KEY`) and ``summary.json``;
* ``summary()``: the headline figures as a JSON-ready dict.

:class:`EngineResults` is the protocol (what a sweep or a report may rely on);
:class:`ResultsBase` implements the file-writing half from the other three.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class EngineResults(Protocol):
    """What every engine's result offers."""

    engine: str

    @property
    def table_names(self) -> tuple[str, ...]: ...

    def to_xarray(self) -> Any: ...

    def table(self, name: str) -> Any: ...

    def units(self, name: str) -> dict[str, str]: ...

    def summary(self) -> dict[str, Any]: ...

    def to_netcdf(self, path: str | Path) -> Path: ...

    def to_parquet(self, folder: str | Path) -> dict[str, Path]: ...


class ResultsBase:
    """Shared implementation: a subclass defines ``engine``, ``TABLE_UNITS`` (table ->
    column -> unit), ``_table_<name>()``, ``to_xarray()`` and ``summary()``, and
    ``scenario_name``."""

    engine: str = ""
    TABLE_UNITS: dict[str, dict[str, str]] = {}
    scenario_name: str = ""

    @property
    def table_names(self) -> tuple[str, ...]:
        return tuple(self.TABLE_UNITS)

    def units(self, name: str) -> dict[str, str]:
        """Column -> unit of table ``name`` (``""``: a label; ``"1"``: a share or ratio)."""
        self._known(name)
        return dict(self.TABLE_UNITS[name])

    def table(self, name: str) -> Any:
        """A tidy pandas DataFrame; the units of its columns are :meth:`units`."""
        self._known(name)
        return getattr(self, f"_table_{name}")()

    def _known(self, name: str) -> None:
        if name not in self.TABLE_UNITS:
            raise KeyError(f"unknown table '{name}' of the {self.engine} results (known: "
                           f"{', '.join(self.table_names) or 'none'})")

    def to_netcdf(self, path: str | Path) -> Path:
        """Write :meth:`to_xarray` to ``path`` atomically; returns the path."""
        return write_netcdf(self.to_xarray(), path)  # type: ignore[attr-defined]

    def to_parquet(self, folder: str | Path) -> dict[str, Path]:
        """Write every table (``NAME.parquet``, units in the metadata) and ``summary.json``
        into ``folder`` (created if needed; files are replaced one by one, atomically)."""
        from rareflow.results.io import atomic_write_json

        out = Path(folder)
        written: dict[str, Path] = {}
        for name in self.table_names:
            written[name] = out / f"{name}.parquet"
            write_table(written[name], self.table(name), self.units(name), engine=self.engine,
                        scenario=self.scenario_name)
        written["summary"] = out / "summary.json"
        atomic_write_json(written["summary"], self.summary(),  # type: ignore[attr-defined]
                          default=_json_default)
        return written


def write_table(path: str | Path, df: Any, units: dict[str, str], *, engine: str = "",
                scenario: str = "", extra: dict[str, str] | None = None) -> None:
    """One table as Parquet, with ``rareflow.units`` (column -> unit, JSON) in its
    metadata beside the engine and scenario names."""
    from rareflow.results.io import UNITS_KEY, atomic_write_parquet

    meta = {UNITS_KEY: json.dumps({c: units.get(c, "") for c in df.columns}),
            "rareflow.engine": engine, "rareflow.scenario": scenario, **(extra or {})}
    atomic_write_parquet(path, df, meta)


def write_netcdf(ds: Any, path: str | Path) -> Path:
    """``ds`` as a netCDF file written atomically (whatever backend xarray has: netCDF4,
    h5netcdf or scipy's netCDF3); attributes are made storable first (booleans as
    integers, None and mappings as text)."""
    from rareflow.results.io import atomic_write_bytes

    path = Path(path)
    ds = ds.copy(deep=False)
    ds.attrs = _storable_attrs(ds.attrs)
    for v in [*ds.data_vars, *ds.coords]:
        ds[v].attrs = _storable_attrs(ds[v].attrs)
        if ds[v].dtype == bool:
            ds[v] = ds[v].astype("int8")
            ds[v].attrs["rareflow_dtype"] = "bool"
    try:
        import netCDF4  # noqa: F401
        engine = "netcdf4"
    except ImportError:
        try:
            import h5netcdf  # noqa: F401
            engine = "h5netcdf"
        except ImportError:
            engine = "scipy"
    if engine == "scipy":
        for v in ds.data_vars:
            if ds[v].dtype.kind in "iu" and ds[v].dtype.itemsize > 4:
                ds[v] = ds[v].astype("int32") if _fits_int32(ds[v]) else ds[v].astype("float64")
        data = ds.to_netcdf(engine="scipy")
        atomic_write_bytes(path, bytes(data))
        return path
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine=engine)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _fits_int32(da: Any) -> bool:
    import numpy as np

    if da.size == 0:
        return True
    info = np.iinfo(np.int32)
    return bool(da.min() >= info.min and da.max() <= info.max)


def _storable_attrs(attrs: dict[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        if isinstance(v, bool):
            out[str(k)] = int(v)
        elif v is None:
            out[str(k)] = ""
        elif isinstance(v, float) and not math.isfinite(v):
            out[str(k)] = repr(v)
        elif isinstance(v, int | float | str):
            out[str(k)] = v
        else:
            out[str(k)] = json.dumps(v, default=_json_default)
    return out


def _json_default(x: Any) -> Any:
    import numpy as np

    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    return str(x)


def clean_json(obj: Any) -> Any:
    """``obj`` with numpy scalars as Python numbers, tuples as lists, non-finite floats as
    None and mapping keys as text: what ``json.dumps(..., allow_nan=False)`` accepts."""
    import numpy as np

    if isinstance(obj, dict):
        return {str(k): clean_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [clean_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return clean_json(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    return str(obj)
