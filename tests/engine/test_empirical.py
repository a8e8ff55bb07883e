"""Empirical NTK/NNGP: the dense path equals the Jacobian path; both tend to kernel_fn."""
import jax
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import engine
from engine.empirical import empirical_ntk_fn, readout_nngp_fn
from engine.widths import with_width


def dense(parameterization, b_std, w_std=1.5):
    return ["Dense", {"out_dim": 1, "W_std": w_std, "b_std": b_std,
                      "parameterization": parameterization}]


def mlp(outputs=3, first="ntk", second="standard", b_std=(0.1, None, None)):
    """Three Dense layers, mixing parameterizations and layers with and without bias."""
    readout = dense(first, b_std[2])
    readout[1]["out_dim"] = outputs
    return [dense(first, b_std[0]), ["Erf", {}], dense(second, b_std[1], 1.2), ["Relu", {}],
            readout]


#: between them, every Dense layer kind: NTK / standard parameterization, with / without bias
MIXED = {"ntk_first": mlp(), "standard_first": mlp(first="standard", second="ntk",
                                                   b_std=(None, 0.1, 0.1))}


RESIDUAL = [["Dense", {"out_dim": 1, "W_std": 1.4, "b_std": 0.1}], ["FanOut", {"num": 2}],
            ["parallel", {"branches": [[["Relu", {}], ["Dense", {"out_dim": 1, "W_std": 1.4}]],
                                       [["Identity", {}]]]}],
            ["FanInSum", {}], ["Abs", {}], ["Dense", {"out_dim": 2, "W_std": 1.4, "b_std": 0.1}]]


def inputs(n=5, features=3, seed=0):
    return np.random.default_rng(seed).standard_normal((n, features))


def network_and_params(spec, width, x, seed=0):
    network = engine.build(with_width(spec, width))
    return network, network.init_fn(jax.random.PRNGKey(seed), x.shape)[1]


@pytest.mark.parametrize("name", sorted(MIXED))
def test_dense_path_equals_jacobian_path(name):
    x1, x2 = inputs(5), inputs(4, seed=1)
    network, params = network_and_params(MIXED[name], 16, x1)
    dense_fn = empirical_ntk_fn(network.apply_fn, implementation="dense")
    jacobian_fn = empirical_ntk_fn(network.apply_fn, implementation="jacobian")
    for second in (None, x2):
        a, b = dense_fn(x1, second, params), jacobian_fn(x1, second, params)
        assert a.shape == (5, 5 if second is None else 4)
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10 * np.abs(b).max())


def test_jacobian_path_is_the_full_contraction_for_any_network():
    """Residual network: the mean over outputs of J J^T, J from ravelled parameters."""
    x1, x2 = inputs(4), inputs(3, seed=1)
    network, params = network_and_params(RESIDUAL, 8, x1)
    flat, unravel = ravel_pytree(params)
    jacobian = jax.jit(jax.jacfwd(lambda p, x: network.apply_fn(unravel(p), x)))
    j1, j2 = jacobian(flat, x1), jacobian(flat, x2)
    expected = np.einsum("acp,bcp->ab", j1, j2) / j1.shape[1]
    ntk_fn = empirical_ntk_fn(network.apply_fn)  # auto: not a dense chain
    np.testing.assert_allclose(ntk_fn(x1, x2, params), expected, rtol=1e-12, atol=1e-12)


def test_accepts_the_network_itself():
    x = inputs(3)
    network, params = network_and_params(mlp(), 8, x)
    np.testing.assert_array_equal(empirical_ntk_fn(network)(x, None, params),
                                  empirical_ntk_fn(network.apply_fn)(x, None, params))


def test_dense_path_needs_flat_inputs():
    x = inputs(6, 2).reshape(2, 3, 2)  # Dense acts on the channel axis of (N, W, C) inputs
    network, params = network_and_params(mlp(outputs=1), 4, x)
    auto = empirical_ntk_fn(network.apply_fn)(x, None, params)  # falls back to the Jacobian
    assert auto.shape == (2, 2, 3, 3)
    jacobian_fn = empirical_ntk_fn(network.apply_fn, implementation="jacobian")
    np.testing.assert_array_equal(auto, jacobian_fn(x, None, params))
    with pytest.raises(ValueError, match=r"ntk_fn\(x1=<array of shape \(2, 3, 2\)>\): x1 must "
                                         r"be a numeric array of shape \(N, features\)"):
        empirical_ntk_fn(network.apply_fn, implementation="dense")(x, None, params)


def test_plain_function_uses_the_jacobian_path():
    x = inputs(3, 2)
    params = {"w": np.array([0.5, -1.0])}
    ntk = empirical_ntk_fn(lambda p, x: (x @ p["w"])[:, None])(x, None, params)
    np.testing.assert_allclose(ntk, x @ x.T, rtol=1e-12)


def test_converges_to_the_analytic_ntk_as_width_grows():
    """Both parameterizations (the standard one's NTK depends on the widths: same ones)."""
    spec, x = mlp(outputs=1), inputs(6)
    errors = []
    for width in (32, 2048):
        network = engine.build(with_width(spec, width))
        exact = network.kernel_fn(x, None, get="ntk")
        ntk_fn = empirical_ntk_fn(network.apply_fn)
        errors.append(np.mean([np.linalg.norm(ntk_fn(x, None, network.init_fn(
            jax.random.PRNGKey(s), x.shape)[1]) - exact) / np.linalg.norm(exact)
            for s in range(3)]))
    assert errors[1] < 0.08
    assert errors[1] < errors[0] / 3, errors  # O(1/sqrt(width)): a factor 8 in theory


def test_empirical_nngp_converges_to_the_analytic_nngp():
    spec, x = mlp(outputs=1), inputs(6)
    errors = []
    for width in (32, 2048):
        network, params = network_and_params(spec, width, x)
        exact = network.kernel_fn(x, None, get="nngp")
        errors.append(np.linalg.norm(readout_nngp_fn(network.apply_fn)(x, None, params) - exact)
                      / np.linalg.norm(exact))
    assert errors[1] < 0.08 and errors[1] < errors[0] / 3


@pytest.mark.parametrize("call, message", [
    (lambda: empirical_ntk_fn(lambda p, x: x, implementation="fast"),
     r"empirical_ntk_fn\(implementation='fast'\): implementation must be one of"),
    (lambda: empirical_ntk_fn(engine.build(RESIDUAL).apply_fn, implementation="dense"),
     r"empirical_ntk_fn\(implementation='dense'\): implementation must be 'auto' or 'jacobian'"),
    (lambda: readout_nngp_fn(engine.build(RESIDUAL).apply_fn),
     r"readout_nngp_fn\(apply_fn=.*\): apply_fn must be the apply_fn of an engine network"),
])
def test_constructor_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("x1, x2, params, message", [
    (inputs(3), None, None, r"ntk_fn\(params=None\): params must be the network's parameters"),
    (np.ones(3), None, {}, r"ntk_fn\(x1=<array of shape \(3,\)>\): x1 must be a numeric array "
                           r"of shape \(N, features"),
    (np.full((2, 3), np.nan), None, {}, r"ntk_fn\(x1=<array of shape \(2, 3\)>\): x1 must be "
                                        r"finite"),
    (inputs(3), inputs(2, 4), {}, r"ntk_fn\(x2=<array of shape \(2, 4\)>\): x2 must be an "
                                  r"array of shape \(N, 3\) like x1"),
])
def test_ntk_fn_input_errors(x1, x2, params, message):
    ntk_fn = empirical_ntk_fn(engine.build(mlp()).apply_fn)
    with pytest.raises(ValueError, match=message):
        ntk_fn(x1, x2, params)


def test_nngp_fn_needs_params():
    nngp_fn = readout_nngp_fn(engine.build(mlp()).apply_fn)
    with pytest.raises(ValueError, match=r"nngp_fn\(params=None\): params must be"):
        nngp_fn(inputs(2))
