"""Pin BLAS/OpenMP threads around small numeric kernels.

The stock kernels are many small matrix products and triangular solves: a multithreaded BLAS
gains nothing on them and, on a machine whose other cores are busy, loses a lot waiting for
its threads (issue 8: 226x/14x against flodym quiet, 35x/6.8x with one core busy). Inside
:func:`single_blas_thread` BLAS uses one thread (``threadpoolctl``); without threadpoolctl
it does nothing, and so it does with ``RAREFLOW_NO_THREAD_PIN=1`` in the environment (for
benchmarking the unpinned kernels).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_local = threading.local()
_controller: Any = None


def _get_controller() -> Any:
    global _controller
    if _controller is None:
        import os

        if os.environ.get("RAREFLOW_NO_THREAD_PIN", "") not in ("", "0"):
            _controller = False
            return _controller
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a dependency
            _controller = False
        else:
            _controller = ThreadpoolController()
    return _controller


@contextmanager
def single_blas_thread() -> Iterator[None]:
    """BLAS and OpenMP limited to one thread inside (re-entrant; cheap when nested)."""
    depth = getattr(_local, "depth", 0)
    ctl = _get_controller() if depth == 0 else None
    _local.depth = depth + 1
    try:
        if ctl:
            with ctl.limit(limits=1):
                yield
        else:
            yield
    finally:
        _local.depth = depth


def single_threaded(func: F) -> F:
    """Decorator form of :func:`single_blas_thread`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with single_blas_thread():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
