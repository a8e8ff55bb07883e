"""predict.gradient_descent: the linearised network trained on any loss, by an ODE solve.

In function space a linearised network trained by gradient descent with learning rate eta
follows df/dtau = -Theta dL/df (tau = eta t, t the step count):

    f_train' = -Theta(X, X) dL/df_train,    f_test' = -Theta(x*, X) dL/df_train.

With heavy-ball momentum m the continuous limit is second order: with tau = sqrt(eta) t,
f' = q and q' = -Theta dL/df - (1 - m) / sqrt(eta) q (Qian 1999; the form neural-tangents
uses). Solved with ``jax.experimental.ode.odeint`` (adaptive Dormand-Prince). For the MSE
loss L = 0.5 * mean (f - y)^2 without momentum this is ``gradient_descent_mse``'s flow.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import ode

from engine import checks


def check_trace_axes(fn: str, trace_axes, ndim: int):
    """Only (-1,) (or its positive spelling): every output shares one kernel, i.e. the outputs'
    covariance is K (x) I over the output axis; raises ValueError otherwise.

    Args:
      fn: the calling function's name, for the error message.
      trace_axes: the argument to check: an integer or a sequence of them.
      ndim: the number of axes of the targets (1 or 2), against which -1 is read.
    """
    axes = (trace_axes,) if isinstance(trace_axes, int) else tuple(trace_axes)
    if len(axes) != 1 or not isinstance(axes[0], int) or axes[0] % ndim != ndim - 1:
        raise checks.fail(fn, "trace_axes", repr(trace_axes), "(-1,): every output "
                                "shares one kernel (block-diagonal output covariances are not "
                                "supported)")


def _checked(fn, k_train_train, y_train, learning_rate, momentum, trace_axes):
    y_train = jnp.asarray(y_train)
    if y_train.ndim not in (1, 2):
        raise checks.fail(fn, "y_train", f"<array of shape {y_train.shape}>",
                                "an array of shape (n_train,) or (n_train, outputs)")
    check_trace_axes(fn, trace_axes, y_train.ndim)
    n = y_train.shape[0]
    ntk = checks.matrix(fn, "k_train_train", k_train_train, (n, n))
    learning_rate = checks.positive(fn, "learning_rate", learning_rate)
    if momentum is not None and not 0.0 <= checks.non_negative(fn, "momentum",
                                                                     momentum) < 1.0:
        raise checks.fail(fn, "momentum", repr(momentum), "None or a number in [0, 1)")
    return jnp.asarray(ntk), y_train, learning_rate


def gradient_descent(loss, k_train_train, y_train, learning_rate=1.0, momentum=None,
                     trace_axes=(-1,)):
    """Outputs at step t of a linearised network trained by gradient descent on any loss:

      f_train' = -Theta(X, X) dL/df_train,   f_test' = -Theta(x*, X) dL/df_train
    in tau = eta t (X the training, x* the test inputs); with heavy-ball momentum m, in
    tau = sqrt(eta) t, f' = q and q' = -Theta dL/df - (1 - m) / sqrt(eta) q (Qian 1999,
    neural-tangents' form). Solved with ``jax.experimental.ode.odeint`` (adaptive
    Dormand-Prince).

    Args:
      loss: ``loss(fx_train, y_train)``, a scalar function (differentiated by JAX).
      k_train_train: the NTK (n_train, n_train).
      y_train: targets (n_train,) or (n_train, outputs).
      learning_rate: eta (> 0); time t counts steps.
      momentum: None (plain gradient descent) or heavy-ball momentum in [0, 1).
      trace_axes: (-1,) only: every output shares one kernel.

    Returns:
      ``predict_fn(t=None, fx_train_0=0., fx_test_0=None, k_test_train=None)``, returning the
      outputs at step(s) t (an array of t adds a leading axis): train only, (train, test)
      when ``fx_test_0`` is given (needs ``k_test_train``, (n_test, n_train)), or test only
      when ``fx_train_0`` is None. t must be finite and >= 0, several times strictly
      increasing (the ODE is integrated numerically).
    """
    fn = "gradient_descent"
    ntk, y_train, learning_rate = _checked(fn, k_train_train, y_train, learning_rate, momentum,
                                           trace_axes)
    grad_loss = jax.grad(lambda f: loss(f, y_train))
    scale = math.sqrt(learning_rate) if momentum is not None else learning_rate
    friction = None if momentum is None else (momentum - 1.0) / scale

    def velocity(state, k_test_train):
        f_train, f_test = state[0], state[1]
        g = grad_loss(f_train)
        d_train = -jnp.tensordot(ntk, g, 1)
        d_test = None if f_test is None else -jnp.tensordot(k_test_train, g, 1)
        if friction is None:
            return d_train, d_test
        q_train, q_test = state[2], state[3]
        d_test = None if f_test is None else d_test + friction * q_test
        return q_train, q_test, d_train + friction * q_train, d_test

    def predict_fn(t=None, fx_train_0=0.0, fx_test_0=None, k_test_train=None):
        where = f"{fn}.predict_fn"
        times, shape = _times(where, t)
        if fx_test_0 is not None and k_test_train is None:
            raise checks.fail(where, "k_test_train", "None", "the (n_test, n_train) NTK "
                                    "when fx_test_0 is given")
        if fx_train_0 is None and fx_test_0 is None:
            raise checks.fail(where, "fx_test_0", "None", "given when fx_train_0 is None")
        k_test = None if fx_test_0 is None else jnp.asarray(
            checks.matrix(where, "k_test_train", k_test_train, (None, ntk.shape[0])))
        f_train = jnp.broadcast_to(0.0 if fx_train_0 is None else fx_train_0, y_train.shape)
        f_test = None if fx_test_0 is None else jnp.broadcast_to(
            fx_test_0, (k_test.shape[0],) + y_train.shape[1:])
        state = (f_train, f_test)
        if friction is not None:
            state += tuple(None if f is None else jnp.zeros_like(f) for f in state)
        solved = _solve(lambda s, _: velocity(s, k_test), state, times * scale)
        f_train, f_test = (a if a is None else a.reshape(shape + a.shape[1:])
                           for a in solved[:2])
        if fx_test_0 is None:
            return f_train
        return f_test if fx_train_0 is None else (f_train, f_test)

    return predict_fn


def _times(fn, t):
    """Times as a strictly increasing float vector, and the shape to return them in."""
    if t is None:
        raise checks.fail(fn, "t", "None", "finite step counts (the ODE of a general "
                                "loss is integrated numerically; t = inf has no end point)")
    t = np.asarray(t, dtype=np.float64)
    flat = t.reshape(-1)
    if flat.size == 0 or not np.all(np.isfinite(flat)) or np.any(flat < 0) or \
            np.any(np.diff(flat) <= 0):
        raise checks.fail(fn, "t", repr(t.tolist()), "finite step counts >= 0 in "
                                "strictly increasing order")
    return flat, t.shape


def _solve(rate, state, times):
    """States at ``times`` from ``state`` at time 0 (odeint needs increasing times from 0)."""
    start = -1e-24 if times[0] == 0 else 0.0
    grid = jnp.concatenate([jnp.array([start]), jnp.asarray(times)])
    out = ode.odeint(rate, state, grid)
    return jax.tree_util.tree_map(lambda a: a[1:], out)
