"""Rnn: a vanilla recurrent layer over sequences (N, T, d), weights shared across time.

Finite network (NTK parameterization, h_0 = 0, t = 1..T):
  g_t = (W_std / sqrt(n)) W h_{t-1} + (U_std / sqrt(d)) U x_t + b_std b,   h_t = phi(g_t),
with W (n, n), U (d, n), b (n,) ~ N(0, 1); the layer outputs h_T ('last') or the mean of
h_1..h_T over time ('mean'), n = out_dim features, followed by a readout such as Dense(1).

Infinite width (Yang 2019, Tensor Programs I; Alemohammad et al. 2021, "The Recurrent Neural
Tangent Kernel", Theorem 1 with one layer). For a pair of sequences (x, x') and a pair of
time steps (t, t'), with Sigma0_{t,t'} = x_t . x'_{t'} / d and Theta0 the input's NTK:
  K_{t,t'}     = U_std^2 Sigma0_{t,t'} + b_std^2 + W_std^2 E[phi(u) phi(u')]_{t-1,t'-1}
  Theta_{t,t'} = K_{t,t'} + U_std^2 Theta0_{t,t'} + W_std^2 E[phi'(u) phi'(u')]_{t-1,t'-1}
                                                             * Theta_{t-1,t'-1}
where (u, u') ~ N(0, [[K_{t-1,t-1}(x,x), K_{t-1,t'-1}(x,x')], [., K_{t'-1,t'-1}(x',x')]])
and the W terms vanish when t = 1 or t' = 1 (h_0 = 0). The shared W enters each step
like a fresh weight would: at infinite width the forward pass sees a Gaussian matrix
independent of its past uses (Yang 2019), and the cross terms of W's gradient between
different time steps are O(1/sqrt(n)). The output's kernels are the activation's dual at
the end: 'last' gives (E[phi phi]_{T,T'}, E[phi' phi']_{T,T'} Theta_{T,T'}), 'mean' the
mean of those over all pairs (t, t').

The recursion is computed on whole (t, t') matrices: M^(0) = U_std^2 Sigma0 + b_std^2,
M^(s) = M^(0) + W_std^2 shift(dual(M^(s-1))), shift moving every entry one step later in
both times; M^(s) is exact wherever min(t, t') <= s + 1, so T - 1 passes give K.
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ..checks import hyperparameter
from ..kernel import Kernel
from .activations import Relu
from .layer import Layer, Shape, expect_single, no_params

READOUTS = ("last", "mean")


def check_activation(activation) -> Layer:
    """An elementwise activation layer (e.g. stax.Erf()): no parameters, shape kept."""
    layer = getattr(activation, "layer", activation)
    probe = Shape((3,), is_gaussian=True)
    ok = isinstance(layer, Layer) and layer.init is no_params and not layer.needs_full_covariance
    if ok:
        try:
            out = layer.shape(probe)
            ok = isinstance(out, Shape) and out.dims == probe.dims and not out.is_gaussian
        except ValueError:
            ok = False
    if not ok:
        raise ValueError(f"Rnn(activation={activation!r}): activation must be an elementwise "
                         "activation layer such as stax.Relu() or stax.Erf()")
    return layer


def _shift(x):
    """Every (t, t') entry moved to (t + 1, t' + 1) on the last two axes; zeros enter."""
    pad = [(0, 0)] * (x.ndim - 2) + [(1, 0), (1, 0)]
    return jnp.pad(x, pad)[..., :-1, :-1]


def Rnn(out_dim, W_std=1.0, U_std=1.0, b_std=0.0, activation=None, readout="last") -> Layer:
    """A vanilla recurrent layer over sequences x of shape (N, T, d) (not in neural-tangents):
    g_t = (W_std / sqrt(n)) W h_{t-1} + (U_std / sqrt(d)) U x_t + b_std b, h_t = phi(g_t),
    h_0 = 0, outputting h_T or the mean of h_1..h_T (NTK parameterization, W, U, b ~ N(0, 1)).

    Kernel (Alemohammad et al. 2021, "The Recurrent Neural Tangent Kernel", one layer), for
    time steps t, t' of two sequences x, x' with Sigma0_{t,t'} = x_t . x'_{t'} / d, Theta0 the
    input's NTK and (u, u') ~ N(0, [[K_{t-1,t-1}(x, x), K_{t-1,t'-1}(x, x')],
                                   [.,                  K_{t'-1,t'-1}(x', x')]]):
      K_{t,t'}     = U_std^2 Sigma0_{t,t'} + b_std^2 + W_std^2 E[phi(u) phi(u')]_{t-1,t'-1}
      Theta_{t,t'} = K_{t,t'} + U_std^2 Theta0_{t,t'}
                     + W_std^2 E[phi'(u) phi'(u')]_{t-1,t'-1} Theta_{t-1,t'-1}
    (the W terms vanish at t = 1 or t' = 1); the output's kernels are the activation's dual
    at (T, T') ('last') or its mean over all pairs (t, t') ('mean'); see the module docstring.

    Args:
      out_dim: the number n of hidden features (a positive integer).
      W_std: the recurrent weights' standard deviation (non-negative).
      U_std: the input weights' standard deviation (non-negative).
      b_std: the bias standard deviation (non-negative; 0 for no bias term).
      activation: phi, an elementwise activation layer such as stax.Relu() or stax.Erf()
        (no parameters, shape kept); None means stax.Relu().
      readout: 'last' (h_T) or 'mean' (the mean of h_1..h_T over time).
    """
    hyperparameter("Rnn", "out_dim", out_dim, positive=True, integer=True)
    for arg, value in (("W_std", W_std), ("U_std", U_std), ("b_std", b_std)):
        hyperparameter("Rnn", arg, value, nonnegative=True)
    act = check_activation(Relu() if activation is None else activation)
    if readout not in READOUTS:
        raise ValueError(f"Rnn(readout={readout!r}): expected one of {list(READOUTS)}")
    name = f"Rnn(out_dim={out_dim!r})"

    def shape(s):
        s = expect_single(name, s)
        if s.spatial != 1:
            raise ValueError(f"{name}: needs sequences of shape (N, T, d); got inputs of "
                             f"shape {('N',) + s.dims}")
        return Shape((out_dim,), is_gaussian=False)

    def init(key, s):
        """(U, W, b): input weights (d, n), recurrent weights (n, n), bias (n,)."""
        ku, kw, kb = jax.random.split(key, 3)
        d = s.dims[-1]
        return (jax.random.normal(ku, (d, out_dim)), jax.random.normal(kw, (out_dim, out_dim)),
                jax.random.normal(kb, (out_dim,)))

    def apply(params, x):
        U, W, b = params
        drive = (U_std / math.sqrt(x.shape[-1])) * (x @ U) + b_std * b   # (N, T, n)
        w_mult = W_std / math.sqrt(out_dim)

        def step(h, drive_t):
            h = act.apply((), w_mult * (h @ W) + drive_t)
            return h, h

        h0 = jnp.zeros(x.shape[:1] + (out_dim,), drive.dtype)
        last, hs = jax.lax.scan(step, h0, jnp.moveaxis(drive, 1, 0))
        return last if readout == "last" else jnp.mean(hs, axis=0)

    def kernel(k):
        if not k.full or k.spatial != 1:
            raise ValueError(f"{name}: needs the full layout of time pairs")
        w2, u2, b2 = W_std ** 2, U_std ** 2, b_std ** 2
        base = k.replace(nngp=u2 * k.nngp + b2, cov1=u2 * k.cov1 + b2, cov2=u2 * k.cov2 + b2,
                         ntk=u2 * k.ntk, channels=out_dim, is_gaussian=True)

        def step(_, m):
            a = act.kernel(m)
            nngp = base.nngp + w2 * _shift(a.nngp)
            return base.replace(nngp=nngp, ntk=nngp + base.ntk + w2 * _shift(a.ntk),
                                cov1=base.cov1 + w2 * _shift(a.cov1),
                                cov2=base.cov2 + w2 * _shift(a.cov2))

        first = base.replace(ntk=base.nngp + base.ntk)
        out = act.kernel(jax.lax.fori_loop(0, k.nngp.shape[-1] - 1, step, first))
        pick = (lambda z: z[..., -1, -1]) if readout == "last" else \
            (lambda z: jnp.mean(z, axis=(-2, -1)))
        return Kernel(nngp=pick(out.nngp), ntk=pick(out.ntk), cov1=pick(out.cov1),
                      cov2=pick(out.cov2), channels=out_dim, spatial=0, diagonal=False,
                      is_gaussian=False, x1_is_x2=k.x1_is_x2)

    return Layer(key=("Rnn", out_dim, W_std, U_std, b_std, act.key, readout), shape=shape,
                 kernel=kernel, apply=apply, init=init, pools=True)
