"""The run store and sweeps: many runs written as they finish, read back with DuckDB.

>>> from rareflow.store import open_store
>>> store = open_store("sweep-store")                          # doctest: +SKIP
>>> store.runs()                                                # doctest: +SKIP
>>> store.query("SELECT scenario, sum(imports_t) FROM flows JOIN runs USING (run_id) "
...             "GROUP BY scenario")                            # doctest: +SKIP

See :mod:`rareflow.store.store` (layout, atomic writes), :mod:`rareflow.store.sweep`
(sweep files), :mod:`rareflow.store.execute` (running a sweep) and
:mod:`rareflow.store.answers` (crossing points).
"""

from __future__ import annotations

from rareflow.store.store import Store, open_store

__all__ = ["Store", "open_store"]
