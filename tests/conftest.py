"""Test-wide configuration: float64 JAX (set here and in app/main.py only) and the oracle.

Compiled programs go to one on-disk cache for the whole run (.pytest_cache/xla): the two
xdist workers, the servers the browser tests start and their Dask workers (which inherit
these variables) load a program another process has compiled, as a served app does
(app/main.py).
"""
import os
import sys

os.environ.setdefault("IWE_COMPILE_CACHE", os.path.join(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ".pytest_cache", "xla"))
if os.environ["IWE_COMPILE_CACHE"] != "off":  # IWE_COMPILE_CACHE=off pytest: none
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.environ["IWE_COMPILE_CACHE"])
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")
    # as app/main.py: every process sharing the folder keeps its LRU records (an entry
    # written without them breaks another process's eviction)
    os.environ.setdefault("JAX_COMPILATION_CACHE_MAX_SIZE", str(2 ** 30))

# As many xdist workers (``-n N``) as cores: XLA computes on one thread in each (and in the
# servers and Dask workers they start). Two workers on two cores each running a 2-thread
# pool spent time switching: tests/engine test_masking + test_activations_monte_carlo,
# -n 2, 143 -> 122 s; the training and Monte Carlo files and the browser tests unchanged.
# A run that sets XLA_FLAGS keeps its own.
if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0")) >= (os.cpu_count() or 1) > 1 \
        and "XLA_FLAGS" not in os.environ:
    os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)

from engine import release_if_crowded  # noqa: E402

ORACLE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "oracle")


@pytest.fixture(scope="session")
def oracle():
    """The neural-tangents reference values in ../shared/oracle, or a clean skip."""
    if not os.path.exists(os.path.join(ORACLE_DIR, "cases.json")):
        pytest.skip("../shared/oracle is absent")
    sys.path.insert(0, os.path.abspath(ORACLE_DIR))
    from oracle_io import Oracle

    return Oracle()


@pytest.fixture(autouse=True)
def _release_compiled_programs():
    """A test worker compiles some 20,000 programs in a run, three memory mappings each:
    past Linux's 65,530 the next compile dies of a segmentation fault (engine/compiled.py).
    Between tests, a worker past half of it lets JAX's compiled programs go."""
    yield
    release_if_crowded()


@pytest.hookimpl(trylast=True)  # after tests/ui/conftest.py has marked the browser tests
def pytest_collection_modifyitems(items):
    """The order the two xdist workers take the tests in (`make test` passes
    --no-loadscope-reorder, which keeps it): the two browser groups first, one per worker,
    then the other slow tests, then the quick ones. The run then ends on quick tests, where
    xdist's default (largest group first, the rest in file order) started the browser groups
    after 20 minutes and ended on one worker running one of them alone."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("ui")
               else 1 if item.get_closest_marker("slow") else 2)
