"""kernel_fn without the ntk in ``get`` skips the NTK recursion and gives the same nngp.

An NNGP-only request that overflows still names the layer: test_depth_stability."""
import jax.numpy as jnp
import numpy as np
import pytest

import engine
from engine.kernel_fn import _kernel_of_inputs

ARCH = [["Dense", {"out_dim": 8, "W_std": 1.4, "b_std": 0.1}], ["Erf", {}],
        ["Dense", {"out_dim": 8, "W_std": 1.4, "b_std": 0.1}], ["Relu", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.4, "b_std": 0.1}]]


@pytest.fixture(scope="module")
def kernel_fn():
    return engine.build(ARCH).kernel_fn


def _arch(activation):
    dense = ["Dense", {"out_dim": 8, "W_std": 1.4, "b_std": 0.1}]
    return [dense, [activation, {}], dense, [activation, {}], dense]


@pytest.mark.parametrize("get", ["nngp", ("nngp",), ("nngp", "cov1"), ("cov2", "nngp")])
def test_kernel_fn_nngp_only_is_bitwise_the_nngp_of_both(kernel_fn, get):
    """Bit for bit on Dense/ReLU/Erf stacks (here, with the tests' XLA effort)."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((9, 3)), rng.standard_normal((6, 3))
    relu = engine.build(_arch("Relu")).kernel_fn
    for other in (None, x2):
        both = relu(x1, other, None)
        alone = relu(x1, other, get)
        nngp = alone if isinstance(get, str) else alone.nngp
        np.testing.assert_array_equal(nngp, both.nngp)
        if not isinstance(get, str):
            for name in get:
                np.testing.assert_array_equal(getattr(alone, name), getattr(both, name))
        np.testing.assert_allclose(kernel_fn(x1, other, "nngp"), kernel_fn(x1, other).nngp,
                                   rtol=1e-14, atol=0)


@pytest.mark.parametrize("activation", ["Sin", "Gelu", "Tanh"])
def test_kernel_fn_nngp_only_agrees_to_rounding(activation):
    """XLA may compile an activation's nngp expression differently once the ntk's consumers
    are gone (Sin, Erf: the last bit of some entries)."""
    x = np.random.default_rng(2).standard_normal((7, 3))
    kernel_fn = engine.build(_arch(activation)).kernel_fn
    np.testing.assert_allclose(kernel_fn(x, None, "nngp"), kernel_fn(x).nngp, rtol=1e-14,
                               atol=0)


def test_kernel_fn_nngp_only_does_not_compute_the_ntk(kernel_fn):
    """The Kernel of an NNGP-only request has no ntk, and its compiled function fewer flops."""
    x = jnp.asarray(np.random.default_rng(1).standard_normal((5, 3)))
    layer = kernel_fn.layer
    assert _kernel_of_inputs(layer, x, None, False, 5, {}, False).ntk is None
    assert _kernel_of_inputs(layer, x, None, False, 5, {}, True).ntk is not None

    def flops(with_ntk):
        cost = _kernel_of_inputs.lower(layer, x, None, False, 5, {}, with_ntk).compile()
        cost = cost.cost_analysis()
        return (cost[0] if isinstance(cost, list) else cost)["flops"]

    assert flops(False) < 0.8 * flops(True)

