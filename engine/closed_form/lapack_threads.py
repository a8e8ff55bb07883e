"""LAPACK calls side by side: each in its own thread, with fewer BLAS threads each.

JAX runs its CPU eigendecompositions through SciPy's OpenBLAS, which by default spreads one
call over every core and then keeps its helper threads spinning for a while. Two kernels
eigendecomposed one after the other on 2 cores therefore cost two multi-threaded calls
(about 20 ms each at n = 500 here) plus the spinning that slows the XLA work after them;
two single-threaded calls side by side cost about 27 ms in all
(benchmarks/predict_vs_nt.py, ``gd_mse_ensemble_500x500_T20_mean``).

``side_by_side(fn, items)`` runs ``fn`` on each item in its own thread while the BLAS
libraries are limited to ``cpu_count // len(items)`` threads (at least 1). The limit is
process-wide state (threadpoolctl), so it is counted: it is set when the first caller
enters and the original limits come back when the last one leaves; another thread's BLAS
call in that window runs with fewer threads, never with a wrong result. On a GPU the limit
does not matter and the calls are dispatched from the threads as usual.
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

_lock = threading.Lock()
_holders = 0
_original: list = []


@functools.cache
def _blas_libraries() -> list:
    """threadpoolctl's controllers of the BLAS libraries loaded (JAX's among them)."""
    import scipy.linalg.cython_lapack  # noqa: F401 (loads the OpenBLAS JAX calls into)
    from threadpoolctl import ThreadpoolController

    return [lib for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"]


def _set_threads(counts) -> None:
    """Set each BLAS library's thread count, from whichever thread holds ``_lock``.

    threadpoolctl lets only the first thread that set an OpenBLAS limit change it again
    (its "controlling thread"); here the first caller in sets it and the last out restores
    it, which may be another thread, so the claim is cleared around each change.
    """
    from threadpoolctl import OpenBLASController

    release = getattr(OpenBLASController, "clear_controlling_thread", None)
    for lib, count in zip(_blas_libraries(), counts):
        if release:
            release(force=True)
        lib.set_num_threads(count)
    if release:
        release(force=True)


@contextlib.contextmanager
def limited_blas(threads: int):
    """BLAS limited to ``threads`` threads while any caller is inside (counted, see above)."""
    global _holders, _original
    with _lock:
        if _holders == 0:
            _original = [lib.num_threads for lib in _blas_libraries()]
            _set_threads([threads] * len(_original))
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0:
                _set_threads(_original)


def side_by_side(fn, items) -> list:
    """``[fn(item) for item in items]``, computed concurrently when there are two or more."""
    items = list(items)
    if len(items) < 2:
        return [fn(item) for item in items]
    threads = max(1, (os.cpu_count() or 1) // len(items))
    with limited_blas(threads), ThreadPoolExecutor(len(items)) as pool:
        return list(pool.map(fn, items))
