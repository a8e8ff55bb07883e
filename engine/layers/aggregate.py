"""Aggregate: message passing over a graph, the neighbourhood sum of graph neural networks.

Inputs are (N, V, C) (V vertices, C channels) or (N, H, W, C); the vertices are the
positions along ``aggregate_axis`` (all spatial axes by default, flattened to V = H * W).
Each input n comes with its graph, passed as ``apply_fn(params, x, pattern=P)`` and
``kernel_fn(x1, x2, get, pattern=(P1, P2))``:

- DENSE: P[n] a (weighted) adjacency of shape (N, X_1..X_K, X_1..X_K); P[n][i, j] is the
  weight of the edge (arc) from tail i to head j.
- SPARSE: integer edges of shape (N, E, K, 2) (or (N, E, 2) when K = 1): [..., 0] the tail,
  [..., 1] the head of each of E edges, each edge weight 1 (repeats add up). An edge with a
  coordinate outside [0, X_k) (e.g. -1, for padding) is dropped.

Finite layer: every vertex becomes the weighted sum of its predecessors,
  y[n, j, c] = sum_i P[n][i, j] x[n, i, c].
Kernel: the layer is linear and acts on every channel alike, so for inputs x, x' with graphs
P, P' and any kernel K entering it (Du et al. 2019, "Graph Neural Tangent Kernel: Fusing
Graph Neural Networks with Graph Kernels", the AGGREGATE step, with general edge weights):
  K'(x, x')[j, l] = sum_{i, k} P[i, j] K(x, x')[i, k] P'[k, l],   i.e.  P^T K P',
for the NNGP and the NTK alike (no parameters), and P^T cov P for each input with itself.
Gaussianity and channels are unchanged; it needs covariances between vertices (the full
layout). pattern=None (both None in kernel_fn) is the identity, as in neural-tangents.
SPARSE computes the same sums by gathering K at pairs of tails and summing over heads
(``jax.ops.segment_sum``), O(E1 E2) per pair of inputs instead of O(V^3).

Masked inputs (mask_constant), as neural-tangents: the mask passes unchanged (a masked
vertex's zeroed input sends nothing in apply_fn) and the covariances of masked vertices are
zeroed after the kernel.
"""
from __future__ import annotations

import enum
import math

import jax
import jax.numpy as jnp
import numpy as np

from ..checks import hyperparameter
from ..kernel import Kernel
from . import masking
from .keywords import KeywordLayer
from .layer import expect_spatial
from .layout import check_axes, describe, order_of, with_axes


class AggregateImplementation(enum.Enum):
    """How Aggregate's ``pattern`` describes each input's graph (neural-tangents' enum).

    DENSE: a (weighted) adjacency of shape (N, X_1..X_K, X_1..X_K), P[n][i, j] the weight of
      the edge from tail i to head j; kernel P^T K P' by matrix products.
    SPARSE: integer edges of shape (N, E, K, 2) (or (N, E, 2) when K = 1), [..., 0] the tail
      and [..., 1] the head, each of weight 1; the same sums by gathers and segment sums.
      Edges with a coordinate outside [0, X_k) (e.g. -1, padding) are dropped.
    """

    DENSE = "DENSE"
    SPARSE = "SPARSE"


def _identity(pattern):
    return pattern


def _check_axes(aggregate_axis):
    if aggregate_axis is None:
        return None
    axes = (aggregate_axis,) if not isinstance(aggregate_axis, (tuple, list)) \
        else tuple(aggregate_axis)
    for a in axes:
        hyperparameter("Aggregate", "aggregate_axis", a, integer=True)
    return axes


def _implementation(implementation) -> AggregateImplementation:
    try:
        return AggregateImplementation(implementation)
    except ValueError:
        raise ValueError(f"Aggregate(implementation={implementation!r}): expected 'DENSE' or "
                         "'SPARSE'") from None


def Aggregate(aggregate_axis=None, batch_axis=0, channel_axis=-1, to_dense=_identity,
              implementation="DENSE") -> KeywordLayer:
    """Sum over each vertex's predecessors: y[n, j] = sum_i P[n][i, j] x[n, i].

    Args:
      aggregate_axis: the axes (of the inputs in their layout, batch axis included) whose
        positions are the vertices: an integer, a tuple of them, or None for all spatial
        axes. The pattern's vertex axes are in this order.
      batch_axis: the inputs' batch axis (engine.layers.layout); the pattern's is always
        its first.
      channel_axis: the inputs' channel axis.
      to_dense: DENSE only: a function turning the given ``pattern`` into the dense
        (N, X_1..X_K, X_1..X_K) adjacency, called at every apply/kernel call (on the rows of
        a chunk in kernel_fn). Identity by default.
      implementation: 'DENSE' (adjacency matrices, matrix products) or 'SPARSE' (integer
        edge lists (N, E, K, 2), segment sums); see the module docstring.

    Kernel: P^T K P' per pair of inputs (Du et al. 2019, Graph Neural Tangent Kernel;
    neural-tangents' ``stax.Aggregate`` documents the same rule).
    """
    axes = _check_axes(aggregate_axis)
    batch_axis, channel_axis = check_axes("Aggregate", batch_axis, channel_axis)
    to_dense = _identity if to_dense is None else to_dense
    if not callable(to_dense):
        raise ValueError(f"Aggregate(to_dense={to_dense!r}): to_dense must be a function")
    sparse = _implementation(implementation) is AggregateImplementation.SPARSE

    def spatial_axes(ndim):
        """The aggregated spatial axes of the canonical layout (0 = the first after the
        batch axis); ``aggregate_axis`` names axes of the user's layout."""
        if axes is None:
            return tuple(range(ndim - 2))
        order = order_of("Aggregate", batch_axis, channel_axis, ndim)
        out = []
        for a in axes:
            if not -ndim <= a < ndim or order[a % ndim] in (0, ndim - 1):
                raise ValueError(f"Aggregate(aggregate_axis={aggregate_axis!r}): axis {a} is "
                                 f"not a spatial axis of inputs laid out as {describe(order)}")
            out.append(order[a % ndim] - 1)
        if len(set(out)) != len(out):
            raise ValueError(f"Aggregate(aggregate_axis={aggregate_axis!r}): repeated axis")
        return tuple(out)

    def shape(s):
        s = expect_spatial("Aggregate", s)
        spatial_axes(s.spatial + 2)
        return s

    def apply(params, x, pattern=None):
        if pattern is None:
            return x
        d = spatial_axes(x.ndim)
        to, back = _vertex_axes(x.shape, 1, d, paired=False)
        graph = read_graph(pattern, tuple(x.shape[1 + a] for a in d), len(x), "pattern",
                           x.dtype)
        if sparse:
            return back(jax.vmap(_pass_messages)(to(x), *graph))
        return back(jnp.einsum("nvr,nvw->nwr", to(x), graph))

    def read_graph(pattern, sizes, n, name, dtype):
        """(tails, heads) for SPARSE, the (n, V, V) adjacency for DENSE."""
        if sparse:
            return _edges(pattern, sizes, n, name)
        return _dense(to_dense(pattern), sizes, n, name, dtype)

    def kernel(k: Kernel, pattern=None) -> Kernel:
        p1, p2 = (None, None) if pattern is None else pattern
        if p1 is None and p2 is None:
            return k
        if p1 is None or p2 is None:
            raise ValueError("Aggregate: kernel_fn got one of pattern=(pattern1, pattern2) as "
                             "None; give both (or neither, for the identity)")
        d = spatial_axes(k.spatial + 2)
        sizes = tuple(k.nngp.shape[2 + 2 * a] for a in d)
        n1, n2 = k.nngp.shape[:2]
        g1 = read_graph(p1, sizes, n1, "pattern1", k.nngp.dtype)
        g2 = read_graph(p2, sizes, n2, "pattern2", k.nngp.dtype)

        def cross(x):
            return _on_vertices(lambda v: _aggregate_pairs(v, g1, g2, sparse), x, 2, d)

        def own(x, g):
            return _on_vertices(lambda v: _aggregate_self(v, g, sparse), x, 1, d)
        return k.replace(nngp=cross(k.nngp), ntk=cross(k.ntk), cov1=own(k.cov1, g1),
                         cov2=own(k.cov2, g2))

    key = ("Aggregate", axes, to_dense, "SPARSE" if sparse else "DENSE")
    layer = KeywordLayer(key=key, shape=shape, kernel=kernel, apply=apply, pools=True,
                         keywords=("pattern",), masks=masking.same, remask=True)
    return with_axes(layer, "Aggregate", batch_axis, channel_axis)


def _vertex_axes(shape, lead, d, paired):
    """(to, back): an array with ``lead`` batch axes to (*lead, V[, V], R) and back.

    ``paired``: the kernel layout (positions of x1 and x2 interleaved per spatial axis);
    else one position axis per spatial axis (an input, channels last).
    """
    step = 2 if paired else 1
    copies = (0, 1) if paired else (0,)
    moved = [lead + step * a + c for c in copies for a in d]
    rest = [i for i in range(lead, len(shape)) if i not in moved]
    perm = list(range(lead)) + moved + rest
    vertices = math.prod(shape[lead + step * a] for a in d)
    flat = tuple(shape[:lead]) + (vertices,) * len(copies) + (-1,)
    moved_shape = tuple(shape[i] for i in perm)
    inverse = np.argsort(perm)

    def to(x):
        return jnp.transpose(x, perm).reshape(flat)

    def back(y):
        return jnp.transpose(y.reshape(moved_shape), inverse)
    return to, back


def _on_vertices(fn, x, lead, d):
    """``fn`` on x arranged as (*lead, V, V, R), the result put back in x's layout."""
    to, back = _vertex_axes(x.shape, lead, d, paired=True)
    return back(fn(to(x)))


def _aggregate_pairs(x, g1, g2, sparse):
    """P1[a]^T x[a, b] P2[b] for every pair of inputs; x is (N1, N2, V, V, R)."""
    if sparse:
        pair = jax.vmap(jax.vmap(_pair_messages, (0, None, None, 0, 0)), (0, 0, 0, None, None))
        return pair(x, *g1, *g2)
    return jnp.einsum("aij,abikr,bkl->abjlr", g1, x, g2)


def _aggregate_self(x, g, sparse):
    """P[a]^T x[a] P[a] for each input; x is (N, V, V, R)."""
    if sparse:
        return jax.vmap(_pair_messages)(x, *g, *g)
    return jnp.einsum("aij,aikr,akl->ajlr", g, x, g)


def _dense(pattern, sizes, n, name, dtype):
    """The dense adjacency (n, V, V), after checking its shape (n, *sizes, *sizes)."""
    expected = (n,) + sizes + sizes
    if tuple(jnp.shape(pattern)) != expected:
        raise ValueError(f"Aggregate: {name} (after to_dense) must have shape {expected} "
                         f"(inputs, then tail and head vertex axes); got {jnp.shape(pattern)}")
    v = math.prod(sizes)
    return jnp.asarray(pattern).astype(dtype).reshape((n, v, v))


def _edges(pattern, sizes, n, name):
    """(tails, heads), each (n, E) flat vertex numbers; a dropped edge has head V."""
    pattern = jnp.asarray(pattern)
    k, given = len(sizes), pattern.shape
    if k == 1 and pattern.ndim == 3:
        pattern = pattern[:, :, None, :]
    expected = f"(N, n_edges, {k}, 2)" + (" or (N, n_edges, 2)" if k == 1 else "")
    if pattern.ndim != 4 or pattern.shape[0] != n or pattern.shape[2:] != (k, 2):
        raise ValueError(f"Aggregate(implementation='SPARSE'): {name} must have shape "
                         f"{expected} with N = {n}; got {given}")
    if not jnp.issubdtype(pattern.dtype, jnp.integer):
        raise ValueError(f"Aggregate(implementation='SPARSE'): {name} must hold integer "
                         f"vertex indices; got dtype {pattern.dtype}")
    bounds = jnp.asarray(sizes)[:, None]
    valid = jnp.all((pattern >= 0) & (pattern < bounds), axis=(2, 3))
    strides = jnp.asarray([math.prod(sizes[i + 1:]) for i in range(k)])
    flat = jnp.einsum("nekt,k->net", pattern, strides)
    vertices = math.prod(sizes)
    tails = jnp.where(valid, flat[..., 0], 0)
    heads = jnp.where(valid, flat[..., 1], vertices)
    return tails, heads


def _pass_messages(x, tails, heads):
    """One input (V, R): each head gets the sum of its tails' rows."""
    return jax.ops.segment_sum(x[tails], heads, num_segments=x.shape[0])


def _pair_messages(x, tails1, heads1, tails2, heads2):
    """One pair's kernel (V, V, R): sum over edges e1, e2 into (head1, head2)."""
    v = x.shape[0]
    g = x[tails1][:, tails2]  # (E1, E2, R)
    g = jax.ops.segment_sum(jnp.swapaxes(g, 0, 1), heads2, num_segments=v)  # (V, E1, R)
    return jax.ops.segment_sum(jnp.swapaxes(g, 0, 1), heads1, num_segments=v)
