"""Lazy vs rich: the NTK moves less as alpha or width grows; alpha -> infinity is the
linearised network."""
import jax
import numpy as np
import pytest

import engine
from engine.theory.lazy_training import lazy_rich, scaled_training
from engine.spec import build
from engine.widths import with_width

SPEC = [["Dense", {"out_dim": 8, "W_std": 1.5, "b_std": 0.1}], ["Relu", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.1}]]


def data():
    rng = np.random.default_rng(0)
    x_train, x_test = rng.standard_normal((6, 2)), rng.standard_normal((5, 2))
    return x_train, np.sin(2 * x_train[:, :1]), x_test, np.sin(2 * x_test[:, :1])


@pytest.mark.slow
def test_relative_ntk_change_falls_with_alpha_and_with_width():
    r = lazy_rich(SPEC, *data(), alphas=[0.5, 8.0], widths=[8, 128], width=8, alpha=1.0,
                  seeds=[0, 1, 2], learning_rate=0.3, steps=60)
    by_alpha, by_width = r.change_by_alpha.mean(axis=1), r.change_by_width.mean(axis=1)
    assert by_alpha[1] < 0.3 * by_alpha[0]  # ~1/alpha: 16 times larger alpha
    assert by_width[1] < 0.6 * by_width[0]  # ~1/sqrt(width): 16 times wider
    assert np.isfinite(r.kernel_test_loss) and not r.stopped
    assert r.test_loss_by_alpha.shape == (2, 3) and r.test_loss_by_width.shape == (2, 3)


@pytest.mark.slow
def test_large_alpha_trains_the_linearised_network():
    """alpha = 1000: test loss equals discrete GD on the network's initial empirical NTK
    (f_0 = 0 after centring) to 1e-3 relative."""
    x_train, y_train, x_test, y_test = data()
    network = build(with_width(SPEC, 8))
    _, loss = scaled_training(network, x_train, y_train, x_test, y_test, alpha=1000.0,
                              learning_rate=0.3, steps=40, seed=3)
    params0 = network.init_fn(jax.random.PRNGKey(3), x_train.shape)[1]
    ntk_fn = engine.empirical_ntk_fn(network.apply_fn)
    predict = engine.predict.gradient_descent_mse(ntk_fn(x_train, None, params0), y_train, 0.3,
                                                  discrete=True)
    f_test = predict(40, 0.0, np.zeros_like(y_test), ntk_fn(x_test, x_train, params0))[1]
    linear = 0.5 * np.mean((np.asarray(f_test) - y_test) ** 2)
    assert abs(loss - linear) < 1e-3 * linear


@pytest.mark.parametrize("kwargs,message", [
    (dict(alphas=[]), r"lazy_rich\(alphas=\[\]\): alphas must be a non-empty list of distinct "
                      r"positive numbers"),
    (dict(alphas=[1.0, -2.0]), r"lazy_rich\(alphas=\[1.0, -2.0\]\): alphas must be"),
    (dict(alpha=0.0), r"lazy_rich\(alpha=0.0\): alpha must be a positive finite number"),
    (dict(widths=[0]), r"lazy_rich\(widths=0\): widths must be a positive integer"),
    (dict(steps=0), r"lazy_rich\(steps=0\): steps must be a positive integer"),
    (dict(seeds=[1, 1]), r"lazy_rich\(seeds=\[1, 1\]\): seeds must be a list of distinct seeds"),
])
def test_argument_errors(kwargs, message):
    settings = dict(alphas=[1.0], widths=[4], width=4, steps=1) | kwargs
    with pytest.raises(ValueError, match=message):
        lazy_rich(SPEC, *data(), **settings)


def test_a_diverging_run_is_named_and_nan_never_inf():
    """A small alpha multiplies the parameter step by 1/alpha: with a large learning rate the
    training overflows. That run is listed in ``diverged`` and its entries are NaN."""
    r = lazy_rich(SPEC, *data(), alphas=[0.01, 8.0], widths=[8], width=8, alpha=8.0,
                  seeds=[0], learning_rate=0.3, steps=30)
    assert r.diverged == (("alpha", 0.01, 8, 0),)
    assert np.isnan(r.change_by_alpha[0, 0]) and np.isnan(r.test_loss_by_alpha[0, 0])
    assert np.isfinite(r.change_by_alpha[1, 0]) and np.isfinite(r.change_by_width).all()
