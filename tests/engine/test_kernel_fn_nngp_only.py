"""kernel_fn without the ntk in ``get`` skips the NTK recursion and gives the same nngp.

An NNGP-only request that overflows still names the layer: test_depth_stability."""
import jax.numpy as jnp
import numpy as np

import engine
from engine.kernel_fn import _kernel_of_inputs


def _arch(activation):
    dense = ["Dense", {"out_dim": 8, "W_std": 1.4, "b_std": 0.1}]
    return [dense, [activation, {}], dense, [activation, {}], dense]


def test_an_nngp_only_request_gives_the_nngp_of_both():
    """The same arithmetic, compiled without the ntk's consumers: XLA may fuse it differently,
    so the last bit of some entries may differ (ReLU's arccos polynomial, Sin)."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((9, 3)), rng.standard_normal((6, 3))
    for activation in ("Relu", "Sin"):
        kernel_fn = engine.build(_arch(activation)).kernel_fn
        for other in (None, x2):
            both = kernel_fn(x1, other, None)
            np.testing.assert_allclose(kernel_fn(x1, other, "nngp"), both.nngp, rtol=1e-14,
                                       atol=0)
            alone = kernel_fn(x1, other, ("nngp", "cov1"))
            np.testing.assert_allclose(alone.nngp, both.nngp, rtol=1e-14, atol=0)
            np.testing.assert_allclose(alone.cov1, both.cov1, rtol=1e-14, atol=0)


def test_an_nngp_only_request_does_not_compute_the_ntk():
    """The Kernel of an NNGP-only request has no ntk, and its compiled function fewer flops."""
    x = jnp.asarray(np.random.default_rng(1).standard_normal((5, 3)))
    layer = engine.build(_arch("Erf")).kernel_fn.layer
    assert _kernel_of_inputs(layer, x, None, False, 5, {}, False).ntk is None
    assert _kernel_of_inputs(layer, x, None, False, 5, {}, True).ntk is not None

    def flops(with_ntk):
        cost = _kernel_of_inputs.lower(layer, x, None, False, 5, {}, with_ntk).compile()
        cost = cost.cost_analysis()
        return (cost[0] if isinstance(cost, list) else cost)["flops"]

    assert flops(False) < 0.8 * flops(True)
