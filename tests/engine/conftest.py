"""Engine tests: how much XLA optimises the programs they compile."""
import os

import jax
import pytest


@pytest.fixture(autouse=True)
def xla_effort(request):
    """XLA optimises an engine test's programs only if the test is marked ``xla_optimized``.

    Most engine tests run each program once or twice on small inputs, and XLA's optimisation
    passes took most of their time (test_conv_pool_norm: 57 of 87 s in ``backend_compile``;
    tests/engine with -n 2: 760 -> 670 s unmarked, about 560 s marked). The marked files
    (training, Monte Carlo ensembles, 200-layer networks) run their programs many times and
    lose more than they save (test_finite 107 -> 155 s unoptimised). The app, the app tests,
    the browser tests' servers and every Dask worker always optimise. ``IWE_XLA_EFFORT=full
    pytest`` optimises everything.
    """
    quick = (os.environ.get("IWE_XLA_EFFORT") != "full"
             and request.node.get_closest_marker("xla_optimized") is None)
    jax.config.update("jax_disable_most_optimizations", quick)
    yield
    jax.config.update("jax_disable_most_optimizations", False)  # for the next, maybe app, test
