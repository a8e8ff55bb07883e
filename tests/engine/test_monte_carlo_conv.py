"""Closed-form kernels agree with finite-width Monte Carlo: Conv, pooling, Flatten, LayerNorm.

Width 512 channels, 100 initialisations, within 5 % relative Frobenius on NNGP and NTK (seen:
0.2-2.8 %; at width 1024 the file took four times as long for errors of the same size). To
keep the file short on 2 CPU cores the inputs are tiny (3 + 2 images of 4x4 or 5x4 pixels
with 2 channels, or 1-D signals of length 5-6 with 3 channels) and only three layers map 512
channels to 512 (the Jacobians of those dominate the time).
"""
import numpy as np
import pytest

import engine
from tests.engine.monte_carlo import mc_kernels, rel_frobenius, with_width

#: training and Monte Carlo ensembles run their programs many times (tests/engine/conftest.py)
pytestmark = [pytest.mark.slow, pytest.mark.xla_optimized]

W, B = 1.4, 0.1
RELU, ERF = ["Relu", {}], ["Erf", {}]
DENSE = ["Dense", {"out_dim": 1, "W_std": W, "b_std": B}]


def conv(filter_shape, **kwargs):
    return ["Conv", {"out_chan": 1, "filter_shape": filter_shape, "W_std": W, "b_std": B,
                     **kwargs}]


CASES = {
    "same_relu_avgpool_gap": ((4, 4, 2), [
        conv((3, 3), padding="SAME"), RELU,
        ["AvgPool", {"window_shape": (2, 2), "padding": "SAME"}], ["GlobalAvgPool", {}], DENSE]),
    "valid_flatten": ((5, 4, 2), [
        conv((3, 3)), RELU, conv((2, 1)), ERF, ["Flatten", {}], DENSE]),
    "1d_strided_circular_standard": ((6, 3), [
        conv((3,), strides=(2,), padding="CIRCULAR", parameterization="standard"), RELU,
        conv((2,), padding="CIRCULAR", parameterization="standard"), RELU, ["Flatten", {}],
        ["Dense", {"out_dim": 1, "W_std": W, "b_std": B, "parameterization": "standard"}]]),
    "layernorm": ((4, 4, 2), [
        conv((3, 3), padding="SAME"), ["LayerNorm", {}], RELU, ["GlobalAvgPool", {}],
        ["Dense", {"out_dim": 1, "W_std": W, "b_std": B}], ["LayerNorm", {"axis": -1}], ERF,
        DENSE]),
    "1d_residual_block": ((5, 3), [
        conv((3,), padding="SAME"), ["FanOut", {"num": 2}],
        ["parallel", {"branches": [[RELU, conv((2,), padding="SAME")], [["Identity", {}]]]}],
        ["FanInSum", {}], RELU, ["GlobalAvgPool", {}], DENSE]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_closed_form_matches_monte_carlo(name):
    image, spec = CASES[name]
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal((3,) + image), rng.standard_normal((2,) + image)
    nngp_mc, ntk_mc = mc_kernels(spec, x1, x2, width=512, samples=100)
    # the standard parameterization's NTK depends on the widths: give the same ones
    exact = engine.build(with_width(spec, 512)).kernel_fn(x1, x2, get=("nngp", "ntk"))
    assert rel_frobenius(nngp_mc, exact.nngp) < 0.05
    assert rel_frobenius(ntk_mc, exact.ntk) < 0.05
