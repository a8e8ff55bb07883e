"""Empirical kernels of one finite network at given parameters (neural-tangents' API).

    ntk_fn = empirical_ntk_fn(apply_fn)            # any f(params, x, **kwargs)
    theta = ntk_fn(x1, x2, params)                 # (N1, N2) jax.Array; x2=None means x1

NTK: Theta(x1, x2) = J(x1) J(x2)^T with J = df/dparams; NNGP: f(x1) f(x2)^T (one draw of the
output covariance). Both are arrays over pairs of outputs; each axis in ``trace_axes`` is
summed along its pair of axes and divided by its size (the default ``(-1,)`` averages over
the output units, so the result compares directly with ``kernel_fn(..., get="ntk")``); each
axis in ``diagonal_axes`` keeps only equal indices. The remaining axes come in pairs, x1's
then x2's: ``(N1, N2, H1, H2, ...)``, kernel_fn's layout.

Implementations (``NtkImplementation``), equal to rounding:

- JACOBIAN_CONTRACTION: the Jacobians on x1 and x2 contracted over the parameters; any f.
  Time O(N^2 k P), memory O(N k P) for P parameters and k outputs.
- NTK_VECTOR_PRODUCTS: one vector-Jacobian and one Jacobian-vector product per output
  entry of x2; memory O(P + N k) beyond f's own.
- STRUCTURED_DERIVATIVES: for engine dense chains on (N, features) inputs with the default
  axes, layer by layer (engine.finite.empirical_dense); otherwise the Jacobian contraction.
- AUTO: the structured path when it applies, else the Jacobian contraction.

The strings "auto", "jacobian" and "dense" are accepted too; "dense" insists on the
structured path (an error when the network or the inputs do not allow it). ``vmap_axes`` is
accepted for compatibility: every path here already works on whole batches.

Keywords ``**apply_fn_kwargs`` are split between the two sides as neural-tangents does
(engine.finite.empirical_kwargs): ``pattern=(pattern1, pattern2)`` gives f(params, x1,
pattern=pattern1) and f(params, x2, pattern=pattern2); ``rng`` gives x2 a different key
unless x2 equals x1; other values go to both.
"""
from __future__ import annotations

import collections
import enum
import functools

import jax
import jax.numpy as jnp
import numpy as np

from engine.finite import empirical_dense as dense
from engine.finite.empirical_kwargs import bind, split_kwargs
from engine.kernel_fn import GETS, Kernels, check_get, concrete
from engine.layers.keywords import used_keywords
from engine.layers.randomness import uses_rng
from engine.network import ApplyFn, Network
from engine.checks import fail


class NtkImplementation(enum.IntEnum):
    """How the empirical NTK is computed (neural-tangents' names and values)."""

    AUTO = 0
    JACOBIAN_CONTRACTION = 1
    NTK_VECTOR_PRODUCTS = 2
    STRUCTURED_DERIVATIVES = 3


_BY_NAME = {"auto": NtkImplementation.AUTO, "jacobian": NtkImplementation.JACOBIAN_CONTRACTION,
            "dense": NtkImplementation.STRUCTURED_DERIVATIVES}
IMPLEMENTATIONS = tuple(_BY_NAME)


def _implementation(value) -> NtkImplementation:
    if isinstance(value, str) and value in _BY_NAME:
        return _BY_NAME[value]
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and \
            value in set(NtkImplementation):
        return NtkImplementation(value)
    raise fail("empirical_ntk_fn", "implementation", repr(value),
               f"one of {list(IMPLEMENTATIONS)} or an engine.NtkImplementation")


def _check_axes(fn: str, name: str, axes) -> tuple[int, ...]:
    if isinstance(axes, str):
        raise fail(fn, name, repr(axes), "a tuple of output axes (pass implementation= by "
                   "keyword)")
    axes = (axes,) if isinstance(axes, (int, np.integer)) else tuple(axes)
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axes):
        raise fail(fn, name, repr(axes), "a tuple of integers")
    return axes


def _layer_of(f):
    if isinstance(f, Network):
        return f.layer
    return f.layer if isinstance(f, ApplyFn) else None


def _apply_of(f):
    return f.apply_fn if isinstance(f, Network) else f


def empirical_ntk_fn(f, trace_axes=(-1,), diagonal_axes=(), vmap_axes=None,
                     implementation=NtkImplementation.AUTO):
    """``ntk_fn(x1, x2, params, **apply_fn_kwargs)``: J(x1) J(x2)^T for ``f(params, x)``.

    Args:
      f: any ``f(params, x, **kwargs)``, e.g. an engine network's apply_fn (or the network).
      trace_axes: output axes averaged along their pair (default: the output units).
      diagonal_axes: output axes of which only equal indices are kept.
      vmap_axes: accepted for neural-tangents compatibility; not needed.
      implementation: an ``NtkImplementation`` (or "auto", "jacobian", "dense").
    """
    fn = "empirical_ntk_fn"
    trace_axes = _check_axes(fn, "trace_axes", trace_axes)
    diagonal_axes = _check_axes(fn, "diagonal_axes", diagonal_axes)
    strict = implementation == "dense"
    implementation = _implementation(implementation)
    layer, apply = _layer_of(f), _apply_of(f)
    structured = layer is not None and dense.is_dense_chain(layer) and \
        implementation in (NtkImplementation.AUTO, NtkImplementation.STRUCTURED_DERIVATIVES)
    if strict and not structured:
        raise fail(fn, "implementation", "'dense'", "'auto' or 'jacobian' for this network (the "
                   "dense path needs a serial chain of Dense layers and parameter-free layers "
                   "such as activations)")

    def ntk_fn(x1, x2=None, params=None, **apply_fn_kwargs):
        x1, x2 = _checked(f"{fn}.ntk_fn", x1, x2, params, flat=strict)
        sides = _sides(apply, apply_fn_kwargs, x1, x2)
        out_ndim = _output(sides, params, x1).ndim
        axes = _canonical(out_ndim, trace_axes, diagonal_axes)
        if structured and x1.ndim == 2 and axes == ((out_ndim - 1,), ()) and \
                not _reads_keywords(layer, apply_fn_kwargs):
            return dense.dense_ntk(layer, params, x1, x2)
        method = _vector_products if implementation == NtkImplementation.NTK_VECTOR_PRODUCTS \
            else _jacobian_contraction
        return _static_call(method, sides, params, x1, x2, axes)

    return ntk_fn


def empirical_nngp_fn(f, trace_axes=(-1,), diagonal_axes=()):
    """``nngp_fn(x1, x2, params, **apply_fn_kwargs)``: f(x1) f(x2)^T, one draw of the NNGP."""
    fn = "empirical_nngp_fn"
    trace_axes = _check_axes(fn, "trace_axes", trace_axes)
    diagonal_axes = _check_axes(fn, "diagonal_axes", diagonal_axes)
    apply = _apply_of(f)

    def nngp_fn(x1, x2=None, params=None, **apply_fn_kwargs):
        x1, x2 = _checked(f"{fn}.nngp_fn", x1, x2, params, flat=False)
        sides = _sides(apply, apply_fn_kwargs, x1, x2)
        axes = _canonical(_output(sides, params, x1).ndim, trace_axes, diagonal_axes)
        return _static_call(_outer_product, sides, params, x1, x2, axes)

    return nngp_fn


def empirical_kernel_fn(f, trace_axes=(-1,), diagonal_axes=(), vmap_axes=None,
                        implementation=NtkImplementation.AUTO):
    """``kernel_fn(x1, x2, get, params, **apply_fn_kwargs)``: the empirical NNGP and/or NTK.

    ``get``: 'nngp', 'ntk' (one array) or a tuple of them (a namedtuple); None gives both.
    """
    fns = {"nngp": empirical_nngp_fn(f, trace_axes, diagonal_axes),
           "ntk": empirical_ntk_fn(f, trace_axes, diagonal_axes, vmap_axes, implementation)}

    def kernel_fn(x1, x2=None, get=None, params=None, **apply_fn_kwargs):
        names = check_get(get)
        values = [fns[n](x1, x2, params, **apply_fn_kwargs) for n in names]
        if isinstance(get, str):
            return values[0]
        return (Kernels if names == GETS else _named(names))(*values)

    return kernel_fn


@functools.cache
def _named(names):
    return collections.namedtuple("Kernels", names)


def readout_nngp_fn(apply_fn):
    """``nngp_fn(x1, x2, params)``: the NNGP of the readout given the hidden layers at params.

    For a network ending in Dense(W_std, b_std) on features h (its input):
    K(x1, x2) = W_std^2 / n h(x1).h(x2) + b_std^2, the covariance of the outputs over a
    fresh draw of the readout weights. It tends to the NNGP kernel as the width grows
    (per network, not only on average), so it can be compared at init and after training.
    Needs an engine dense chain (see engine.finite.empirical_dense) that ends in Dense.
    """
    layer = _layer_of(apply_fn)
    if layer is None or not dense.ends_in_dense(layer):
        raise fail("readout_nngp_fn", "apply_fn", repr(apply_fn), "the apply_fn of an engine "
                   "network that is a serial chain of Dense and activation layers ending in Dense")

    def nngp_fn(x1, x2=None, params=None):
        x1, x2 = _checked("readout_nngp_fn.nngp_fn", x1, x2, params, flat=True)
        return dense.readout_nngp(layer, params, x1, x2)

    return nngp_fn


# ---------------------------------------------------------------- checks

def _checked(fn: str, x1, x2, params, flat: bool):
    """Inputs as arrays after checks that need only shapes (and values when concrete)."""
    if params is None:
        raise fail(fn, "params", "None", "the network's parameters")
    arrays = [_checked_input(fn, "x1", x1, flat), None]
    if x2 is not None:
        arrays[1] = _checked_input(fn, "x2", x2, flat)
        if arrays[1].shape[1:] != arrays[0].shape[1:]:
            raise fail(fn, "x2", f"<array of shape {arrays[1].shape}>", "an array of shape "
                       f"(N, {', '.join(map(str, arrays[0].shape[1:]))}) like x1")
    return arrays


def _checked_input(fn, name, x, flat: bool):
    shape = np.shape(x)
    dtype = np.dtype(x.dtype) if hasattr(x, "dtype") else np.asarray(x).dtype
    if dtype.kind not in "iuf" or len(shape) < 2 or 0 in shape or (flat and len(shape) != 2):
        raise fail(fn, name, f"<array of shape {shape}>",
                   "a numeric array of shape (N, features" + (")" if flat else "...)"))
    values = concrete(x)
    if values is not None and not np.all(np.isfinite(values)):
        raise fail(fn, name, f"<array of shape {shape}>", "finite (no NaN or inf)")
    return jnp.asarray(x, dtype=jnp.result_type(float) if dtype.kind in "iu" else None)


# ---------------------------------------------------------------- keywords

def _sides(apply, kwargs: dict, x1, x2) -> tuple:
    """(g1, g2, kw1, kw2): ``g1(params, x1, **kw1)`` and ``g2(params, x2, **kw2)`` are f on
    each side with its keywords (engine.finite.empirical_kwargs); kw1, kw2 hold the traced ones."""
    kwargs1, kwargs2 = split_kwargs(kwargs, x1, x2)
    g1, kw1 = bind(apply, kwargs1)
    g2, kw2 = (g1, kw1) if kwargs2 is kwargs1 else bind(apply, kwargs2)
    return g1, g2, kw1, kw2


def _output(sides, params, x1):
    g1, _, kw1, _ = sides
    return jax.eval_shape(lambda p, x, kw: g1(p, x, **kw), params, x1, kw1)


def _reads_keywords(layer, kwargs: dict) -> bool:
    """Whether the engine network reads any of the keywords (the structured path runs the
    layers without them)."""
    return bool(used_keywords(layer, kwargs)) or ("rng" in kwargs and uses_rng(layer))


# ---------------------------------------------------------------- contractions

def _canonical(out_ndim: int, trace_axes, diagonal_axes):
    trace = tuple(sorted({a % out_ndim for a in trace_axes}))
    diagonal = tuple(sorted({a % out_ndim for a in diagonal_axes}))
    if set(trace) & set(diagonal):
        raise ValueError(f"empirical kernels: trace_axes {trace_axes} and diagonal_axes "
                         f"{diagonal_axes} name the same output axis")
    return trace, diagonal


def _letters(out_ndim: int, axes) -> tuple[str, str, str]:
    """einsum letters of an output of x1, of x2, and of the kernel (pairs interleaved)."""
    trace, diagonal = axes
    pool = iter("abcdefghijklmnopqrstuvwxy")
    left = right = out = ""
    for i in range(out_ndim):
        a = next(pool)
        if i in trace or i in diagonal:
            left, right, out = left + a, right + a, out + (a if i in diagonal else "")
        else:
            b = next(pool)
            left, right, out = left + a, right + b, out + a + b
    return left, right, out


def _trace_size(shape, axes) -> int:
    return int(np.prod([shape[a] for a in axes[0]]))


def _static_call(method, sides, params, x1, x2, axes):
    """The compiled ``method`` when f on both sides is hashable, else traced inline."""
    g1, g2, kw1, kw2 = sides
    try:
        hash((g1, g2))
    except TypeError:
        return method.__wrapped__(g1, g2, params, x1, x2, axes, kw1, kw2)
    return method(g1, g2, params, x1, x2, axes, kw1, kw2)


@functools.partial(jax.jit, static_argnums=(0, 1, 5))
def _jacobian_contraction(g1, g2, params, x1, x2, axes, kw1, kw2):
    def jacobian(g, x, kw):
        return jax.jacrev(lambda p: g(p, x, **kw))(params)
    j1 = jacobian(g1, x1, kw1)
    j2 = j1 if x2 is None else jacobian(g2, x2, kw2)
    out_ndim = jax.eval_shape(lambda p, x: g1(p, x, **kw1), params, x1).ndim
    left, right, out = _letters(out_ndim, axes)
    total = 0.0
    for a, b in zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2)):
        a = a.reshape(a.shape[:out_ndim] + (-1,))
        b = b.reshape(b.shape[:out_ndim] + (-1,))
        total = total + jnp.einsum(f"{left}z,{right}z->{out}", a, b)
    return total / _trace_size(jax.eval_shape(lambda p, x: g1(p, x, **kw1), params,
                                              x1).shape, axes)


@functools.partial(jax.jit, static_argnums=(0, 1, 5))
def _vector_products(g1, g2, params, x1, x2, axes, kw1, kw2):
    """Theta e for every unit vector e of x2's outputs: a VJP then a JVP each."""
    if x2 is None:
        x2, g2, kw2 = x1, g1, kw1
    out2, pullback = jax.vjp(lambda p: g2(p, x2, **kw2), params)

    def column(cotangent):
        (tangent,) = pullback(cotangent)
        return jax.jvp(lambda p: g1(p, x1, **kw1), (params,), (tangent,))[1]

    basis = jnp.eye(out2.size, dtype=out2.dtype).reshape((out2.size,) + out2.shape)
    columns = jax.lax.map(column, basis)  # (size2, *out1)
    full = jnp.moveaxis(columns.reshape(out2.shape + columns.shape[1:]),
                        range(out2.ndim), range(-out2.ndim, 0))  # (*out1, *out2)
    left, right, out = _letters(out2.ndim, axes)
    return jnp.einsum(f"{left}{right}->{out}", full) / _trace_size(out2.shape, axes)


@functools.partial(jax.jit, static_argnums=(0, 1, 5))
def _outer_product(g1, g2, params, x1, x2, axes, kw1, kw2):
    f1 = g1(params, x1, **kw1)
    f2 = f1 if x2 is None else g2(params, x2, **kw2)
    left, right, out = _letters(f1.ndim, axes)
    return jnp.einsum(f"{left},{right}->{out}", f1, f2) / _trace_size(f1.shape, axes)
