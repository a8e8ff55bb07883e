"""engine.compiled: compiled programs let go before the process runs out of memory mappings.

The defect: a test worker (and a long-lived server or Dask worker) compiling ~20,000 programs
passed Linux's vm.max_map_count (65,530) and died of a segmentation fault inside XLA's compile
("LLVM compilation error: Cannot allocate memory"); seen twice in CI runs, reproduced with the
limit lowered to 1,500 (sysctl) and 400 small programs.
"""
import sys

import jax
import jax.numpy as jnp
import pytest

from engine import compiled

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _compile(count: int, offset: int) -> None:
    """``count`` programs JAX keeps (one function, a new input shape each)."""
    for i in range(count):
        _program(jnp.ones(offset + i)).block_until_ready()


@jax.jit
def _program(x):
    return jnp.sin(x) * 2.0 + jnp.cos(x) ** 3


def test_each_compiled_program_holds_mappings_until_released():
    compiled.release_if_crowded(fraction=0.0)
    before = compiled.mappings()
    _compile(20, offset=10_000)
    grown = compiled.mappings()
    assert grown - before >= 20  # about three per program here
    assert compiled.release_if_crowded(fraction=0.0)
    assert compiled.mappings() < before + (grown - before) / 2


def test_a_process_well_below_the_limit_keeps_its_programs():
    assert compiled.mapping_limit() >= 1000
    _compile(1, offset=20_000)
    assert not compiled.release_if_crowded(fraction=1.0)
    assert _program._cache_size() >= 1


def test_releasing_between_jobs_keeps_the_mappings_below_the_limit(monkeypatch):
    """A process with a limit 45 mappings above what it holds compiles 30 programs, one
    job each: without the release it would pass the limit (about 90 mappings more)."""
    compiled.release_if_crowded(fraction=0.0)
    limit = compiled.mappings() + 45
    monkeypatch.setattr(compiled, "mapping_limit", lambda: limit)
    peak, released = 0, 0
    for i in range(30):
        _compile(1, offset=30_000 + i)
        peak = max(peak, compiled.mappings())
        released += compiled.release_if_crowded(fraction=(limit - 22) / limit)
    assert released >= 2
    assert peak < limit


def test_the_limit_and_the_count_are_read_from_proc():
    with open("/proc/sys/vm/max_map_count") as f:
        assert compiled.mapping_limit() == int(f.read())
    assert 0 < compiled.mappings() < compiled.mapping_limit()
