"""The empirical NTK of a dense chain, layer by layer (the "structured" path).

For a ``serial`` chain of Dense layers and parameter-free per-example layers (such as
activations) on (N, features) inputs: a Dense layer z = a h W + c b contributes
(a^2 h(x1).h(x2) + c^2) * delta(x1).delta(x2) to the NTK (mean over the k outputs), where h is
its input and delta = df/dz its backward signal (one backward pass per output unit, for all
layers at once). Time O(N^2 width depth + N width^2 depth), memory O(N width depth), against
O(N^2 P) for contracting Jacobians over all P parameters.

Also the readout NNGP: K(x1, x2) = W_std^2 / n h(x1).h(x2) + b_std^2 for a chain ending in
Dense(W_std, b_std) on features h, the covariance of the outputs over a fresh draw of the
readout weights (it tends to the NNGP kernel per network as the width grows).
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from engine.layers.layer import no_params


def is_dense(layer) -> bool:
    return layer.name == "Dense"


def chain_of(layer, params=None) -> list:
    """The flat list of (layer, params) of nested ``serial`` layers, in order."""
    if layer.name != "serial":
        return [(layer, params)]
    params = params if params is not None else (None,) * len(layer.children)
    return [pair for child, p in zip(layer.children, params) for pair in chain_of(child, p)]


def is_dense_chain(layer) -> bool:
    """A serial chain of Dense layers and parameter-free, branch-free per-example layers."""
    return all(is_dense(l) or (l.init is no_params and not l.children and
                                l.name not in ("FanOut", "FanInSum"))
               for l, _ in chain_of(layer))


@functools.partial(jax.jit, static_argnums=0)
def dense_ntk(layer, params, x1, x2):
    h1, d1 = backward_signals(layer, params, x1)
    h2, d2 = (h1, d1) if x2 is None else backward_signals(layer, params, x2)
    total = 0.0
    for (dense, p), a1, a2, b1, b2 in zip(_dense_layers(layer, params), h1, h2, d1, d2):
        w_mult, b_mult = dense_multipliers(dense, p, a1.shape[-1], a1.dtype)
        signal = jnp.einsum("can,cbn->ab", b1, b2) / b1.shape[0]
        total = total + (w_mult ** 2 * (a1 @ a2.T) + b_mult ** 2) * signal
    return total


def _dense_layers(layer, params) -> list:
    return [(l, p) for l, p in chain_of(layer, params) if is_dense(l)]


def backward_signals(layer, params, x):
    """Per Dense layer: its inputs h (N, n_in) and df_c/dz (k, N, n_out) for each output c.

    One forward pass with a zero perturbation added to each Dense output, then one
    backward pass per output unit with respect to all perturbations at once.
    """
    chain = chain_of(layer, params)
    zeros = [jnp.zeros((len(x), p[0].shape[1]), x.dtype) for l, p in chain if is_dense(l)]

    def forward(perturbations):
        h, inputs, i = x, [], 0
        for l, p in chain:
            if is_dense(l):
                inputs.append(h)
                h = l.apply(p, h) + perturbations[i]
                i += 1
            else:
                h = l.apply(p, h)
        return h, inputs

    f, pullback, inputs = jax.vjp(forward, zeros, has_aux=True)
    k = f.shape[-1]
    basis = jnp.broadcast_to(jnp.eye(k, dtype=f.dtype)[:, None, :], (k,) + f.shape)
    (signals,) = jax.vmap(pullback)(basis)
    return inputs, signals


def dense_multipliers(layer, params, n_in: int, dtype):
    """(a, c) of the Dense layer z = a h W + c b, read off its apply by two JVPs.

    On a one-column copy of the layer (apply reads its sizes from the arrays), so the
    probe costs O(n_in) whatever the width.
    """
    h = jnp.zeros((1, n_in), dtype).at[0, 0].set(1.0)
    params = tuple(None if v is None else v[..., :1] for v in params)  # (W, b)

    def along(index):
        tangent = tuple(None if v is None else (jnp.ones_like(v) if i == index else
                                                jnp.zeros_like(v))
                        for i, v in enumerate(params))
        return jax.jvp(lambda q: layer.apply(q, h), (params,), (tangent,))[1][0, 0]

    return along(0), (along(1) if params[1] is not None else 0.0)


@functools.partial(jax.jit, static_argnums=0)
def readout_nngp(layer, params, x1, x2):
    readout = chain_of(layer)[-1][0]
    _, _, w_std, b_std, _ = readout.key  # ("Dense", out_dim, W_std, b_std, parameterization)
    h1 = _readout_inputs(layer, params, x1)
    h2 = h1 if x2 is None else _readout_inputs(layer, params, x2)
    return w_std ** 2 / h1.shape[-1] * (h1 @ h2.T) + (0.0 if b_std is None else b_std ** 2)


def _readout_inputs(layer, params, x):
    h = x
    for l, p in chain_of(layer, params)[:-1]:
        h = l.apply(p, h)
    return h


def ends_in_dense(layer) -> bool:
    """A dense chain whose last layer is Dense (the readout NNGP needs one)."""
    return is_dense_chain(layer) and is_dense(chain_of(layer)[-1][0])
