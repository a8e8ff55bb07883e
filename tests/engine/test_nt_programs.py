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


def test_single_name_is_the_tuple_field():
    """The ntk bit for bit (one compiled function computes both); an nngp-only request skips
    the NTK and XLA may round the nngp differently in the last bit (README)."""
    kernel_fn = mlp()[2]
    np.testing.assert_array_equal(kernel_fn(X1, X1, "ntk"), kernel_fn(X1, X1, ("nngp", "ntk")).ntk)
    np.testing.assert_allclose(kernel_fn(X1, X2, "nngp"), kernel_fn(X1, X2).nngp, rtol=1e-14,
                               atol=0)


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


def test_kernel_flags_under_neural_tangents_names():
    """x1_is_x2: x2 omitted or equal to x1 by value (also through engine.batch, under jit and
    after composition); is_input: False, as neural-tangents 0.6.5 sets it."""
    kernel_fn = mlp()[2]
    batched = nt.batch(kernel_fn, batch_size=3)
    for other, expected in ((None, True), (X1.copy(), True), (X1 + 1e-9, False), (X2, False)):
        for fn in (kernel_fn, jax.jit(kernel_fn), batched):
            k = fn(X1, other)
            assert isinstance(k.x1_is_x2, jax.Array) and bool(k.x1_is_x2) is expected
            assert k.is_input is False
    kernel = stax.Dense(8)[2](X1, X2)
    assert bool(stax.serial(stax.Relu(), stax.Dense(1))[2](kernel).x1_is_x2) is False
    inputs = []

    @stax.layer
    def Flip():  # a custom layer reading the flags as neural-tangents' do (traced)
        def kernel_fn(k, **kwargs):
            inputs.append(k.is_input)
            return k.replace(nngp=jnp.where(k.x1_is_x2, k.nngp, -k.nngp))
        return (lambda key, s: (s, ()), lambda params, x, **kwargs: x, kernel_fn)

    dense = stax.Dense(4)[2]
    flipped = stax.serial(stax.Dense(4), Flip())[2]
    np.testing.assert_allclose(flipped(X1, None, "nngp"), dense(X1, None, "nngp"), rtol=1e-14)
    np.testing.assert_allclose(flipped(X1, X2, "nngp"), -dense(X1, X2, "nngp"), rtol=1e-14)
    assert inputs and not any(inputs)


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


# ---------------------------------------------------------------- empirical kernels

def small_net():
    return stax.serial(stax.Dense(16, 1.5, 0.1), stax.Relu(), stax.Dense(3, 1.5, 0.1))


def full_ntk(apply_fn, params, x1, x2):
    """J(x1) J(x2)^T from ravelled parameters: (N1, k, N2, k)."""
    flat, unravel = jax.flatten_util.ravel_pytree(params)
    j1 = jax.jacfwd(lambda p: apply_fn(unravel(p), x1))(flat)
    j2 = jax.jacfwd(lambda p: apply_fn(unravel(p), x2))(flat)
    return np.einsum("acp,bdp->acbd", j1, j2)


@pytest.mark.parametrize("implementation", list(nt.NtkImplementation))
def test_empirical_ntk_axes_and_implementations(implementation):
    init_fn, apply_fn, _ = small_net()
    _, params = init_fn(jax.random.PRNGKey(0), X1.shape)
    full = full_ntk(apply_fn, params, X1, X2)
    fn = nt.empirical_ntk_fn
    np.testing.assert_allclose(fn(apply_fn, implementation=implementation)(X1, X2, params),
                               np.einsum("acbc->ab", full) / 3, rtol=1e-10)
    np.testing.assert_allclose(fn(apply_fn, trace_axes=(), implementation=implementation)(
        X1, X2, params), full.transpose(0, 2, 1, 3), rtol=1e-10)
    np.testing.assert_allclose(fn(apply_fn, trace_axes=(), diagonal_axes=(-1,),
                                  implementation=implementation)(X1, X2, params),
                               np.einsum("acbc->abc", full), rtol=1e-10)


def test_empirical_kernels_jit_grad_vmap():
    init_fn, apply_fn, _ = small_net()
    _, params = init_fn(jax.random.PRNGKey(0), X1.shape)
    ntk_fn = nt.empirical_ntk_fn(apply_fn)
    np.testing.assert_allclose(jax.jit(ntk_fn)(X1, X2, params), ntk_fn(X1, X2, params),
                               rtol=1e-12)
    grad = jax.grad(lambda x: ntk_fn(x, X2, params).sum())(X1)
    assert grad.shape == X1.shape and np.all(np.isfinite(grad))
    keys = jax.random.split(jax.random.PRNGKey(1), 3)
    params_batch = jax.vmap(lambda k: init_fn(k, X1.shape)[1])(keys)
    kernels = jax.vmap(lambda p: ntk_fn(X1, None, p))(params_batch)
    np.testing.assert_allclose(kernels[1], ntk_fn(X1, None, jax.tree_util.tree_map(
        lambda a: None if a is None else a[1], params_batch)), rtol=1e-10)


def test_empirical_nngp_and_kernel_fn():
    init_fn, apply_fn, _ = small_net()
    _, params = init_fn(jax.random.PRNGKey(0), X1.shape)
    f1, f2 = apply_fn(params, X1), apply_fn(params, X2)
    np.testing.assert_allclose(nt.empirical_nngp_fn(apply_fn)(X1, X2, params), f1 @ f2.T / 3,
                               rtol=1e-12)
    both = nt.empirical_kernel_fn(apply_fn)(X1, X2, None, params)
    np.testing.assert_allclose(both.nngp, f1 @ f2.T / 3, rtol=1e-12)
    np.testing.assert_allclose(both.ntk, nt.empirical_ntk_fn(apply_fn)(X1, X2, params),
                               rtol=1e-12)


def test_linearize_and_taylor_expand():
    """A deep linear network is a cubic polynomial in its three weight matrices."""
    init_fn, apply_fn, _ = stax.serial(stax.Dense(4), stax.Dense(4), stax.Dense(2))
    _, params = init_fn(jax.random.PRNGKey(0), X1.shape)
    moved = jax.tree_util.tree_map(lambda a: None if a is None else a + 0.1, params)
    exact = apply_fn(moved, X1)
    np.testing.assert_allclose(nt.taylor_expand(apply_fn, params, 3)(moved, X1), exact,
                               rtol=1e-10)
    linear = nt.linearize(apply_fn, params)
    np.testing.assert_allclose(nt.taylor_expand(apply_fn, params, 1)(moved, X1),
                               linear(moved, X1), rtol=1e-12)
    assert np.abs(linear(moved, X1) - exact).max() > 1e-3  # not exact at first order
    np.testing.assert_allclose(linear(params, X1), apply_fn(params, X1), rtol=1e-12)


@pytest.mark.slow
def test_monte_carlo_kernel_tends_to_the_closed_form():
    """NTK self-averages (close from one sample); the NNGP estimate improves like 1/sqrt(n)."""
    init_fn, apply_fn, kernel_fn = stax.serial(stax.Dense(256, 1.5, 0.1), stax.Erf(),
                                               stax.Dense(8, 1.5, 0.1))
    mc = nt.monte_carlo_kernel_fn(init_fn, apply_fn, jax.random.PRNGKey(0), [1, 8],
                                  batch_size=3)
    exact = kernel_fn(X1, X2)
    errors = [[np.linalg.norm(getattr(k, n) - getattr(exact, n)) /
               np.linalg.norm(getattr(exact, n)) for n in ("nngp", "ntk")] for k in mc(X1, X2)]
    (nngp_1, ntk_1), (nngp_8, ntk_8) = errors  # seen: (0.98, 0.079), (0.31, 0.024)
    assert ntk_1 < 0.15 and ntk_8 < 0.05
    assert nngp_8 < 0.5 and nngp_8 < nngp_1 / 2


# ---------------------------------------------------------------- predict

def test_predict_accepts_one_dimensional_targets_and_arrays():
    y = RNG.standard_normal(7)
    _, _, kernel_fn = mlp()
    k_train, k_test = kernel_fn(X1, None), kernel_fn(X2, X1)
    two_d = nt.predict.gp_inference(k_train, y[:, None], diag_reg=1e-3)("ntk", k_test)
    one_d = nt.predict.gp_inference(k_train.ntk, y, diag_reg=1e-3)("ntk", k_test.ntk)
    np.testing.assert_allclose(one_d, two_d[:, 0], rtol=1e-12)
    ensemble = nt.predict.gradient_descent_mse_ensemble(kernel_fn, X1, y, diag_reg=1e-3)
    np.testing.assert_allclose(ensemble(x_test=X2, get="ntk"), one_d, rtol=1e-8)
    mse = nt.predict.gradient_descent_mse(k_train.ntk, y)
    test_only = mse(4.0, None, np.zeros(4), k_test.ntk)
    _, test = mse(4.0, np.zeros(7), np.zeros(4), k_test.ntk)
    np.testing.assert_array_equal(test_only, test)


def test_gradient_descent_on_mse_is_the_closed_form_and_momentum_converges():
    _, _, kernel_fn = mlp()
    ntk, ntk_test = kernel_fn(X1, None, "ntk"), kernel_fn(X2, X1, "ntk")
    y = RNG.standard_normal((7, 2))
    f0, f0_test = RNG.standard_normal((7, 2)), RNG.standard_normal((4, 2))
    ts = np.array([0.0, 2.0, 20.0])
    closed = nt.predict.gradient_descent_mse(ntk, y, learning_rate=0.3)(ts, f0, f0_test, ntk_test)

    def loss(fx, y_hat):
        return 0.5 * jnp.mean((fx - y_hat) ** 2)
    solved = nt.predict.gradient_descent(loss, ntk, y, learning_rate=0.3)(ts, f0, f0_test,
                                                                           ntk_test)
    for a, b in zip(closed, solved):
        np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-7)
    heavy = nt.predict.gradient_descent(loss, ntk, y, learning_rate=0.3, momentum=0.9)
    assert np.abs(heavy(3000.0, f0) - y).max() < 1e-4


def test_max_learning_rate_with_momentum():
    ntk = np.diag([4.0, 1.0])
    np.testing.assert_allclose(nt.predict.max_learning_rate(ntk, 6, momentum=0.5), 4.5)
    with pytest.raises(ValueError, match="trace_axes"):
        nt.predict.gp_inference(ntk, np.ones((2, 1)), trace_axes=())
