"""engine.batch: a kernel function computed in tiles, with progress and cancel.

    kernel_fn = engine.batch(kernel_fn, batch_size=64, store_on_device=False,
                             progress=lambda fraction: ...)
    k = kernel_fn(x1, x2, get=("nngp", "ntk"))

neural-tangents' signature plus ``progress``. The kernel of x1 (N1 rows) against x2 (N2
rows) is assembled from blocks of ``batch_size`` x ``batch_size`` inputs; each block is one
call of the (compiled, pure) kernel function, so peak memory is one block's intermediates
plus the output. Unlike neural-tangents, N1 and N2 need not be multiples of ``batch_size``
(the last block is padded with copies of a valid row and the padding dropped), and
``batch_size=None`` picks blocks whose outputs hold about TILE_BYTES each (engine networks).
With x2=None only blocks on and above the diagonal are computed; the others are their
mirror images. ``progress(fraction)`` is called after each block; an exception raised from
it stops the computation (that is how a caller cancels). ``store_on_device=False`` assembles
NumPy arrays in host memory; ``True`` returns jax.Arrays. ``device_count`` is accepted for
compatibility; blocks run on the default device.
"""
from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from .kernel import Kernel
from .kernel_fn import KernelFn, check_get, check_input

#: bytes of one output array of one block when batch_size=None
TILE_BYTES = 256 * 2 ** 20


def batch(kernel_fn, batch_size=0, device_count=-1, store_on_device=True, progress=None):
    """``kernel_fn`` computed in blocks of ``batch_size`` inputs (0: in one call).

    Args:
      kernel_fn: ``kernel_fn(x1, x2=None, get=None, **kwargs)``, e.g. a network's.
      batch_size: inputs per block along each axis; 0 = no blocks; None = automatic
        (engine networks: outputs of about TILE_BYTES per block).
      device_count: accepted for neural-tangents compatibility; ignored.
      store_on_device: True returns jax.Arrays, False NumPy arrays in host memory.
      progress: ``progress(fraction_done)`` after each block; raise from it to stop.
    """
    if batch_size is not None and (isinstance(batch_size, bool) or
                                   not isinstance(batch_size, (int, np.integer)) or
                                   batch_size < 0):
        raise ValueError(f"batch(batch_size={batch_size!r}): batch_size must be a "
                         "non-negative integer or None")
    report = progress or (lambda fraction: None)

    def batched(x1, x2=None, get=None, **kwargs):
        if isinstance(x1, Kernel):
            return kernel_fn(x1, x2, get, **kwargs)
        size = _block_size(kernel_fn, batch_size, x1)
        n1, n2 = len(x1), len(x1 if x2 is None else x2)
        if size == 0 or (n1 <= size and n2 <= size):
            out = kernel_fn(x1, x2, get, **kwargs)
            report(1.0)
            return _stored(out, store_on_device)
        check_get(get)
        return _tiled(kernel_fn, x1, x2, get, kwargs, size, report, store_on_device)

    return batched


def _block_size(kernel_fn, batch_size, x1) -> int:
    if batch_size is not None:
        return int(batch_size)
    if not isinstance(kernel_fn, KernelFn):
        return 0
    out = kernel_fn.output_shape(np.shape(x1)[1:])
    pairs = math.prod(out.dims[:-1]) ** 2
    return max(8, int(math.sqrt(TILE_BYTES / 8 / pairs)))


def _stored(out, on_device: bool):
    convert = jnp.asarray if on_device else np.asarray
    if isinstance(out, Kernel):
        return out.replace(**{n: convert(getattr(out, n)) for n in ("nngp", "ntk", "cov1", "cov2")})
    if isinstance(out, tuple):
        return type(out)(*(convert(a) for a in out))
    return convert(out)


def _pad_rows(x, n):
    """x with n rows: copies of its first row appended (valid inputs, results dropped)."""
    x = np.asarray(x) if not hasattr(x, "shape") else x
    if len(x) >= n:
        return x
    return jnp.concatenate([x, jnp.broadcast_to(x[:1], (n - len(x),) + tuple(x.shape[1:]))])


def _tiled(kernel_fn, x1, x2, get, kwargs, size, report, on_device):
    same = x2 is None
    if not same and np.shape(x2)[1:] != np.shape(x1)[1:]:
        check_input("x2", x2)  # the unbatched call's message
        raise ValueError(f"kernel_fn(x2): x2 has shape {np.shape(x2)} but x1 has "
                         f"{np.shape(x1)}; they must agree after the batch axis")
    xb = x1 if same else x2
    starts1 = range(0, len(x1), size)
    starts2 = starts1 if same else range(0, len(xb), size)
    pairs = [(i, j) for i in starts1 for j in starts2 if not (same and j < i)]
    out = covs = None
    for done, (i, j) in enumerate(pairs, 1):
        nr, nc = min(size, len(x1) - i), min(size, len(xb) - j)
        k = kernel_fn(_pad_rows(x1[i:i + size], size), _pad_rows(xb[j:j + size], size),
                      get, **kwargs)
        blocks = _arrays(k, get)
        if out is None:
            out = {n: np.empty((len(x1), len(xb)) + b.shape[2:], b.dtype)
                   for n, b in blocks.items()}
            covs = _cov_buffers(k, len(x1), len(xb), same)
        _place(out, blocks, i, j, nr, nc, same and i != j)
        _place_covs(covs, k, i, j, nr, nc)
        report(done / len(pairs))
    return _assemble(out, covs, k, get, same, on_device)


def _arrays(k, get) -> dict:
    if isinstance(get, str):
        return {get: np.asarray(k)}
    names = ("nngp", "ntk") if get is None else check_get(get)
    return {n: np.asarray(getattr(k, n)) for n in names}


def _cov_buffers(k, n1, n2, same):
    if not isinstance(k, Kernel):
        return None
    c1 = np.empty((n1,) + k.cov1.shape[1:], k.cov1.dtype)
    return {"cov1": c1, "cov2": c1 if same else np.empty((n2,) + k.cov2.shape[1:], k.cov2.dtype)}


def _place_covs(covs, k, i, j, nr, nc):
    if covs is None:
        return
    covs["cov1"][i:i + nr] = np.asarray(k.cov1)[:nr]
    covs["cov2"][j:j + nc] = np.asarray(k.cov2)[:nc]


def _place(out, blocks, r, c, nr, nc, mirror):
    for name, b in blocks.items():
        b = b[:nr, :nc]
        out[name][r:r + nr, c:c + nc] = b
        if mirror:
            out[name][c:c + nc, r:r + nr] = _swap_pair(b)


def _swap_pair(b):
    """The kernel of (x2, x1) from that of (x1, x2): swap each pair of axes.

    Outputs are flat or in the full spatial layout (diagonal mode never leaves the network).
    """
    perm = [1, 0] + [a + d for a in range(2, b.ndim, 2) for d in (1, 0)]
    return b.transpose(perm)


def _assemble(out, covs, last, get, same, on_device):
    convert = jnp.asarray if on_device else (lambda a: a)
    if isinstance(get, str):
        return convert(out[get])
    if get is not None:
        return type(last)(*(convert(out[n]) for n in check_get(get)))
    if not isinstance(last, Kernel):
        return type(last)(*(convert(out[n]) for n in last._fields))
    return last.replace(**{n: convert(a) for n, a in {**out, **covs}.items()})


def host_kernel_fn(network, progress=None):
    """A network's kernel_fn in automatic blocks with NumPy results (the engine's own sweeps)."""
    kernel_fn = network[2] if isinstance(network, tuple) else network
    return batch(kernel_fn, None, store_on_device=False, progress=progress)
