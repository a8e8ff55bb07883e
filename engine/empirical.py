"""Empirical NTK and NNGP of one finite network at given parameters.

    ntk_fn = empirical_ntk_fn(apply_fn)          # apply_fn of engine.build(spec) or any f(p, x)
    theta = ntk_fn(x1, x2, params)               # (N1, N2) NumPy array; x2=None means x1

Theta(x1, x2) = sum over all parameters p of df(x1)/dp * df(x2)/dp, averaged over the output
units (neural-tangents' default ``trace_axes=(-1,)``, which divides the trace by the number
of outputs), so it is directly comparable with ``kernel_fn(..., get="ntk")``. Networks with
spatial outputs give the kernel per pair of positions, in kernel_fn's layout.

Two implementations, equal to rounding:

- ``"jacobian"`` (any network, any function ``f(params, x)``): the Jacobians of f on x1 and x2
  (``jax.jacrev``) contracted over the parameters. Time O(N^2 P), memory O(N k P) for P
  parameters and k outputs.
- ``"dense"`` (a ``serial`` chain of Dense layers and parameter-free per-example layers,
  such as activations, on (N, features) inputs): layer by layer. A Dense layer
  z = a h W + c b contributes (a^2 h(x1).h(x2) + c^2) * delta(x1).delta(x2), where h is its
  input and delta = df/dz its backward signal (one backward pass per output unit, for all
  layers at once). Time O(N^2 width depth + N width^2 depth), memory O(N width depth).

``"auto"`` (default) takes the dense path when the network and the inputs allow it.
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from engine.layers.layer import no_params
from engine.network import Network
from engine.predict_args import fail

IMPLEMENTATIONS = ("auto", "dense", "jacobian")


def empirical_ntk_fn(apply_fn, implementation: str = "auto"):
    """``ntk_fn(x1, x2, params)`` computing the empirical NTK (mean over output units).

    ``apply_fn``: a Network's ``apply_fn`` (or the Network itself), or any ``f(params, x)``;
    only networks built by the engine can use the dense path.
    """
    if implementation not in IMPLEMENTATIONS:
        raise fail("empirical_ntk_fn", "implementation", repr(implementation),
                   f"one of {list(IMPLEMENTATIONS)}")
    network = _network_of(apply_fn)
    dense = network is not None and is_dense_chain(network.layer)
    if implementation == "dense" and not dense:
        raise fail("empirical_ntk_fn", "implementation", "'dense'", "'auto' or 'jacobian' for "
                   "this network (the dense path needs a serial chain of Dense layers and "
                   "parameter-free layers such as activations)")
    apply = network.apply_fn if network is not None else apply_fn

    def ntk_fn(x1, x2=None, params=None):
        if params is None:
            raise fail("empirical_ntk_fn.ntk_fn", "params", "None", "the network's parameters")
        x1, x2 = _checked_inputs(x1, x2, flat=implementation == "dense")
        if dense and implementation != "jacobian" and x1.ndim == 2:
            return np.asarray(_dense_ntk(network.layer, params, x1, x2))
        return np.asarray(_jacobian_ntk(apply, params, x1, x2))

    return ntk_fn


def _network_of(apply_fn) -> Network | None:
    if isinstance(apply_fn, Network):
        return apply_fn
    owner = getattr(apply_fn, "__self__", None)
    return owner if isinstance(owner, Network) else None


def _checked_inputs(x1, x2, flat: bool):
    fn = "empirical_ntk_fn.ntk_fn"
    arrays = []
    for name, x in (("x1", x1), ("x2", x2)):
        if x is None and name == "x2":
            arrays.append(None)
            continue
        x = np.asarray(x)
        if x.dtype.kind not in "iuf" or x.ndim < 2 or 0 in x.shape or (flat and x.ndim != 2):
            raise fail(fn, name, f"<array of shape {x.shape}>",
                       "a numeric array of shape (N, features" + (")" if flat else "...)"))
        if not np.all(np.isfinite(x)):
            raise fail(fn, name, f"<array of shape {x.shape}>", "finite (no NaN or inf)")
        arrays.append(x)
    if arrays[1] is not None and arrays[1].shape[1:] != arrays[0].shape[1:]:
        raise fail(fn, "x2", f"<array of shape {arrays[1].shape}>",
                   f"an array of shape (N, {', '.join(map(str, arrays[0].shape[1:]))}) like x1")
    return arrays


# ---------------------------------------------------------------- general path

@functools.partial(jax.jit, static_argnums=0)
def _jacobian_ntk(apply_fn, params, x1, x2):
    def jacobian(x):
        return jax.jacrev(lambda p: apply_fn(p, x))(params)
    out_ndim = jax.eval_shape(apply_fn, params, x1).ndim
    j1 = jacobian(x1)
    j2 = j1 if x2 is None else jacobian(x2)
    return sum(_contract(a, b, out_ndim) for a, b in
               zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2)))


def _contract(j1, j2, out_ndim: int):
    """Sum over one parameter array of J1[a, p.., c, w] J2[b, q.., c, w], mean over c."""
    j1 = j1.reshape(j1.shape[:out_ndim] + (-1,))
    j2 = j2.reshape(j2.shape[:out_ndim] + (-1,))
    spatial = out_ndim - 2
    p1, p2 = "hwd"[:spatial], "ijk"[:spatial]
    pairs = "".join(a + b for a, b in zip(p1, p2))
    return jnp.einsum(f"a{p1}cz,b{p2}cz->ab{pairs}", j1, j2) / j1.shape[out_ndim - 1]


# ---------------------------------------------------------------- dense path

def _is_dense(layer) -> bool:
    return layer.name == "Dense"


def chain_of(layer, params=None) -> list:
    """The flat list of (layer, params) of nested ``serial`` layers, in order."""
    if layer.name != "serial":
        return [(layer, params)]
    params = params if params is not None else (None,) * len(layer.children)
    return [pair for child, p in zip(layer.children, params) for pair in chain_of(child, p)]


def is_dense_chain(layer) -> bool:
    """A serial chain of Dense layers and parameter-free, branch-free per-example layers."""
    return all(_is_dense(l) or (l.init is no_params and not l.children and
                                l.name not in ("FanOut", "FanInSum"))
               for l, _ in chain_of(layer))


@functools.partial(jax.jit, static_argnums=0)
def _dense_ntk(layer, params, x1, x2):
    h1, d1 = backward_signals(layer, params, x1)
    h2, d2 = (h1, d1) if x2 is None else backward_signals(layer, params, x2)
    total = 0.0
    for (dense, p), a1, a2, b1, b2 in zip(_dense_layers(layer, params), h1, h2, d1, d2):
        w_mult, b_mult = dense_multipliers(dense, p, a1.shape[-1], a1.dtype)
        signal = jnp.einsum("can,cbn->ab", b1, b2) / b1.shape[0]
        total = total + (w_mult ** 2 * (a1 @ a2.T) + b_mult ** 2) * signal
    return total


def _dense_layers(layer, params) -> list:
    return [(l, p) for l, p in chain_of(layer, params) if _is_dense(l)]


def backward_signals(layer, params, x):
    """Per Dense layer: its inputs h (N, n_in) and df_c/dz (k, N, n_out) for each output c.

    One forward pass with a zero perturbation added to each Dense output, then one
    backward pass per output unit with respect to all perturbations at once.
    """
    chain = chain_of(layer, params)
    zeros = [jnp.zeros((len(x), p["W"].shape[1]), x.dtype) for l, p in chain if _is_dense(l)]

    def forward(perturbations):
        h, inputs, i = x, [], 0
        for l, p in chain:
            if _is_dense(l):
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
    params = {k: v[..., :1] for k, v in params.items()}

    def along(name):
        tangent = {k: (jnp.ones_like(v) if k == name else jnp.zeros_like(v))
                   for k, v in params.items()}
        return jax.jvp(lambda q: layer.apply(q, h), (params,), (tangent,))[1][0, 0]

    return along("W"), (along("b") if "b" in params else 0.0)


def empirical_nngp_fn(apply_fn):
    """``nngp_fn(x1, x2, params)``: the NNGP of the readout given the hidden layers at params.

    For a network ending in Dense(W_std, b_std) on features h (its input):
    K(x1, x2) = W_std^2 / n h(x1).h(x2) + b_std^2, the covariance of the outputs over a
    fresh draw of the readout weights. It tends to the NNGP kernel as the width grows
    (per network, not only on average), so it can be compared at init and after training.
    Needs a dense chain (see ``empirical_ntk_fn``) that ends in Dense.
    """
    network = _network_of(apply_fn)
    if network is None or not is_dense_chain(network.layer) \
            or not _is_dense(chain_of(network.layer)[-1][0]):
        raise fail("empirical_nngp_fn", "apply_fn", repr(apply_fn), "the apply_fn of an engine "
                   "network that is a serial chain of Dense and activation layers ending in Dense")

    def nngp_fn(x1, x2=None, params=None):
        if params is None:
            raise fail("empirical_nngp_fn.nngp_fn", "params", "None", "the network's parameters")
        x1, x2 = _checked_inputs(x1, x2, True)
        return np.asarray(_readout_nngp(network.layer, params, x1, x2))

    return nngp_fn


@functools.partial(jax.jit, static_argnums=0)
def _readout_nngp(layer, params, x1, x2):
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
