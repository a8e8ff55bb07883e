"""Closed-form predictions of infinite-width networks trained by gradient descent on MSE.

neural-tangents-compatible names and arguments; the math (design.md §2) is in
engine.closed_form.flow (the time factor), engine.closed_form.dynamics (mean and covariance)
and engine.closed_form.losses.

- ``gradient_descent_mse_ensemble``: mean/covariance of the infinite ensemble at any t.
- ``gp_inference``: the Bayesian NNGP posterior and the NTK-GP (t = inf of the ensemble).
- ``gradient_descent_mse``: one network's outputs from its initial outputs (linearised).
- ``gradient_descent``: the same for any loss, with optional momentum
  (engine.closed_form.loss_flow).
- ``max_learning_rate``: the largest stable gradient-descent step.

Training inputs are treated like any test input: with ``diag_reg`` > 0 the prediction at
the training inputs uses the unregularised kernel against the regularised train kernel
(kernel ridge regression at t = inf); with ``diag_reg`` = 0 it is the training trajectory.
"""
from __future__ import annotations

import functools
from collections import namedtuple

import jax
import jax.numpy as jnp
import numpy as np

from engine import checks
from engine.closed_form.dynamics import flow_mean
from engine.closed_form.ensemble import (GradientDescent, kernel_arrays, mode_dynamics,
                                         needed_kernels)
from engine.closed_form.flow import eigensystem, eigensystems, machine_eps, regularizer
from engine.closed_form.loss_flow import check_trace_axes, gradient_descent  # noqa: F401 (public)
from engine.closed_form.posterior import cholesky_factor, posterior

Gaussian = namedtuple("Gaussian", ["mean", "covariance"])
Gaussian.__doc__ = """A prediction as a Gaussian: ``Gaussian(mean, covariance)`` (neural-tangents').

Args:
  mean: the predicted means, (n_test, outputs) ((n_test,) for 1-D targets).
  covariance: their covariance over the test inputs, (n_test, n_test), shared by every
    output (trace_axes=(-1,)). Both gain a leading time axis for an array of times t.
"""
Kernels = namedtuple("Kernels", ["nngp", "ntk"])
Kernels.__doc__ = """The NNGP K and NTK Theta of one pair of inputs: ``Kernels(nngp, ntk)``.

gp_inference reads a plain array k as ``Kernels(k, k)`` (neural-tangents' array form).

Args:
  nngp: the NNGP kernel array, or None.
  ntk: the NTK array, or None.
"""


@functools.cache
def _result_type(names: tuple[str, ...]):
    return namedtuple("Prediction", names)


def _pack(values: dict, names: tuple[str, ...], single: bool):
    """One value for a single ``get`` name, else a namedtuple with a field per name."""
    return values[names[0]] if single else _result_type(names)(**values)


def _evaluate(dynamics, t, compute_cov: bool):
    mean = dynamics.mean(t)
    return Gaussian(mean, dynamics.cov(t)) if compute_cov else mean


def _predict(names, flows, factors, y_train, test, nngp_train_train, test_test, t,
             compute_cov: bool) -> dict:
    """{name: prediction at times ``t``}; t = None (the end of continuous training) by
    Cholesky solves (engine.closed_form.posterior) unless a train kernel is too close to
    singular.

    Every factorisation and projection (host LAPACK/BLAS, synchronous) comes before the first
    jitted evaluation is dispatched: OpenBLAS threads running beside XLA's on a small machine
    slow each other down many times over.
    """
    factor = {name: factors(name) if t is None and factors is not None else None
              for name in names}
    flows.prepare([name for name in names if factor[name] is None])
    dynamics = {name: mode_dynamics(name, flows(name), y_train, test, nngp_train_train,
                                    test_test, mean_only=not compute_cov)
                for name in names if factor[name] is None}
    out = {}
    for name in names:
        if factor[name] is None:
            out[name] = _evaluate(dynamics[name], t, compute_cov)
            continue
        mean, cov = posterior(name, factor[name], y_train, test, nngp_train_train,
                              test_test if compute_cov else None)
        out[name] = Gaussian(mean, cov) if compute_cov else mean
    return out


def gradient_descent_mse_ensemble(kernel_fn, x_train, y_train, learning_rate=1.0, diag_reg=0.0,
                                  diag_reg_absolute_scale=False, trace_axes=(-1,), *,
                                  discrete=False, **kernel_fn_kwargs):
    """Mean and covariance at step t of the infinite ensemble of networks trained by gradient
    descent on the MSE loss L = 0.5 * mean over the |Y| training outputs of (f - y)^2.

    mean_t = A_test,train M_t y with M_t = A_r^-1 (I - exp(-tau A_r)), tau = learning_rate *
    t / y_train.size, A = NTK ('ntk': all layers trained) or NNGP ('nngp': readout only);
    ``discrete`` uses (I - eta A_r / |Y|)^t for exp(-tau A_r). Covariances (Lee et al. 2019;
    engine.closed_form.dynamics), t = test and d = training inputs, K the NNGP:
      'ntk':  cov_t = K_tt + (Theta_td M_t) K_dd (Theta_td M_t)^T - (Theta_td M_t K_dt + transpose)
      'nngp': cov_t = K_tt - K_td K_r^-1 (I - exp(-2 tau K_r)) K_dt
    The train kernels are computed here; each is eigendecomposed on first use (once).
    ``t=None`` (the end of continuous training) takes Cholesky solves instead
    (engine.closed_form.posterior), unless the regularised kernel is too close to singular.

    Args:
      kernel_fn: the network's kernel function (e.g. from engine.stax), called as
        ``kernel_fn(x1, x2, get=..., **kernel_fn_kwargs)``.
      x_train: the training inputs, an array (n_train, features...).
      y_train: the training targets, (n_train, outputs), or (n_train,) for one output (the
        predictions then come back 1-D).
      learning_rate: eta (> 0); t counts steps of size eta.
      diag_reg: the regulariser's strength (>= 0): the train kernel A is replaced by
        A_r = A + lambda I, lambda = diag_reg * trace(A) / n_train (or diag_reg itself, see
        diag_reg_absolute_scale). With diag_reg > 0 predictions at the training inputs use the
        plain kernel against A_r (kernel ridge regression), unlike neural-tangents.
      diag_reg_absolute_scale: True or False; True: lambda = diag_reg in absolute units;
        False (default): relative to the mean of A's diagonal, as in neural-tangents.
      trace_axes: (-1,) only (or its positive spelling): every output shares one kernel
        (neural-tangents' other choices, block-diagonal output covariances, are refused).
      discrete: (keyword only) True or False; True: discrete gradient-descent steps,
        M_t = A_r^-1 (I - (I - eta A_r / |Y|)^t) with whole step counts t; False: gradient flow.
      **kernel_fn_kwargs: keyword arguments passed to every ``kernel_fn`` call (train-train,
        test-train and test-test), e.g. ``pattern=`` for Aggregate.

    Returns:
      ``predict_fn(t=None, x_test=None, get=None, compute_cov=False)``. ``t``: step count(s)
      >= 0, None or inf = end of training; an array t adds a leading time axis.
      ``x_test=None`` predicts at the training inputs. ``get``: 'nngp', 'ntk' or a tuple
      (default both; a tuple returns a namedtuple with a field per name). ``compute_cov``
      returns ``Gaussian(mean, covariance)`` instead of the mean.
    """
    fn = "gradient_descent_mse_ensemble"
    training = GradientDescent.validated(fn, learning_rate, diag_reg, diag_reg_absolute_scale,
                                         discrete)
    y_train, flat = _columns(y_train)
    check_trace_axes(fn, trace_axes, y_train.ndim)
    y_train = checks.matrix(fn, "y_train", y_train, (_rows(fn, "x_train", x_train), None))
    n = y_train.shape[0]
    kernels = functools.partial(_kernels, kernel_fn, kwargs=kernel_fn_kwargs)
    train = kernel_arrays(fn, "kernel_fn(x_train)", kernels(x_train, None), (n, n),
                          ("nngp", "ntk"))
    flows = _LazyFlows(training, train, y_train.size)
    factors = None if training.discrete else _lazy_factors(training, train)

    def predict_fn(t=None, x_test=None, get=None, compute_cov=False):
        where = f"{fn}.predict_fn"
        names, single = checks.get_names(where, get)
        _check_times(where, t, training.discrete, flows, names)
        test, test_test = _test_kernels(where, kernels, x_test, x_train, train, compute_cov)
        out = _predict(names, flows, factors, y_train, test, train["nngp"], test_test, t,
                       compute_cov)
        return _pack({name: _flat(out[name], flat) for name in names}, names, single)

    return predict_fn


def _check_times(fn: str, t, discrete: bool, flows, names) -> None:
    """Validate ``t``; t = inf with discrete steps also needs each flow's stability check."""
    times, _ = checks.times(fn, t, discrete)
    if discrete and not checks.traced(times) and np.any(np.isinf(times)):
        for name in names:
            flows(name).times(fn, t)


def _lazy_factors(training, train: dict):
    """``factors(name)``: the Cholesky factor of the regularised train[name]
    (engine.closed_form.posterior) or None where the eigenbasis must be used; factorised on
    first use (also when that is inside jax.jit: the train kernels are known)."""
    cache = {}

    def factors(name):
        if name not in cache:
            a = train[name]
            lam = regularizer(np.trace(a, dtype=np.float64) / a.shape[0], training.diag_reg,
                              training.diag_reg_absolute_scale)
            with jax.ensure_compile_time_eval():
                cache[name] = cholesky_factor(a, lam, machine_eps(a))
        return cache[name]

    return factors


class _LazyFlows:
    """``flows(name)``: the flow on train[name]'s eigensystem, eigendecomposed on first use.

    A prediction asks only for the modes it needs (one eigh per kernel, reused after);
    ``prepare(names)`` eigendecomposes the missing ones side by side.
    """

    def __init__(self, training, train: dict, y_size: int):
        self._training, self._train, self._y_size = training, train, y_size
        self._cache = {}

    def prepare(self, names) -> None:
        missing = [name for name in dict.fromkeys(names) if name not in self._cache]
        with jax.ensure_compile_time_eval():  # also inside jax.jit: the train kernels are known
            for name, eigen in zip(missing, eigensystems([self._train[n] for n in missing])):
                self._cache[name] = self._training.flow(eigen, self._y_size)

    def __call__(self, name):
        self.prepare([name])
        return self._cache[name]


def _rows(fn: str, arg: str, x) -> int:
    shape = np.shape(x)
    if len(shape) < 2:
        raise checks.fail(fn, arg, f"<array of shape {shape}>",
                                "an array of shape (n, features...)")
    return shape[0]


def _kernels(kernel_fn, x1, x2, names=("nngp", "ntk"), kwargs=None):
    return kernel_fn(x1, x2, get=names, **(kwargs or {}))


def _columns(y):
    """Targets as (n, outputs), and whether they came 1-D (one output, returned 1-D)."""
    y = y if hasattr(y, "ndim") else np.asarray(y)
    return (y[:, None], True) if y.ndim == 1 else (y, False)


def _flat(value, flat: bool):
    """Drop the single output axis of a mean (or of a Gaussian's mean) for 1-D targets."""
    if not flat:
        return value
    if isinstance(value, Gaussian):
        return Gaussian(value.mean[..., 0], value.covariance)
    return value[..., 0]


def _kernel_record(k):
    """neural-tangents' array form: one array stands for whichever kernel is asked for."""
    return Kernels(k, k) if isinstance(k, (np.ndarray, jax.Array)) else k


def _test_kernels(fn, kernels, x_test, x_train, train: dict, compute_cov: bool):
    """({nngp, ntk} test-train arrays, nngp test-test array or None)."""
    if x_test is None:
        return train, train["nngp"]
    n, m = train["nngp"].shape[0], _rows(fn, "x_test", x_test)
    test = kernel_arrays(fn, "kernel_fn(x_test, x_train)", kernels(x_test, x_train),
                         (m, n), ("nngp", "ntk"))
    if not compute_cov:
        return test, None
    test_test = kernel_arrays(fn, "kernel_fn(x_test)", kernels(x_test, None, ("nngp",)),
                              (m, m), ("nngp",))
    return test, test_test["nngp"]


def gp_inference(k_train_train, y_train, diag_reg=0.0, diag_reg_absolute_scale=False,
                 trace_axes=(-1,)):
    """Exact Gaussian-process posteriors (d = training inputs, t = test inputs):

    NNGP (Bayesian posterior): mean = K_td K_r^-1 y, cov = K_tt - K_td K_r^-1 K_dt.
    NTK (the NTK-GP, t = inf of the gradient-descent ensemble): mean = Theta_td Theta_r^-1 y,
    cov = K_tt + Theta_td Theta_r^-1 K_dd Theta_r^-1 Theta_dt - (Theta_td Theta_r^-1 K_dt + T).
    Computed by Cholesky solves (engine.closed_form.posterior); a train kernel too close to
    singular for them takes the eigenbasis, where eigenvalues below the noise floor are
    clipped (engine.closed_form.flow).

    Args:
      k_train_train: the train-train kernels (n_train, n_train): an object with ``.nngp``
        and/or ``.ntk`` arrays (e.g. ``kernel_fn(x_train, None, ('nngp', 'ntk'))``; the NTK
        mode needs both), or one array (neural-tangents' array form: it serves whichever
        kernel ``get`` asks for).
      y_train: the training targets, (n_train, outputs), or (n_train,) for one output (the
        predictions then come back 1-D).
      diag_reg: the regulariser's strength (>= 0): the train kernel A is replaced by
        A_r = A + lambda I, lambda = diag_reg * trace(A) / n_train (or diag_reg itself, see
        diag_reg_absolute_scale). With diag_reg > 0 predictions at the training inputs use the
        plain kernel against A_r (kernel ridge regression), unlike neural-tangents.
      diag_reg_absolute_scale: True or False; True: lambda = diag_reg in absolute units;
        False (default): relative to the mean of A's diagonal, as in neural-tangents.
      trace_axes: (-1,) only (or its positive spelling): every output shares one kernel
        (neural-tangents' other choices, block-diagonal output covariances, are refused).

    Returns:
      ``predict_fn(get=None, k_test_train=None, k_test_test=None)``. ``get``: 'nngp', 'ntk'
      or a tuple (default both; a tuple returns a namedtuple with a field per name).
      ``k_test_train``: the test-train kernels (n_test, n_train), in the same forms;
      None predicts at the training inputs (with covariance). ``k_test_test``: the test-test
      NNGP (n_test, n_test) (``.nngp`` or an array); None returns the mean alone, else
      ``Gaussian(mean, covariance)``.
    """
    fn = "gp_inference"
    training = GradientDescent.validated(fn, 1.0, diag_reg, diag_reg_absolute_scale, False)
    y_train, flat = _columns(y_train)
    check_trace_axes(fn, trace_axes, y_train.ndim)
    y_train = checks.matrix(fn, "y_train", y_train, (None, None))
    k_train_train = _kernel_record(k_train_train)
    n = y_train.shape[0]
    present = [name for name in ("nngp", "ntk") if getattr(k_train_train, name, None) is not None]
    train = kernel_arrays(fn, "k_train_train", k_train_train, (n, n), present or ["nngp"])
    flows = _LazyFlows(training, train, y_train.size)
    factors = _lazy_factors(training, train)

    def predict_fn(get=None, k_test_train=None, k_test_test=None):
        where = f"{fn}.predict_fn"
        names, single = checks.get_names(where, get)
        needed = tuple(sorted({k for name in names for k in needed_kernels(name)}))
        for name in needed:
            checks.kernel_field(where, "k_train_train", k_train_train, name)
        test, test_test = _given_test_kernels(where, train, needed, _kernel_record(k_test_train),
                                              _kernel_record(k_test_test))
        out = _predict(names, flows, factors, y_train, test, train["nngp"], test_test, None,
                       test_test is not None)
        return _pack({name: _flat(out[name], flat) for name in names}, names, single)

    return predict_fn


def _given_test_kernels(fn, train: dict, names, k_test_train, k_test_test):
    if k_test_train is None:
        return train, train["nngp"]
    n = train["nngp"].shape[0]
    test = kernel_arrays(fn, "k_test_train", k_test_train, (None, n), names)
    if k_test_test is None:
        return test, None
    m = test["nngp"].shape[0]
    return test, kernel_arrays(fn, "k_test_test", k_test_test, (m, m), ("nngp",))["nngp"]


def gradient_descent_mse(k_train_train, y_train, learning_rate=1.0, diag_reg=0.0,
                         diag_reg_absolute_scale=False, trace_axes=(-1,), *, discrete=False):
    """Outputs at step t of one linearised network trained by gradient descent on the MSE loss.

    Linearised dynamics from the network's initial outputs f_0 with its NTK ``k_train_train``
    (an array): f_t(x) = f_0(x) + Theta(x, X) M_t (y - f_0(X)), M_t = Theta_r^-1 (I -
    exp(-tau Theta_r)) as in the ensemble (tau = learning_rate * t / y_train.size; with
    ``discrete``, (I - eta Theta_r / |Y|)^t for exp(-tau Theta_r)).

    Args:
      k_train_train: the NTK Theta(X, X) of the training inputs, an array (n_train, n_train).
      y_train: the training targets, (n_train, outputs), or (n_train,) for one output (the
        predictions then come back 1-D).
      learning_rate: eta (> 0); t counts steps of size eta.
      diag_reg: the regulariser's strength (>= 0): the NTK A is replaced by
        A_r = A + lambda I, lambda = diag_reg * trace(A) / n_train (or diag_reg itself, see
        diag_reg_absolute_scale). With diag_reg > 0 predictions at the training inputs use the
        plain kernel against A_r (kernel ridge regression), unlike neural-tangents.
      diag_reg_absolute_scale: True or False; True: lambda = diag_reg in absolute units;
        False (default): relative to the mean of A's diagonal, as in neural-tangents.
      trace_axes: (-1,) only (or its positive spelling): every output shares one kernel
        (neural-tangents' other choices, block-diagonal output covariances, are refused).
      discrete: (keyword only) True or False; True: discrete gradient-descent steps with
        whole step counts t; False: gradient flow.

    Returns:
      ``predict_fn(t=None, fx_train_0=0., fx_test_0=None, k_test_train=None)``. ``t``: step
      count(s) >= 0, None or inf = end of training; an array t adds a leading time axis.
      ``fx_train_0``: f_0(X), a number or an array broadcastable to (n_train, outputs), or
      None (the test outputs alone, with f_0(X) taken as 0). ``fx_test_0``: f_0(x_test),
      broadcastable to (n_test, outputs), or None. ``k_test_train``: Theta(x_test, X)
      (n_test, n_train), needed with ``fx_test_0``. It returns f_t at the training inputs, or
      (train, test) when ``fx_test_0`` is given, or the test outputs alone when
      ``fx_train_0`` is None.
    """
    fn = "gradient_descent_mse"
    training = GradientDescent.validated(fn, learning_rate, diag_reg, diag_reg_absolute_scale,
                                         discrete)
    y_train, flat = _columns(y_train)
    check_trace_axes(fn, trace_axes, y_train.ndim)
    y_train = checks.matrix(fn, "y_train", y_train, (None, None))
    n = y_train.shape[0]
    ntk = checks.matrix(fn, "k_train_train", k_train_train, (n, n))
    flow = training.flow(eigensystem(ntk), y_train.size)
    train_v = flow.project(ntk)

    def predict_fn(t=None, fx_train_0=0.0, fx_test_0=None, k_test_train=None):
        where = f"{fn}.predict_fn"
        t, scalar = flow.times(where, t)
        train_only = fx_train_0 is not None and fx_test_0 is None
        f0 = _outputs(where, "fx_train_0", 0.0 if fx_train_0 is None else
                      _column(fx_train_0, flat), y_train.shape)
        residual_v = flow.eigenvectors.T @ jnp.asarray(y_train - f0)
        fx_train = _flat(_linearised(flow, train_v, residual_v, f0, jnp.asarray(t), scalar), flat)
        if train_only:
            return fx_train
        if fx_test_0 is None:
            raise checks.fail(where, "fx_test_0", "None", "given when fx_train_0 is None")
        k_test = _test_ntk(where, k_test_train, n)
        f0_test = _outputs(where, "fx_test_0", _column(fx_test_0, flat),
                           (k_test.shape[0], y_train.shape[1]))
        fx_test = _flat(_linearised(flow, flow.project(k_test), residual_v, f0_test,
                                    jnp.asarray(t), scalar), flat)
        return fx_test if fx_train_0 is None else (fx_train, fx_test)

    return predict_fn


def _column(value, flat: bool):
    """Initial outputs of 1-D targets given 1-D: as one column."""
    value = value if checks.traced(value) else np.asarray(value)
    return value[:, None] if flat and value.ndim == 1 else value


def _outputs(fn: str, arg: str, value, shape: tuple) -> np.ndarray:
    """Initial outputs: a number or an array broadcastable to ``shape``, finite (traced ones:
    their shape only)."""
    if checks.traced(value):
        try:
            return jnp.broadcast_to(value, shape)
        except ValueError:
            raise checks.fail(fn, arg, f"<traced array of shape {value.shape}>",
                              f"a number or an array of shape {shape}") from None
    array = np.asarray(value, dtype=np.float64)
    try:
        array = np.broadcast_to(array, shape)
    except ValueError:
        raise checks.fail(fn, arg, f"<array of shape {array.shape}>",
                                f"a number or an array of shape {shape}") from None
    return checks.matrix(fn, arg, array, shape)


def _test_ntk(fn: str, k_test_train, n: int) -> np.ndarray:
    if k_test_train is None:
        raise checks.fail(fn, "k_test_train", "None", "the (n_test, n_train) NTK when "
                                "fx_test_0 is given")
    if checks.traced(k_test_train):
        if k_test_train.ndim != 2 or k_test_train.shape[1] != n:
            raise checks.fail(fn, "k_test_train", f"<traced array of shape "
                              f"{k_test_train.shape}>", f"an array of shape (n, {n})")
        return k_test_train
    return checks.matrix(fn, "k_test_train", k_test_train, (None, n))


@jax.jit
def _linearised_at_times(flow, k_test_v, residual_v, f0, t):
    return f0 + jax.vmap(lambda time: flow_mean(flow, k_test_v, residual_v, time))(t)


def _linearised(flow, k_test_v, residual_v, f0, t, scalar: bool):
    values = _linearised_at_times(flow, k_test_v, residual_v, jnp.asarray(f0), t)
    return values[0] if scalar else values


def max_learning_rate(ntk_train_train, y_train_size=None, momentum=0.0, eps=1e-12) -> float:
    """The largest learning rate for which gradient descent on the MSE loss converges.

    With L = 0.5 * mean over the |Y| training outputs, one step maps the train residual
    r -> (I - eta Theta / |Y|) r. It shrinks every eigen-direction iff |1 - eta lam / |Y|| < 1
    for all eigenvalues lam of Theta, i.e. eta < 2 |Y| / lam_max; this returns that bound
    (inf for a zero kernel). With heavy-ball ``momentum`` m the edge is
    2 (1 + m) |Y| / lam_max (Goh 2017, "Why momentum really works").

    Args:
      ntk_train_train: the NTK Theta of the training inputs, a square array
        (n_train, n_train) (symmetrised here); with diag_reg, pass Theta + lambda I.
      y_train_size: |Y|, the number of training outputs (n_train * outputs), a positive
        integer; None means n_train (one output each).
      momentum: heavy-ball momentum m (>= 0); 0 is plain gradient descent.
      eps: a number >= 0 added to lam_max, as neural-tangents does.

    Returns:
      2 (1 + m) |Y| / (lam_max + eps) as a float, or inf when lam_max <= 0.
    """
    fn = "max_learning_rate"
    ntk = checks.matrix(fn, "ntk_train_train", ntk_train_train, (None, None))
    if ntk.shape[0] != ntk.shape[1]:
        raise checks.fail(fn, "ntk_train_train", f"<array of shape {ntk.shape}>",
                                "a square (n_train, n_train) array")
    size = ntk.shape[0] if y_train_size is None else y_train_size
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size <= 0:
        raise checks.fail(fn, "y_train_size", repr(y_train_size), "a positive integer")
    momentum, eps = checks.non_negative(fn, "momentum", momentum), \
        checks.non_negative(fn, "eps", eps)
    lam_max = float(np.max(np.linalg.eigvalsh(0.5 * (ntk + ntk.T)), initial=0.0))
    return 2.0 * (1.0 + momentum) * size / (lam_max + eps) if lam_max > 0 else float("inf")
