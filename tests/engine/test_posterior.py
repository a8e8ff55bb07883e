"""t = inf by Cholesky solves (engine.closed_form.posterior) against the eigenbasis path it
replaces."""
import numpy as np
import pytest

import engine.closed_form.flow as flow_module
import engine.predict as predict_module
from engine.closed_form.ensemble import ensemble_predictor
from engine.closed_form.posterior import cholesky_factor
from engine.predict import gp_inference, gradient_descent_mse_ensemble
from tests.engine.test_predict import ARCH, Kernels, relu_kernel_fn

EPS64, EPS32 = np.finfo(np.float64).eps, np.finfo(np.float32).eps


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(1)
    x_train, x_test = rng.standard_normal((12, 3)), rng.standard_normal((9, 3))
    y_train = rng.standard_normal((12, 2))
    kf = relu_kernel_fn()
    return dict(kf=kf, x_train=x_train, x_test=x_test, y_train=y_train, k_dd=kf(x_train),
                k_td=kf(x_test, x_train), k_tt=kf(x_test))


def _count_eigensystems(monkeypatch):
    """Count eigendecompositions (one at a time, or side by side through flow.eigensystems)."""
    calls = []
    real = flow_module.eigensystem
    for module in (predict_module, flow_module):
        monkeypatch.setattr(module, "eigensystem", lambda k: calls.append(1) or real(k))
    return calls


@pytest.mark.parametrize("diag_reg", [0.0, 1e-3])
@pytest.mark.parametrize("mode", ["nngp", "ntk"])
def test_gp_inference_equals_the_eigenbasis_at_t_inf(problem, monkeypatch, mode, diag_reg):
    """Same mean and covariance as the ensemble's eigenbasis dynamics at t = inf (to rounding:
    both are backward stable, the kernels' condition numbers here are below 1e4)."""
    calls = _count_eigensystems(monkeypatch)
    gp = gp_inference(problem["k_dd"], problem["y_train"], diag_reg)(
        mode, problem["k_td"], problem["k_tt"])
    mean_only = gp_inference(problem["k_dd"], problem["y_train"], diag_reg)(mode, problem["k_td"])
    assert calls == []  # no eigendecomposition on this path
    test = ensemble_predictor(problem["k_dd"], problem["y_train"], problem["k_td"],
                              problem["k_tt"], get=mode, diag_reg=diag_reg).test
    np.testing.assert_allclose(gp.mean, test.mean(np.inf), rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(mean_only, gp.mean, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(gp.covariance, test.cov(np.inf), rtol=1e-9, atol=1e-11)
    np.testing.assert_array_equal(gp.covariance, np.asarray(gp.covariance).T)


def test_ensemble_at_t_none_uses_cholesky_and_matches_t_inf(problem, monkeypatch):
    calls = _count_eigensystems(monkeypatch)
    predict_fn = gradient_descent_mse_ensemble(problem["kf"], problem["x_train"],
                                               problem["y_train"], diag_reg=1e-4)
    at_none = predict_fn(None, problem["x_test"], compute_cov=True)
    on_train = predict_fn(None, None, "ntk", compute_cov=True)
    assert calls == []
    at_inf = predict_fn(np.inf, problem["x_test"], compute_cov=True)
    assert len(calls) == 2  # t = inf given as a number: the eigenbasis, one per mode
    for mode in ("nngp", "ntk"):
        for field in ("mean", "covariance"):
            np.testing.assert_allclose(getattr(getattr(at_none, mode), field),
                                       getattr(getattr(at_inf, mode), field),
                                       rtol=1e-9, atol=1e-11)
    # at the training inputs: kernel ridge regression with the unregularised kernel
    k = problem["k_dd"].ntk
    ridge = k @ np.linalg.solve(k + 1e-4 * np.trace(k) / 12 * np.eye(12), problem["y_train"])
    np.testing.assert_allclose(on_train.mean, ridge, rtol=1e-9, atol=1e-11)


def test_discrete_end_of_training_keeps_the_eigenbasis(problem, monkeypatch):
    """discrete=True at t = None needs the largest eigenvalue (the divergence check)."""
    calls = _count_eigensystems(monkeypatch)
    predict_fn = gradient_descent_mse_ensemble(problem["kf"], problem["x_train"],
                                               problem["y_train"], discrete=True)
    predict_fn(None, problem["x_test"], "nngp")
    assert len(calls) == 1


@pytest.mark.parametrize("mode", ["nngp", "ntk"])
def test_singular_kernel_falls_back_to_the_pseudo_inverse(problem, mode):
    """Duplicated inputs without diag_reg: the Cholesky path steps aside, so the result is
    the eigenbasis path's (clipped eigenvalues, finite), not a solve through rounding noise."""
    x = np.concatenate([problem["x_train"][:8], problem["x_train"][:4]])
    y = problem["y_train"].copy()
    y[8:] += 1.0  # conflicting targets on the duplicates
    kf = relu_kernel_fn(ARCH * 3)
    k_dd = kf(x)
    train = {"nngp": k_dd.nngp, "ntk": k_dd.ntk}
    assert cholesky_factor(train[mode], 0.0, EPS64) is None
    gp = gp_inference(k_dd, y)(mode, kf(problem["x_test"], x), kf(problem["x_test"]))
    test = ensemble_predictor(k_dd, y, kf(problem["x_test"], x), kf(problem["x_test"]),
                              get=mode).test
    assert np.all(np.isfinite(gp.mean)) and np.all(np.isfinite(gp.covariance))
    np.testing.assert_array_equal(gp.mean, test.mean(np.inf))
    np.testing.assert_array_equal(gp.covariance, test.cov(np.inf))


@pytest.mark.parametrize("eps, usable, too_close", [(EPS64, 1e9, 1e13), (EPS32, 1e2, 1e4)])
def test_factor_only_far_from_the_clipping_floor(eps, usable, too_close):
    """The floor clips eigenvalues below n eps max|w| (condition 1/(n eps): 2.3e15 in float64,
    4.2e6 in float32 for n = 2); Cholesky is used only below 1e-3 of that condition."""
    assert cholesky_factor(np.diag([1.0, 1.0 / usable]), 0.0, eps) is not None
    assert cholesky_factor(np.diag([1.0, 1.0 / too_close]), 0.0, eps) is None
    assert cholesky_factor(np.diag([1.0, -1.0]), 0.0, eps) is None
    assert cholesky_factor(np.diag([1.0, -1.0]), 2.0, eps) is not None  # lambda shifts it


def test_float32_kernels_give_the_same_posterior(problem):
    k32 = Kernels(*(np.asarray(k, np.float32) for k in problem["k_dd"]))
    k64 = Kernels(*(np.asarray(k, np.float64) for k in k32))
    gp32 = gp_inference(k32, problem["y_train"], 1e-2)("nngp", problem["k_td"])
    gp64 = gp_inference(k64, problem["y_train"], 1e-2)("nngp", problem["k_td"])
    np.testing.assert_allclose(gp32, gp64, rtol=1e-12, atol=1e-13)
