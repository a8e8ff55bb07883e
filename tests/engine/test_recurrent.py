"""Rnn: its closed-form NNGP/NTK against hand recursions, Monte Carlo and the empirical NTK."""
import math

import jax
import numpy as np
import pytest

import engine
from engine import stax
from engine.theory.sequence_models import WIDTH

W_STD, U_STD, B_STD = 1.2, 1.0, 0.3


def sequences(n=4, t=5, d=3, seed=1):
    return np.asarray(jax.random.normal(jax.random.PRNGKey(seed), (n, t, d)))


def erf_dual(q11, q12, q22):
    """E[erf(u) erf(v)] and E[erf'(u) erf'(v)] (Williams 1997), written out independently."""
    p = (1 + 2 * q11) * (1 + 2 * q22)
    return (2 / math.pi) * np.arcsin(2 * q12 / np.sqrt(p)), \
        (4 / math.pi) / np.sqrt(p - 4 * q12 ** 2)


def hand_recursion(x, readout):
    """The docstring's recursion, loop by loop over (t, t'), for an Erf RNN layer's output."""
    n, t_len, d = x.shape
    sigma0 = np.einsum("atc,bsc->abts", x, x) / d
    k = np.zeros((n, n, t_len, t_len))
    theta = np.zeros_like(k)
    pairs = sorted(((t, s) for t in range(t_len) for s in range(t_len)), key=max)
    for t, s in pairs:  # (t-1, t-1), (s-1, s-1) and (t-1, s-1) come first
        k[:, :, t, s] = U_STD ** 2 * sigma0[:, :, t, s] + B_STD ** 2
        theta[:, :, t, s] = k[:, :, t, s]
        if t and s:
            q11 = np.diagonal(k[:, :, t - 1, t - 1])[:, None]
            q22 = np.diagonal(k[:, :, s - 1, s - 1])[None, :]
            e, e_dot = erf_dual(q11, k[:, :, t - 1, s - 1], q22)
            k[:, :, t, s] += W_STD ** 2 * e
            theta[:, :, t, s] = k[:, :, t, s] + W_STD ** 2 * e_dot * theta[:, :, t - 1, s - 1]
    diag = np.einsum("aatt->at", k)
    e, e_dot = erf_dual(diag[:, None, :, None], k, diag[None, :, None, :])
    nngp, ntk = e, e_dot * theta
    if readout == "last":
        return nngp[..., -1, -1], ntk[..., -1, -1]
    return nngp.mean(axis=(-2, -1)), ntk.mean(axis=(-2, -1))


def test_kernel_equals_the_recursion_written_out():
    """The mean readout averages every (t, t') pair: all of the recursion is checked (the last
    step alone: the empirical NTK and W_std = 0 tests)."""
    readout = "mean"
    x = sequences()
    _, _, kernel_fn = stax.Rnn(64, W_STD, U_STD, B_STD, stax.Erf(), readout=readout)
    k = kernel_fn(x, None, ("nngp", "ntk"))
    nngp, ntk = hand_recursion(x, readout)
    np.testing.assert_allclose(k.nngp, nngp, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(k.ntk, ntk, rtol=1e-10, atol=1e-12)


def test_without_recurrence_it_is_dense_then_activation_on_the_last_step():
    x = sequences()
    rnn = stax.serial(stax.Rnn(64, 0.0, U_STD, B_STD, stax.Relu()), stax.Dense(1, 1.5, 0.1))
    ff = stax.serial(stax.Dense(64, U_STD, B_STD), stax.Relu(), stax.Dense(1, 1.5, 0.1))
    a = rnn.kernel_fn(x, x[:2], ("nngp", "ntk"))
    b = ff.kernel_fn(x[:, -1], x[:2, -1], ("nngp", "ntk"))
    np.testing.assert_allclose(a.nngp, b.nngp, rtol=1e-12)
    np.testing.assert_allclose(a.ntk, b.ntk, rtol=1e-12)


def test_finite_network_shapes_and_shared_weights():
    x = sequences(t=7)
    init_fn, apply_fn, _ = stax.serial(stax.Rnn(16, readout="mean"), stax.Dense(2))
    out_shape, params = init_fn(jax.random.PRNGKey(0), x.shape)
    (u, w, b), _ = params
    assert out_shape == (4, 2) and u.shape == (3, 16) and w.shape == (16, 16) and b.shape == (16,)
    assert apply_fn(params, x).shape == (4, 2)


@pytest.mark.slow
def test_nngp_matches_monte_carlo_of_finite_rnns():
    """ReLU, mean readout (Erf and the last step: the NTK test). Mean over 16 networks of width 512 of h(x) . h(x') / n: within 6 % of the largest entry."""
    x = sequences()
    init_fn, apply_fn, kernel_fn = stax.Rnn(512, W_STD, U_STD, B_STD, stax.Relu(), readout="mean")
    exact = np.asarray(kernel_fn(x, None, "nngp"))

    @jax.jit
    def one(key):
        h = apply_fn(init_fn(key, x.shape)[1], x)
        return h @ h.T / h.shape[1]
    mc = np.mean([one(k) for k in jax.random.split(jax.random.PRNGKey(0), 16)], axis=0)
    assert np.abs(mc - exact).max() < 0.06 * np.abs(exact).max()


@pytest.mark.slow
def test_ntk_matches_the_empirical_ntk_of_wide_rnns():
    """Empirical NTK (Jacobian contraction, averaged over 8 readout units and 4 networks of
    width 512): within 8 % of the largest entry of the closed form."""
    x = sequences()
    net = stax.serial(stax.Rnn(512, W_STD, U_STD, B_STD, stax.Erf()), stax.Dense(8, 1.0, 0.1))
    exact = np.asarray(net.kernel_fn(x, None, "ntk"))
    ntk_fn = jax.jit(lambda p: engine.empirical_ntk_fn(net.apply_fn, implementation="jacobian")(
        x, None, p))
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    emp = np.mean([ntk_fn(net.init_fn(k, x.shape)[1]) for k in keys], axis=0)
    assert np.abs(emp - exact).max() < 0.08 * np.abs(exact).max()


@pytest.mark.parametrize("kwargs,message", [
    (dict(out_dim=0), r"Rnn\(out_dim=0\): out_dim must be a positive integer"),
    (dict(out_dim=4, U_std=-1.0), r"Rnn\(U_std=-1.0\): U_std must be non-negative"),
    (dict(out_dim=4, readout="first"), r"Rnn\(readout='first'\): expected one of \['last', 'mean'\]"),
    (dict(out_dim=4, activation=stax.Dense(3)),
     r"Rnn\(activation=.*\): activation must be an elementwise activation layer"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        stax.Rnn(**kwargs)


def test_inputs_must_be_sequences():
    _, _, kernel_fn = stax.Rnn(4)
    with pytest.raises(ValueError, match=r"Rnn\(out_dim=4\): needs sequences of shape \(N, T, d\); "
                                         r"got inputs of shape \('N', 3\)"):
        kernel_fn(np.ones((2, 3)))


def test_long_sequences_give_symmetric_psd_kernels():
    """T = 20 in the chaotic regime (W_std = 3): erf's NNGP stays in [-1, 1], PSD, no NaN."""
    x = sequences(n=4, t=20)
    k = stax.Rnn(4, 3.0, U_STD, B_STD, stax.Erf()).kernel_fn(x, None, ("nngp", "ntk"))
    for m in (np.asarray(k.nngp), np.asarray(k.ntk)):
        assert np.isfinite(m).all() and np.allclose(m, m.T, rtol=1e-12)
        assert np.linalg.eigvalsh(m).min() > -1e-10 * np.abs(m).max()
    assert np.abs(np.asarray(k.nngp)).max() <= 1


def test_sine_sequences_continue_the_wave():
    """Noiseless windows obey x_{t+1} = 2 cos(omega) x_t - x_{t-1}; the target is that next value."""
    d = engine.sine_sequences(n_train=5, n_test=3, length=6, noise=0.0, seed=2)
    assert d.x_train.shape == (5, 6, 1) and d.y_train.shape == (5, 1) and d.x_test.shape == (3, 6, 1)
    x = d.x_train[:, :, 0]
    two_cos = (x[:, 3] + x[:, 1]) / x[:, 2]
    np.testing.assert_allclose(two_cos * x[:, -1] - x[:, -2], d.y_train[:, 0], atol=1e-9)


def test_sine_sequences_errors():
    with pytest.raises(ValueError, match=r"sine_sequences\(length=0\): length must be"):
        engine.sine_sequences(length=0)


def test_rnn_fc_and_cnn_compared_on_sequences():
    d = engine.sine_sequences(n_train=6, n_test=4, length=4)
    c = engine.compare_sequence_models(d.x_train, d.y_train, d.x_test, d.y_test)
    assert c.models == engine.SEQUENCE_MODELS == ("RNN", "FC", "CNN")
    assert c.ntk_train.shape == (3, 6, 6) and c.predictions.shape == (3, 4)
    rnn = stax.serial(stax.Rnn(WIDTH, 1.5, 1.0, 0.1, stax.Erf()), stax.Dense(1, 1.5, 0.1))
    np.testing.assert_allclose(c.ntk_train[0], rnn.kernel_fn(d.x_train, None, "ntk"), rtol=1e-10)
    np.testing.assert_allclose(c.test_loss, 0.5 * np.mean((c.predictions - c.y_test) ** 2, 1))
    with pytest.raises(ValueError, match=r"compare_sequence_models\(x_train=<array of shape "
                                         r"\(6, 4\)>\): x_train must be sequences"):
        engine.compare_sequence_models(d.x_train[:, :, 0], d.y_train, d.x_test[:, :, 0], d.y_test)
