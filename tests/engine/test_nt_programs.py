"""neural-tangents-style programs run end to end through the engine.

Each test is written the way a neural-tangents user writes it (``import engine as nt``,
``from engine import stax``): transformations of kernel_fn, batching, composition, params.
"""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import engine as nt
from engine import stax

RNG = np.random.default_rng(0)
X1 = RNG.standard_normal((7, 5))
X2 = RNG.standard_normal((4, 5))


def mlp(W_std=1.5, b_std=0.1, width=64):
    return stax.serial(stax.Dense(width, W_std, b_std), stax.Relu(),
                       stax.Dense(width, W_std, b_std), stax.Erf(),
                       stax.Dense(1, W_std, b_std))


def cnn():
    return stax.serial(stax.Conv(8, (3, 3), padding="SAME", W_std=1.3, b_std=0.1), stax.Relu(),
                       stax.AvgPool((2, 2)), stax.Conv(8, (2, 2)), stax.Relu(), stax.Flatten(),
                       stax.Dense(1, 1.3, 0.1))


# ---------------------------------------------------------------- kernel_fn is pure JAX

def test_kernel_fn_jits_with_static_get_and_returns_jax_arrays():
    kernel_fn = mlp()[2]
    jitted = jax.jit(kernel_fn, static_argnames="get")
    ntk = jitted(X1, X2, get="ntk").block_until_ready()
    assert isinstance(ntk, jax.Array) and ntk.shape == (7, 4)
    np.testing.assert_allclose(ntk, kernel_fn(X1, X2, "ntk"), rtol=1e-12)
    both = jitted(X1, None, get=("nngp", "ntk"))
    np.testing.assert_allclose(both.nngp, kernel_fn(X1, None, "nngp"), rtol=1e-12)


def test_single_name_is_bitwise_the_tuple_field():
    kernel_fn = mlp()[2]
    np.testing.assert_array_equal(kernel_fn(X1, X1, "ntk"), kernel_fn(X1, X1, ("nngp", "ntk")).ntk)
    np.testing.assert_array_equal(kernel_fn(X1, X2, "nngp"), kernel_fn(X1, X2).nngp)


def test_grad_with_respect_to_inputs_matches_finite_differences():
    kernel_fn = mlp()[2]

    def loss(x):
        return jnp.sum(kernel_fn(x, X2, "ntk") ** 2)

    grad = jax.grad(loss)(X1)
    step = np.zeros_like(X1)
    step[2, 3] = 1e-6
    numeric = (loss(X1 + step) - loss(X1 - step)) / 2e-6
    np.testing.assert_allclose(grad[2, 3], numeric, rtol=1e-6)


def test_grad_with_respect_to_a_traced_weight_variance():
    """Sigma of Dense(W_std) on inputs is W_std^2 x.x'/d + b^2: d/dW = 2 W x.x'/d."""
    def nngp_sum(w_std):
        _, _, kernel_fn = stax.serial(stax.Dense(1, W_std=w_std, b_std=0.3), stax.Relu(),
                                      stax.Dense(1, W_std=w_std, b_std=0.3))
        return jnp.sum(kernel_fn(X1, X2, "nngp"))

    grad = jax.grad(nngp_sum)(1.7)
    numeric = (nngp_sum(1.7 + 1e-6) - nngp_sum(1.7 - 1e-6)) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(jax.grad(nngp_sum))(1.7), grad, rtol=1e-12)


def test_vmap_over_a_batch_of_datasets():
    kernel_fn = mlp()[2]
    xs = RNG.standard_normal((3, 6, 5))
    out = jax.vmap(lambda x: kernel_fn(x, None, "ntk"))(xs)
    for i in range(3):
        np.testing.assert_allclose(out[i], kernel_fn(xs[i], None, "ntk"), rtol=1e-12)


def test_vmap_over_weight_variances_matches_separate_networks():
    def nngp(w_std):
        return stax.serial(stax.Dense(1, W_std=w_std), stax.Relu(), stax.Dense(1))[2](
            X1, X2, "nngp")

    stds = jnp.array([0.5, 1.0, 2.0])
    out = jax.vmap(nngp)(stds)
    for i, s in enumerate([0.5, 1.0, 2.0]):
        np.testing.assert_allclose(out[i], nngp(s), rtol=1e-12)


def test_spec_errors_are_raised_before_tracing():
    kernel_fn = stax.serial(stax.Conv(2, (3, 3)), stax.Relu())[2]
    with pytest.raises(ValueError, match="Conv"):
        jax.jit(kernel_fn)(X1, X2)  # Conv needs spatial inputs: a ValueError, not a trace error
    with pytest.raises(ValueError, match="W_std"):
        stax.Dense(1, W_std=jnp.array(-1.0))


# ---------------------------------------------------------------- engine.batch

@pytest.mark.parametrize("store_on_device", [True, False])
def test_batch_equals_the_unbatched_kernel(store_on_device):
    kernel_fn = mlp()[2]
    x1, x2 = RNG.standard_normal((23, 5)), RNG.standard_normal((11, 5))
    batched = nt.batch(kernel_fn, batch_size=5, store_on_device=store_on_device)
    for other in (None, x2):
        whole, tiles = kernel_fn(x1, other), batched(x1, other)
        for name in ("nngp", "ntk", "cov1", "cov2"):
            np.testing.assert_allclose(getattr(tiles, name), getattr(whole, name), rtol=1e-12)
        assert isinstance(tiles.nngp, jax.Array) == store_on_device
        np.testing.assert_allclose(batched(x1, other, "ntk"), whole.ntk, rtol=1e-12)


def test_batch_of_a_spatial_output_mirrors_pairs_of_positions():
    _, _, kernel_fn = stax.serial(stax.Conv(4, (2, 2), padding="SAME"), stax.Relu(),
                                  stax.AvgPool((2, 2), padding="SAME"))
    x = RNG.standard_normal((9, 3, 3, 2))
    whole = kernel_fn(x, None, "nngp")
    np.testing.assert_allclose(nt.batch(kernel_fn, 4)(x, None, "nngp"), whole, rtol=1e-12,
                               atol=1e-14)


def test_batch_reports_progress_and_stops_when_asked():
    seen = []
    nt.batch(mlp()[2], 8, progress=seen.append)(RNG.standard_normal((20, 5)), None, "nngp")
    assert seen == [1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0]

    def stop(fraction):
        raise InterruptedError
    with pytest.raises(InterruptedError):
        nt.batch(mlp()[2], 8, progress=stop)(RNG.standard_normal((20, 5)))


def test_batch_of_any_kernel_function_and_zero_batch_size():
    def kernel_fn(x1, x2=None, get=None):
        x2 = x1 if x2 is None else x2
        return jnp.asarray(x1) @ jnp.asarray(x2).T
    x = RNG.standard_normal((10, 3))
    np.testing.assert_allclose(nt.batch(kernel_fn, 4)(x, None, "nngp"), x @ x.T, rtol=1e-12)
    np.testing.assert_allclose(nt.batch(kernel_fn)(x), x @ x.T, rtol=1e-12)


def test_kernel_fn_rejects_the_old_tile_arguments_with_a_pointer_to_batch():
    with pytest.raises(ValueError, match=r"engine\.batch"):
        mlp()[2](X1, None, "nngp", tile_size=8)


# ---------------------------------------------------------------- composition

def test_kernel_fn_of_a_kernel_composes():
    _, _, first = stax.serial(stax.Dense(8, 1.5, 0.1), stax.Relu())
    _, _, second = stax.serial(stax.Dense(8, 1.5, 0.1), stax.Erf(), stax.Dense(1, 1.5, 0.1))
    _, _, whole = stax.serial(stax.Dense(8, 1.5, 0.1), stax.Relu(),
                              stax.Dense(8, 1.5, 0.1), stax.Erf(), stax.Dense(1, 1.5, 0.1))
    kernel = first(X1, X2)
    assert isinstance(kernel, nt.Kernel)
    composed = second(kernel)
    np.testing.assert_allclose(composed.nngp, whole(X1, X2).nngp, rtol=1e-12)
    np.testing.assert_allclose(second(kernel, get="ntk"), whole(X1, X2, "ntk"), rtol=1e-12)
    np.testing.assert_allclose(jax.jit(second)(kernel).ntk, composed.ntk, rtol=1e-12)


def test_composition_checks_what_the_layers_accept():
    kernel = stax.Dense(3)[2](X1)
    with pytest.raises(ValueError, match="spatial"):
        stax.Conv(2, (2, 2))[2](kernel)
    images = RNG.standard_normal((3, 4, 4, 2))
    diagonal = stax.serial(stax.Conv(2, (2, 2)), stax.Relu())[2](images)
    assert diagonal.full  # a spatial output keeps every pair of positions


# ---------------------------------------------------------------- the triple and params

def test_triple_is_an_indexable_tuple():
    net = mlp()
    assert isinstance(net, tuple) and len(net) == 3
    init_fn, apply_fn, kernel_fn = net
    assert net[0] is init_fn and net[1] is apply_fn and net[2] is kernel_fn
    assert mlp() == net and hash(mlp()) == hash(net)


def test_params_use_the_neural_tangents_layout():
    init_fn, apply_fn, _ = stax.serial(stax.Dense(6, 1.5, 0.1), stax.Relu(), stax.Dense(2),
                                       stax.Identity())
    out_shape, params = init_fn(jax.random.PRNGKey(0), (-1, 5))
    assert out_shape == (-1, 2)
    (W, b), relu, (W2, b2), identity = params
    assert W.shape == (5, 6) and b.shape == (1, 6) and relu == () and identity == ()
    assert W2.shape == (6, 2) and b2 is None
    x = RNG.standard_normal((3, 5))
    by_hand = (1.5 / np.sqrt(5) * x @ W + 0.1 * b).clip(0) @ W2 / np.sqrt(6)
    np.testing.assert_allclose(apply_fn(params, x), by_hand, rtol=1e-12)

    _, conv_params = stax.Conv(4, (3, 3))[0](jax.random.PRNGKey(1), (-1, 5, 5, 2))
    assert conv_params[0].shape == (3, 3, 2, 4) and conv_params[1] is None
    _, conv_params = stax.Conv(4, (3, 3), b_std=0.1)[0](jax.random.PRNGKey(1), (-1, 5, 5, 2))
    assert conv_params[1].shape == (1, 1, 1, 4)


def test_params_of_standard_parameterization_carry_the_scales():
    init_fn, apply_fn, _ = stax.Dense(3, W_std=2.0, b_std=0.5, parameterization="standard")
    _, (W, b) = init_fn(jax.random.PRNGKey(0), (-1, 400))
    np.testing.assert_allclose(np.std(W), 2.0 / np.sqrt(400), rtol=0.1)
    x = RNG.standard_normal((2, 400))
    np.testing.assert_allclose(apply_fn((W, b), x), x @ W + b, rtol=1e-12)


def test_ensembles_by_vmap_of_init():
    init_fn, apply_fn, _ = mlp(width=32)
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    params = jax.vmap(lambda key: init_fn(key, (-1, 5))[1])(keys)
    outputs = jax.vmap(apply_fn, in_axes=(0, None))(params, X1)
    assert outputs.shape == (4, 7, 1)
