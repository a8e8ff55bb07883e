"""The memory mappings of compiled programs, released before the kernel's limit is reached.

Every program XLA compiles for the CPU is loaded into a few memory mappings of its own
(about three here), and JAX keeps each compiled program for as long as the function it came
from lives. A process that compiles many programs (a server, a Dask worker or a test worker
that has seen thousands of architectures and shapes) reaches Linux's per-process limit on
mappings (``vm.max_map_count``, 65,530 by default); LLVM then fails to map the next program
("LLVM compilation error: Cannot allocate memory") and the process dies of a segmentation
fault inside ``backend_compile``, whatever was computing.

``release_if_crowded()`` drops JAX's compiled programs (``jax.clear_caches()``) once the
process holds more than ``fraction`` of the limit; what is used again is compiled again (from
the persistent compilation cache where one is set). Long-lived processes call it between
jobs. Where ``/proc`` does not say (not Linux), it does nothing.
"""
from __future__ import annotations

import gc

import jax

#: share of vm.max_map_count above which compiled programs are released
CROWDED = 0.5


def mappings() -> int | None:
    """The number of memory mappings of this process (None where /proc does not tell)."""
    try:
        with open("/proc/self/maps", "rb") as maps:
            return maps.read().count(b"\n")
    except OSError:
        return None


def mapping_limit() -> int | None:
    """The kernel's limit on one process's memory mappings (None where /proc does not tell)."""
    try:
        with open("/proc/sys/vm/max_map_count") as limit:
            return int(limit.read())
    except (OSError, ValueError):
        return None


def release_if_crowded(fraction: float | None = None) -> bool:
    """Drop JAX's compiled programs if this process holds more than ``fraction`` (default
    ``CROWDED``) of its mapping limit; True when it did."""
    used, limit = mappings(), mapping_limit()
    fraction = CROWDED if fraction is None else fraction
    if used is None or limit is None or used <= fraction * limit:
        return False
    jax.clear_caches()
    gc.collect()
    return True
