"""Closed-form GD-ensemble predictions: the oracle case and the laws of design.md §4."""
import os
import re
import subprocess
import sys
import textwrap
from collections import namedtuple

import numpy as np
import pytest

import engine
from engine.closed_form.dynamics import NtkDynamics
from engine.closed_form.ensemble import GradientDescent, ensemble_predictor
from engine.closed_form.losses import expected_loss
from engine.predict import (Gaussian, gp_inference, gradient_descent_mse,
                            gradient_descent_mse_ensemble, max_learning_rate)

Kernels = namedtuple("Kernels", "nngp ntk")
ARCH = [["Dense", {"W_std": 1.5, "b_std": 0.5}], ["Relu", {}],
        ["Dense", {"W_std": 1.5, "b_std": 0.5}], ["Relu", {}],
        ["Dense", {"W_std": 1.5, "b_std": 0.5}]]
T = np.array([0.0, 1.0, 10.0, 100.0, np.inf])


def _relu_step(nngp, ntk):
    """Arc-cosine kernel of ReLU: E[relu(u) relu(v)] and E[relu'(u) relu'(v)] * Theta."""
    norms = np.sqrt(np.outer(np.diag(nngp), np.diag(nngp)))
    cos = np.clip(nngp / norms, -1.0, 1.0)
    angle = np.arccos(cos)
    new = norms * (np.sin(angle) + (np.pi - angle) * cos) / (2 * np.pi)
    return new, ntk * (np.pi - angle) / (2 * np.pi)


def relu_kernel_fn(arch=ARCH):
    """A test-local NumPy kernel_fn for Dense/Relu stacks (NTK parameterization)."""
    def joint(x):
        nngp, ntk = x @ x.T / x.shape[1], np.zeros((len(x), len(x)))
        for name, kw in arch:
            if name == "Dense":
                nngp = kw["W_std"] ** 2 * nngp + kw["b_std"] ** 2
                ntk = nngp + kw["W_std"] ** 2 * ntk
            else:
                nngp, ntk = _relu_step(nngp, ntk)
        return {"nngp": nngp, "ntk": ntk}

    def kernel_fn(x1, x2=None, get=None):
        n1 = len(x1)
        full = joint(np.concatenate([x1, x1 if x2 is None else x2]))
        names = ("nngp", "ntk") if get is None else (get,) if isinstance(get, str) else get
        blocks = [full[name][:n1, n1:] for name in names]
        return blocks[0] if isinstance(get, str) else namedtuple("K", names)(*blocks)

    return kernel_fn


@pytest.fixture(scope="module")
def data():
    """A small 2-D regression problem with two outputs and its kernels."""
    rng = np.random.default_rng(0)
    x_train, x_test = rng.standard_normal((10, 2)), rng.standard_normal((7, 2))
    y_train = np.stack([np.sin(x_train[:, 0]), np.cos(x_train.sum(1))], axis=1)
    y_test = np.stack([np.sin(x_test[:, 0]), np.cos(x_test.sum(1))], axis=1)
    kf = relu_kernel_fn()
    return dict(x_train=x_train, x_test=x_test, y_train=y_train, y_test=y_test, kernel_fn=kf,
                k_train_train=kf(x_train), k_test_train=kf(x_test, x_train),
                k_test_test=kf(x_test))


def _predictor(data, get="ntk", **kwargs):
    return ensemble_predictor(data["k_train_train"], data["y_train"], data["k_test_train"],
                              data["k_test_test"], data["y_test"], get=get, **kwargs)


# ---------------------------------------------------------------- the oracle case

def _oracle_parts(oracle):
    case = oracle.case("pred_relu_d2")
    kernels = {f: Kernels(*(oracle.array(case, f"k_{f}_{m}") for m in ("nngp", "ntk")))
               for f in ("train_train", "test_train", "test_test")}
    return case, kernels, oracle.array(case, "y_train"), case["predict"]


def _assert_matches(oracle, case, mine):
    result = oracle.compare(case, mine, rtol=1e-6)
    assert all(ok for _, ok in result.values()), result


def test_gp_inference_matches_oracle(oracle):
    case, k, y, p = _oracle_parts(oracle)
    gp = gp_inference(k["train_train"], y, p["diag_reg"], p["diag_reg_absolute_scale"])(
        get=("nngp", "ntk"), k_test_train=k["test_train"], k_test_test=k["test_test"])
    _assert_matches(oracle, case, {f"gp_{m}_{f}": getattr(getattr(gp, m), g)
                                   for m in ("nngp", "ntk")
                                   for f, g in (("mean", "mean"), ("cov", "covariance"))})


@pytest.mark.parametrize("mode", ["nngp", "ntk"])
def test_predictor_from_stored_kernels_matches_oracle(oracle, mode):
    case, k, y, p = _oracle_parts(oracle)
    test = ensemble_predictor(k["train_train"], y, k["test_train"], k["test_test"], get=mode,
                              learning_rate=p["learning_rate"], diag_reg=p["diag_reg"],
                              diag_reg_absolute_scale=p["diag_reg_absolute_scale"]).test
    _assert_matches(oracle, case, {f"gd_{mode}_mean": test.mean(T), f"gd_{mode}_cov": test.cov(T),
                                   f"gdinf_{mode}_mean": test.mean(None),
                                   f"gdinf_{mode}_cov": test.cov(np.inf)})


def _engine_kernel_fn(arch):
    if not hasattr(engine, "build"):
        pytest.skip("engine.build is not there yet")
    _, _, kernel_fn = engine.build(arch)
    return kernel_fn


@pytest.mark.parametrize("source", ["numpy", "engine"])
def test_ensemble_through_kernel_fn_matches_oracle(oracle, source):
    case, _, y, p = _oracle_parts(oracle)
    arch = case["arch"]
    kernel_fn = relu_kernel_fn(arch) if source == "numpy" else _engine_kernel_fn(arch)
    predict_fn = gradient_descent_mse_ensemble(kernel_fn, oracle.array(case, "x_train"), y,
                                               p["learning_rate"], p["diag_reg"],
                                               p["diag_reg_absolute_scale"])
    x_test = oracle.array(case, "x_test")
    at_t, at_inf = (predict_fn(t, x_test, compute_cov=True) for t in (T, None))
    _assert_matches(oracle, case, {f"{pre}_{m}_{f}": getattr(getattr(r, m), g)
                                   for pre, r in (("gd", at_t), ("gdinf", at_inf))
                                   for m in ("nngp", "ntk")
                                   for f, g in (("mean", "mean"), ("cov", "covariance"))})


# ---------------------------------------------------------------- laws

@pytest.mark.parametrize("mode", ["nngp", "ntk"])
def test_t0_is_the_prior(data, mode):
    test = _predictor(data, mode, diag_reg=1e-3).test
    np.testing.assert_allclose(test.mean(0.0), 0.0, atol=1e-14)
    np.testing.assert_allclose(test.cov(0), data["k_test_test"].nngp, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode", ["nngp", "ntk"])
def test_t_inf_is_kernel_regression_and_gp_inference(data, mode):
    k_dd, k_td = getattr(data["k_train_train"], mode), getattr(data["k_test_train"], mode)
    test = _predictor(data, mode).test
    regression = k_td @ np.linalg.solve(k_dd, data["y_train"])
    np.testing.assert_allclose(test.mean(np.inf), regression, rtol=1e-8, atol=1e-10)
    gp = gp_inference(data["k_train_train"], data["y_train"])(
        mode, data["k_test_train"], data["k_test_test"])
    np.testing.assert_allclose(test.mean(), gp.mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(test.cov(), gp.covariance, rtol=1e-8, atol=1e-10)


def test_nngp_posterior_covariance_formula(data):
    k = data["k_train_train"].nngp
    k_td, k_tt = data["k_test_train"].nngp, data["k_test_test"].nngp
    gp = gp_inference(data["k_train_train"], data["y_train"])(
        "nngp", data["k_test_train"], data["k_test_test"])
    np.testing.assert_allclose(gp.covariance, k_tt - k_td @ np.linalg.solve(k, k_td.T),
                               rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("mode", ["nngp", "ntk"])
def test_covariance_is_symmetric_psd_and_variance_is_its_diagonal(data, mode):
    test = _predictor(data, mode, diag_reg=1e-4).test
    times = np.array([0.0, 0.5, 3.0, 1e4, np.inf])
    covs = np.asarray(test.cov(times))
    assert covs.shape == (5, 7, 7)
    np.testing.assert_array_equal(covs, np.swapaxes(covs, 1, 2))
    scale = np.abs(covs).max()
    assert np.linalg.eigvalsh(covs).min() > -1e-10 * scale
    np.testing.assert_allclose(test.variance(times), np.diagonal(covs, axis1=1, axis2=2),
                               rtol=1e-10, atol=1e-12 * scale)


def _explicit_discrete(a_train, a_test, k_joint, y, step, steps):
    """GD step by step: B_t = step * sum_{s<t} (I - step A)^s; f_t = f0 + A_td B_t (y - f0)."""
    n = len(y)
    decay, b = np.eye(n), np.zeros((n, n))
    for _ in range(steps):
        b += step * decay
        decay = decay - step * a_train @ decay
    linear = np.concatenate([np.eye(len(a_test)), -a_test @ b], axis=1)
    return a_test @ b @ y, linear @ k_joint @ linear.T


@pytest.mark.parametrize("mode", ["nngp", "ntk"])
def test_discrete_matches_gradient_descent_step_by_step(data, mode):
    a_dd, a_td = getattr(data["k_train_train"], mode), getattr(data["k_test_train"], mode)
    lr = 0.95 * max_learning_rate(a_dd, data["y_train"].size)  # oscillating but stable steps
    x = np.concatenate([data["x_test"], data["x_train"]])
    k_joint = data["kernel_fn"](x).nngp
    mean, cov = _explicit_discrete(a_dd, a_td, k_joint, data["y_train"],
                                   lr / data["y_train"].size, 7)
    test = _predictor(data, mode, learning_rate=lr, discrete=True).test
    np.testing.assert_allclose(test.mean(7), mean, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(test.cov(7), cov, rtol=1e-9, atol=1e-11)


def test_discrete_tends_to_continuous_as_learning_rate_shrinks(data):
    errors = []
    for lr in (1.0, 0.1, 0.01):
        steps = 20.0 / lr  # same continuous time tau = lr * t / |Y|
        continuous, discrete = (_predictor(data, learning_rate=lr, discrete=d).test
                                for d in (False, True))
        errors.append(np.abs(continuous.mean(steps) - discrete.mean(steps)).max())
    assert errors[0] > 0 and errors[1] < 0.2 * errors[0] and errors[2] < 0.2 * errors[1]


def test_single_network_linearised_dynamics(data):
    rng = np.random.default_rng(1)
    ntk_dd, ntk_td = data["k_train_train"].ntk, data["k_test_train"].ntk
    f0_train, f0_test = rng.standard_normal((10, 2)), rng.standard_normal((7, 2))
    y, lr = data["y_train"], 0.9 * max_learning_rate(ntk_dd, 20)
    f_train, f_test = f0_train.copy(), f0_test.copy()
    for _ in range(5):
        residual = f_train - y
        f_train, f_test = (f - lr / y.size * k @ residual for f, k in
                           ((f_train, ntk_dd), (f_test, ntk_td)))
    predict = gradient_descent_mse(ntk_dd, y, lr, discrete=True)
    mine_train, mine_test = predict(5, f0_train, f0_test, ntk_td)
    np.testing.assert_allclose(mine_train, f_train, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(mine_test, f_test, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(gradient_descent_mse(ntk_dd, y)(None, f0_train), y, atol=1e-8)


def test_single_network_from_zero_is_the_ensemble_mean(data):
    predict = gradient_descent_mse(data["k_train_train"].ntk, data["y_train"], 2.0, 1e-3)
    _, f_test = predict(T, 0.0, 0.0, data["k_test_train"].ntk)
    np.testing.assert_allclose(f_test, _predictor(data, learning_rate=2.0, diag_reg=1e-3)
                               .test.mean(T), rtol=1e-12, atol=1e-14)


def test_retrained_reuses_the_eigensystem(data):
    settings = dict(learning_rate=0.5, diag_reg=1e-2, diag_reg_absolute_scale=True, discrete=True)
    fresh = _predictor(data, "nngp", **settings)
    base = _predictor(data, "nngp")
    moved = base.retrained(**settings)
    assert moved.eigensystem is base.eigensystem and moved.test.nngp_test_v is base.test.nngp_test_v
    assert moved.training == GradientDescent(**settings) and moved.diag_reg == 1e-2
    np.testing.assert_allclose(moved.test.mean(T[:4]), fresh.test.mean(T[:4]), rtol=1e-10)
    np.testing.assert_allclose(moved.test.cov(T[:4]), fresh.test.cov(T[:4]), rtol=1e-10)
    _raises("EnsemblePredictor.retrained(learning_rate=0): learning_rate must be a positive "
            "finite number", moved.retrained, learning_rate=0)


def test_output_structure_and_shapes(data):
    predict_fn = gradient_descent_mse_ensemble(data["kernel_fn"], data["x_train"], data["y_train"])
    assert predict_fn(3.0, data["x_test"], "ntk").shape == (7, 2)
    both = predict_fn(T, data["x_test"], compute_cov=True)
    assert both._fields == ("nngp", "ntk") and isinstance(both.ntk, Gaussian)
    assert both.nngp.mean.shape == (5, 7, 2) and both.nngp.covariance.shape == (5, 7, 7)
    on_train = predict_fn(None, None, ("ntk",))
    assert on_train._fields == ("ntk",) and on_train.ntk.shape == (10, 2)
    np.testing.assert_allclose(on_train.ntk, data["y_train"], atol=1e-7)  # interpolates


def test_max_learning_rate_is_the_stability_edge(data):
    ntk = data["k_train_train"].ntk
    np.testing.assert_allclose(max_learning_rate(np.diag([4.0, 1.0]), 6), 3.0)
    assert max_learning_rate(np.zeros((3, 3))) == np.inf
    edge = max_learning_rate(ntk, data["y_train"].size)
    stable = _predictor(data, learning_rate=0.99 * edge, discrete=True).train
    continuous = _predictor(data, learning_rate=0.99 * edge).train
    np.testing.assert_allclose(stable.mean(np.inf), continuous.mean(np.inf), rtol=1e-12)
    np.testing.assert_allclose(stable.mean(10**7), stable.mean(np.inf), rtol=1e-6, atol=1e-8)
    unstable = _predictor(data, learning_rate=1.01 * edge, discrete=True).train
    assert np.abs(unstable.mean(4000)).max() > 1e3 * np.abs(data["y_train"]).max()


# ---------------------------------------------------------------- losses

def test_loss_moments_match_monte_carlo(data):
    predictor = _predictor(data, diag_reg=1e-3)
    t = 30.0
    loss = predictor.loss([0.0, t])
    mean, cov = np.asarray(predictor.test.mean(t)), np.asarray(predictor.test.cov(t))
    w, v = np.linalg.eigh(cov)
    root = v * np.sqrt(np.clip(w, 0, None))
    z = np.random.default_rng(2).standard_normal((40000, 7, 2))
    samples = mean + np.einsum("ij,sjk->sik", root, z)
    losses = 0.5 * np.mean((samples - data["y_test"]) ** 2, axis=(1, 2))
    assert abs(loss.test.mean[1] - losses.mean()) < 5 * losses.std() / np.sqrt(len(losses))
    np.testing.assert_allclose(loss.test.std[1], losses.std(), rtol=0.03)
    assert loss.train.t.shape == loss.train.mean.shape == loss.train.std.shape == (2,)
    assert loss.train.mean[1] < loss.train.mean[0]


def test_loss_at_t0_is_prior_and_train_loss_vanishes(data):
    predictor = _predictor(data)
    loss = predictor.loss(np.array([0.0, np.inf]))
    k_tt, y = data["k_test_test"].nngp, data["y_test"]
    np.testing.assert_allclose(loss.test.mean[0], 0.5 * (np.sum(y ** 2) / y.size
                                                         + np.trace(k_tt) / len(k_tt)))
    assert loss.train.mean[1] < 1e-12 and loss.train.std[1] < 1e-12


# ---------------------------------------------------------------- ill-conditioning

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["nngp", "ntk"])
def test_duplicate_points_never_give_nan(data, mode, dtype):
    x = np.concatenate([data["x_train"][:7], data["x_train"][:3]])  # 3 duplicated inputs
    y = data["y_train"].copy()
    y[7:] += 1.0  # conflicting targets on the duplicates
    kf = relu_kernel_fn(ARCH * 3)  # deep: nearly constant kernel
    k_dd = Kernels(*(a.astype(dtype) for a in kf(x)))
    predictor = ensemble_predictor(k_dd, y, kf(data["x_test"], x), kf(data["x_test"]),
                                   data["y_test"], get=mode)
    assert predictor.clipped_eigenvalues >= 3 and predictor.diag_reg == 0.0
    assert predictor.min_eigenvalue < 1e-6 * np.abs(getattr(k_dd, mode)).max()
    times = np.array([0.0, 1.0, 1e3, 1e9, np.inf])
    loss = predictor.loss(times[3:])
    outputs = [predictor.test.mean(times), predictor.test.cov(times),
               predictor.test.variance(times), predictor.train.mean(times),
               loss.test.mean, loss.test.std, loss.train.mean, loss.train.std]
    assert all(np.all(np.isfinite(out)) for out in outputs)
    assert np.all(np.asarray(predictor.test.variance(times)) >= 0)


# ---------------------------------------------------------------- errors

def _raises(match, fn, *args, **kwargs):
    with pytest.raises(ValueError, match="^" + re.escape(match)):
        fn(*args, **kwargs)


def test_setting_errors(data):
    kf, x, y = data["kernel_fn"], data["x_train"], data["y_train"]
    gd = gradient_descent_mse_ensemble
    _raises("gradient_descent_mse_ensemble(learning_rate=-1.0): learning_rate must be a "
            "positive finite number", gd, kf, x, y, learning_rate=-1.0)
    _raises("gradient_descent_mse_ensemble(diag_reg=-0.1): diag_reg must be a non-negative "
            "finite number", gd, kf, x, y, diag_reg=-0.1)
    _raises("gradient_descent_mse_ensemble(discrete='yes'): discrete must be True or False",
            gd, kf, x, y, discrete="yes")
    _raises("GradientDescent(learning_rate=nan): learning_rate must be a positive finite number",
            GradientDescent, float("nan"))


def test_array_errors(data):
    kf, x, y = data["kernel_fn"], data["x_train"], data["y_train"]
    bad_y = y.copy()
    bad_y[0, 0] = np.nan
    _raises("gradient_descent_mse_ensemble(y_train=<array of shape (10, 2)>): y_train must be "
            "finite (it has 1 NaN or inf entries)", gradient_descent_mse_ensemble, kf, x, bad_y)
    _raises("gradient_descent_mse_ensemble(y_train=<array of shape (9, 2)>): y_train must be "
            "an array of shape (10, n)", gradient_descent_mse_ensemble, kf, x, y[:9])
    _raises("gradient_descent_mse_ensemble(x_train=<array of shape (10,)>): x_train must be an "
            "array of shape (n, features...)", gradient_descent_mse_ensemble, kf, x[:, 0], y)
    _raises("gp_inference(k_train_train=tuple): k_train_train must be an object with a .nngp "
            "array", gp_inference, (1, 2), y)
    _raises("gp_inference(k_train_train.nngp=<array of shape (10, 9)>): k_train_train.nngp must "
            "be an array of shape (10, 10)", gp_inference, Kernels(np.ones((10, 9)), None), y)
    _raises("max_learning_rate(ntk_train_train=<array of shape (3, 4)>): ntk_train_train must "
            "be a square (n_train, n_train) array", max_learning_rate, np.ones((3, 4)))
    _raises("max_learning_rate(y_train_size=0): y_train_size must be a positive integer",
            max_learning_rate, np.eye(3), 0)
    _raises("ensemble_predictor(k_train_train.nngp=<array of shape (10, 9)>): k_train_train.nngp "
            "must be an array of shape (10, 10)",
            ensemble_predictor, Kernels(np.ones((10, 9)), np.ones((10, 9))), np.ones((10, 9)))
    conv_like = lambda x1, x2=None, get=None: Kernels(np.ones((10, 10, 2, 2)), np.eye(10))
    _raises("gradient_descent_mse_ensemble(kernel_fn(x_train).nngp=<array of shape "
            "(10, 10, 2, 2)>): kernel_fn(x_train).nngp must be an array of shape (10, 10)",
            gradient_descent_mse_ensemble, conv_like, x, y)


def test_predict_fn_errors(data):
    predict_fn = gradient_descent_mse_ensemble(data["kernel_fn"], data["x_train"],
                                               data["y_train"], discrete=True)
    where = "gradient_descent_mse_ensemble.predict_fn"
    _raises(f"{where}(t=-1.0): t must be non-negative (>= 0, or inf for the end of training)",
            predict_fn, -1.0)
    _raises(f"{where}(t=<array of shape (2,)>): t must be non-negative", predict_fn,
            np.array([1.0, np.nan]))
    _raises(f"{where}(t=<array of shape (1, 1)>): t must be a scalar or a 1-D array of times",
            predict_fn, [[1.0]])
    _raises(f"{where}(t=1.5): t must be whole step counts when discrete=True", predict_fn, 1.5)
    _raises(f"{where}(get='nntk'): get must be 'nngp', 'ntk' or a tuple of distinct ones",
            predict_fn, 1, None, "nntk")
    _raises(f"{where}(get=('ntk', 'ntk')): get must be", predict_fn, 1, None, ("ntk", "ntk"))
    unstable = gradient_descent_mse_ensemble(data["kernel_fn"], data["x_train"], data["y_train"],
                                             learning_rate=1e6, discrete=True)
    _raises(f"{where}(t=inf): t must be finite: with this learning_rate discrete gradient "
            "descent diverges (see max_learning_rate)", unstable, None)


def test_kernel_shape_errors(data):
    gp = gp_inference(data["k_train_train"], data["y_train"])
    bad = Kernels(np.ones((7, 9)), np.ones((7, 9)))
    _raises("gp_inference.predict_fn(k_test_train.nngp=<array of shape (7, 9)>): "
            "k_test_train.nngp must be an array of shape (n, 10)", gp, "nngp", bad)
    _raises("gp_inference.predict_fn(k_test_test.nngp=<array of shape (6, 6)>): "
            "k_test_test.nngp must be an array of shape (7, 7)", gp, "nngp",
            data["k_test_train"], Kernels(np.eye(6), None))
    only_nngp = gp_inference(Kernels(data["k_train_train"].nngp, None), data["y_train"])
    _raises("gp_inference.predict_fn(k_train_train=Kernels): k_train_train must be an object "
            "with a .ntk array", only_nngp, "ntk")
    on_train = only_nngp("nngp")
    assert isinstance(on_train, Gaussian) and on_train.mean.shape == (10, 2)


def test_single_network_errors(data):
    ntk, y = data["k_train_train"].ntk, data["y_train"]
    predict = gradient_descent_mse(ntk, y)
    _raises("gradient_descent_mse.predict_fn(fx_train_0=<array of shape (3,)>): fx_train_0 "
            "must be a number or an array of shape (10, 2)", predict, 1.0, np.ones(3))
    _raises("gradient_descent_mse.predict_fn(k_test_train=None): k_test_train must be the "
            "(n_test, n_train) NTK when fx_test_0 is given", predict, 1.0, 0.0, 0.0)
    _raises("gradient_descent_mse(k_train_train=<array of shape (10, 9)>): k_train_train must "
            "be an array of shape (10, 10)", gradient_descent_mse, ntk[:, :9], y)


def test_predictor_errors(data):
    k_dd, k_td, y = data["k_train_train"], data["k_test_train"], data["y_train"]
    _raises("ensemble_predictor(get=('nngp', 'ntk')): get must be 'nngp' or 'ntk' (one mode)",
            ensemble_predictor, k_dd, y, get=("nngp", "ntk"))
    _raises("ensemble_predictor(k_test_test=None): k_test_test must be given when y_test is "
            "(the test loss needs the test covariance)", ensemble_predictor, k_dd, y, k_td,
            None, data["y_test"])
    _raises("ensemble_predictor(y_test=<array of shape (6, 2)>): y_test must be an array of "
            "shape (7, n)", ensemble_predictor, k_dd, y, k_td, data["k_test_test"],
            data["y_test"][:6])
    mean_only = ensemble_predictor(k_dd, y, k_td).test
    _raises("NtkDynamics.cov(): needs nngp_test_test (the test-test NNGP kernel), which was not "
            "given when this was built", mean_only.cov, 1.0)
    _raises("NtkDynamics.variance(): needs nngp_test_test or nngp_test_diag", mean_only.variance)
    _raises("NtkDynamics.mean(t=-2): t must be non-negative", mean_only.mean, -2)
    _raises("expected_loss(dynamics=NtkDynamics): dynamics must be built with nngp_test_test "
            "(the full covariance is needed)", expected_loss, mean_only, data["y_test"], 1.0)
    train = ensemble_predictor(k_dd, y).train
    _raises("expected_loss(y=<array of shape (10, 1)>): y must be an array of shape (10, 2)",
            expected_loss, train, y[:, :1], 1.0)
    assert isinstance(train, NtkDynamics)


def test_mean_only_predictions_eigendecompose_each_asked_kernel_once(data, monkeypatch):
    """A mean needs no NNGP projection and no eigensystem of a kernel it does not use."""
    import engine.closed_form.flow as flow_module

    calls = []  # eigendecompositions, made through flow.eigensystems (side by side)
    real = flow_module.eigensystem
    monkeypatch.setattr(flow_module, "eigensystem", lambda k: calls.append(1) or real(k))
    x_train, y_train, x_test = data["x_train"], data["y_train"], data["x_test"]
    predict_fn = gradient_descent_mse_ensemble(relu_kernel_fn(), x_train, y_train,
                                               diag_reg=1e-4)
    assert calls == []
    mean = predict_fn(t=T[:4], x_test=x_test, get="ntk")
    mean_again = predict_fn(t=T[:4], x_test=x_test, get="ntk")
    assert len(calls) == 1
    both = predict_fn(t=T[:4], x_test=x_test, get="ntk", compute_cov=True)
    assert len(calls) == 1  # the covariance reuses the same eigensystem
    np.testing.assert_allclose(mean, both.mean, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(mean, mean_again)


def test_a_float32_program_predicts_in_float32_without_a_warning():
    """Without jax_enable_x64 (neural-tangents' programs' default) a prediction is float32
    and warns nothing (asking JAX for float64 there used to warn on every call)."""
    code = textwrap.dedent("""
        import warnings
        import numpy as np
        import jax
        assert not jax.config.jax_enable_x64
        warnings.simplefilter("error")
        import engine as nt
        from engine import stax
        x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
        _, _, kernel_fn = stax.serial(stax.Dense(8), stax.Relu(), stax.Dense(1))
        predict = nt.predict.gradient_descent_mse_ensemble(kernel_fn, x, np.sin(x[:, :1]),
                                                           diag_reg=1e-4)
        out = predict(x_test=x[:2], get="ntk")
        assert out.dtype == np.float32 and np.isfinite(out).all(), out
        print("ok")
    """)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=root)
    env.pop("JAX_ENABLE_X64", None)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=root, timeout=300)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-2000:]


def test_predictions_are_jax_functions_of_time_and_initial_outputs():
    """jax.jit, jax.grad and jax.vmap over t (and over the initial outputs) work on both
    predictors, as in neural-tangents, and agree with the eager values and central
    differences; a traced t of the wrong shape is refused by its shape."""
    import jax
    import jax.numpy as jnp
    from engine import stax
    _, _, kernel_fn = stax.serial(stax.Dense(8, 1.3, 0.2), stax.Erf(), stax.Dense(1, 1.3, 0.2))
    rng = np.random.default_rng(0)
    x, x_test, y = rng.normal(size=(6, 3)), rng.normal(size=(4, 3)), rng.normal(size=(6, 1))
    f0, f0_test = rng.normal(size=(6, 1)), rng.normal(size=(4, 1))
    k_test = kernel_fn(x_test, x, "ntk")
    single = gradient_descent_mse(kernel_fn(x, None, "ntk"), y, learning_rate=0.5)
    ensemble = gradient_descent_mse_ensemble(kernel_fn, x, y, learning_rate=0.5)
    h = 1e-5
    for f in (lambda t: single(t, f0, f0_test, k_test)[1],
              lambda t: ensemble(t, x_test, "ntk"),
              lambda t: ensemble(t, x_test, "nngp", compute_cov=True).covariance):
        np.testing.assert_allclose(jax.jit(f)(3.0), f(3.0), rtol=1e-12)
        slope = jax.grad(lambda t: f(t).sum())(3.0)
        numeric = (f(3.0 + h).sum() - f(3.0 - h).sum()) / (2 * h)
        assert abs(numeric) > 1e-3
        np.testing.assert_allclose(slope, numeric, rtol=1e-7)
        np.testing.assert_allclose(jax.vmap(f)(jnp.array([1.0, 2.0])), f(np.array([1.0, 2.0])),
                                   rtol=1e-12)
    # d f_t(x_test) / d f_0(x_test) = 1: the linearised network moves its initial outputs along
    slope = jax.grad(lambda f: single(2.0, f0, f, k_test)[1].sum())(jnp.asarray(f0_test))
    np.testing.assert_allclose(slope, np.ones_like(f0_test))
    with pytest.raises(ValueError, match=re.escape(
            "gradient_descent_mse.predict_fn(t=<traced array of shape (2, 2)>): t must be a "
            "scalar or a 1-D array of times")):
        jax.jit(single)(jnp.ones((2, 2)), f0)
    with pytest.raises(ValueError, match=re.escape(
            "gradient_descent_mse.predict_fn(fx_train_0=<traced array of shape (5, 1)>): "
            "fx_train_0 must be a number or an array of shape (6, 1)")):
        jax.jit(lambda f: single(1.0, f))(jnp.ones((5, 1)))
