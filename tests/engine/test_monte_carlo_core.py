"""Closed-form kernels agree with finite-width Monte Carlo (Dense, ReLU family, Erf, residual)."""
import numpy as np
import pytest

import engine
from tests.engine.monte_carlo import mc_kernels, rel_frobenius, with_width

#: training and Monte Carlo ensembles run their programs many times (tests/engine/conftest.py)
pytestmark = [pytest.mark.slow, pytest.mark.xla_optimized]

W, B = 1.4, 0.1
CASES = {
    "dense_relu": [["Dense", {"out_dim": 1, "W_std": W, "b_std": B}], ["Relu", {}],
                   ["Dense", {"out_dim": 1, "W_std": W, "b_std": B}]],
    "dense_erf_standard": [["Dense", {"out_dim": 1, "W_std": W, "b_std": B, "parameterization": "standard"}],
                           ["Erf", {}],
                           ["Dense", {"out_dim": 1, "W_std": W, "b_std": B, "parameterization": "standard"}]],
    "residual_relu": [["Dense", {"out_dim": 1, "W_std": W, "b_std": B}], ["FanOut", {"num": 2}],
                      ["parallel", {"branches": [[["Relu", {}], ["Dense", {"out_dim": 1, "W_std": W}]],
                                                 [["Identity", {}]]]}],
                      ["FanInSum", {}], ["Abs", {}], ["Dense", {"out_dim": 1, "W_std": W, "b_std": B}]],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_closed_form_matches_monte_carlo(name):
    spec = CASES[name]
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((3, 3))
    nngp_mc, ntk_mc = mc_kernels(spec, x1, x2, width=1024, samples=100)
    # the standard parameterization's NTK depends on the widths: give the same ones
    exact = engine.build(with_width(spec, 1024)).kernel_fn(x1, x2, get=("nngp", "ntk"))
    assert rel_frobenius(nngp_mc, exact.nngp) < 0.05
    assert rel_frobenius(ntk_mc, exact.ntk) < 0.05
