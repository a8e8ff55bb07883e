"""Network: a Layer seen from outside as neural-tangents' (init_fn, apply_fn, kernel_fn).

    init_fn, apply_fn, kernel_fn = stax.serial(stax.Dense(512), stax.Relu(), stax.Dense(1))
    out_shape, params = init_fn(key, (-1, 3))
    y = apply_fn(params, x)
    k = kernel_fn(x1, x2, get=("nngp", "ntk"))

Inputs are validated (shape, finiteness, what every layer accepts) before any
computation; the kernel is compiled once per (architecture, input shapes) at module
level and computed in tiles when N is large, so memory stays bounded.
"""
from __future__ import annotations

import collections
import functools
import math
from dataclasses import dataclass

import jax
import numpy as np

from .kernel import input_kernel
from .layers.layer import Layer, Shape

GETS = ("nngp", "ntk")
Kernels = collections.namedtuple("Kernels", GETS)

#: bytes of one output array computed in one compiled call (host tiles bound memory)
TILE_BYTES = 256 * 2 ** 20
#: elements of one row chunk's intermediates: small enough to stay in the CPU cache,
#: which makes the elementwise layer chain several times faster than whole-matrix passes
CHUNK_ELEMENTS = 2 ** 16


def check_get(get):
    """Normalise ``get`` to a tuple of names; a single name returns an array."""
    names = GETS if get is None else ((get,) if isinstance(get, str) else tuple(get))
    bad = [g for g in names if g not in GETS]
    if bad or not names:
        raise ValueError(f"kernel_fn(get={get!r}): expected 'nngp', 'ntk' or a tuple of them")
    return names


def check_inputs(x1, x2):
    x1 = _as_array("x1", x1)
    if x2 is not None:
        x2 = _as_array("x2", x2)
        if x2.shape[1:] != x1.shape[1:]:
            raise ValueError(f"kernel_fn(x2): x2 has shape {x2.shape} but x1 has {x1.shape}; "
                             "they must agree after the batch axis")
    return x1, x2


def _as_array(name, x):
    x = np.asarray(x)
    if x.dtype.kind not in "fiu":
        raise ValueError(f"kernel_fn({name}): expected a numeric array; got dtype {x.dtype}")
    if x.ndim not in (2, 3, 4) or x.shape[0] == 0 or 0 in x.shape:
        raise ValueError(f"kernel_fn({name}): expected shape (N, features), (N, W, C) or "
                         f"(N, H, W, C) with N >= 1; got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"kernel_fn({name}): inputs contain NaN or infinite values")
    return x


@functools.partial(jax.jit, static_argnums=(0, 3, 4, 5))
def _kernel_block(layer: Layer, x1, x2, diagonal: bool, names: tuple, rows: int):
    """Kernels of x1 (rows padded to a multiple of ``rows``) against all of x2.

    Rows of a kernel are independent, so the chain of layers runs on chunks of
    ``rows`` inputs at a time (``lax.map``), keeping intermediates small.
    """
    chunks = x1.reshape((-1, rows) + x1.shape[1:])

    def one(xc):
        k = layer.kernel(input_kernel(xc, x2, diagonal))
        return tuple(getattr(k, n) for n in names)

    out = jax.lax.map(one, chunks)
    return tuple(a.reshape((-1,) + a.shape[2:]) for a in out)


@dataclass(frozen=True)
class Network:
    layer: Layer

    def __iter__(self):
        return iter((self.init_fn, self.apply_fn, self.kernel_fn))

    def output_shape(self, input_shape) -> Shape:
        """Static pass: what the network outputs for inputs of this shape (batch excluded)."""
        out = self.layer.shape(Shape(tuple(int(d) for d in input_shape)))
        if isinstance(out, tuple):
            raise ValueError(f"the network ends with {len(out)} open branches; "
                             "join them with FanInSum")
        return out

    def init_fn(self, key, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) not in (2, 3, 4):
            raise ValueError(f"init_fn(input_shape={input_shape}): expected (N, features), "
                             "(N, W, C) or (N, H, W, C)")
        out = self.output_shape(input_shape[1:])
        params = self.layer.init(key, Shape(tuple(input_shape[1:])))
        return (input_shape[0],) + out.dims, params

    def apply_fn(self, params, x, **unused):
        return self.layer.apply(params, x)

    def kernel_fn(self, x1, x2=None, get=None, tile_size=None, progress=None):
        """NNGP and/or NTK of x1 with x2 (x2=None: x1 with itself).

        ``tile_size`` bounds the inputs per compiled call (default: outputs of about
        TILE_BYTES per tile); ``progress(fraction)`` is called after each tile, and an
        exception raised from it stops the computation.
        """
        names = check_get(get)
        x1, x2 = check_inputs(x1, x2)
        out = self.output_shape(x1.shape[1:])
        diagonal = x1.ndim > 2 and out.spatial == 0 and not self.layer.needs_full_covariance
        tile = tile_size or _auto_tile(out.dims[:-1])
        arrays = _tiled(self.layer, x1, x2, diagonal, names, tile, progress or (lambda f: None))
        if isinstance(get, str):
            return arrays[0]
        return Kernels(**dict(zip(names, arrays))) if get is None else \
            collections.namedtuple("Kernels", names)(*arrays)


def _auto_tile(out_spatial) -> int:
    """Rows and columns of one host tile, so that one output array fits TILE_BYTES."""
    pairs = math.prod(out_spatial) ** 2
    return max(8, int(math.sqrt(TILE_BYTES / 8 / pairs)))


def _chunk_rows(in_spatial, diagonal, n2) -> int:
    """Rows per chunk so a chunk's kernel holds about CHUNK_ELEMENTS numbers."""
    pairs = math.prod(in_spatial) ** (1 if diagonal else 2)
    return max(1, CHUNK_ELEMENTS // (n2 * pairs))


def _pad_rows(x, n):
    """Pad to n rows with copies of the first row (valid inputs, results discarded)."""
    if len(x) >= n:
        return x
    return np.concatenate([x, np.repeat(x[:1], n - len(x), axis=0)])


def _block(layer, x1, x2, diagonal, names):
    """One compiled call: pad x1 to a whole number of chunks, drop the padding after."""
    rows = min(_chunk_rows(x1.shape[1:-1], diagonal, len(x2)), len(x1))
    padded = _pad_rows(x1, -(-len(x1) // rows) * rows)
    out = _kernel_block(layer, padded, x2, diagonal, names, rows)
    return tuple(np.asarray(a)[:len(x1)] for a in out)


def _tiled(layer, x1, x2, diagonal, names, tile, progress):
    """Kernel blocks of at most tile x tile inputs, assembled on the host."""
    same = x2 is None
    xb = x1 if same else x2
    if len(x1) <= tile and len(xb) <= tile:
        out = _block(layer, x1, xb, diagonal, names)
        progress(1.0)
        return out
    starts1 = range(0, len(x1), tile)
    starts2 = starts1 if same else range(0, len(xb), tile)
    pairs = [(i, j) for i in starts1 for j in starts2 if not (same and j < i)]
    out = None
    for done, (i, j) in enumerate(pairs, 1):
        blocks = _block(layer, _pad_rows(x1[i:i + tile], tile), _pad_rows(xb[j:j + tile], tile),
                        diagonal, names)
        if out is None:
            out = [np.empty((len(x1), len(xb)) + b.shape[2:], b.dtype) for b in blocks]
        _place(out, blocks, i, j, len(x1[i:i + tile]), len(xb[j:j + tile]), same and i != j)
        progress(done / len(pairs))
    return tuple(out)


def _place(out, blocks, r, c, nr, nc, mirror):
    for o, b in zip(out, blocks):
        b = b[:nr, :nc]
        o[r:r + nr, c:c + nc] = b
        if mirror:
            o[c:c + nc, r:r + nr] = _swap_pair(b)


def _swap_pair(b):
    """The kernel of (x2, x1) from that of (x1, x2): swap each pair of axes.

    Outputs are flat or in the full spatial layout (diagonal mode never leaves the network).
    """
    perm = [1, 0] + [a + d for a in range(2, b.ndim, 2) for d in (1, 0)]
    return b.transpose(perm)


def as_network(obj) -> Layer:
    """Unwrap a Network (or accept a Layer) for combinators."""
    return obj.layer if isinstance(obj, Network) else obj
