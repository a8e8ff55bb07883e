"""engine.batch: a kernel function computed in tiles, with progress and cancel.

    kernel_fn = engine.batch(kernel_fn, batch_size=64, store_on_device=False,
                             progress=lambda fraction: ...)
    k = kernel_fn(x1, x2, get=("nngp", "ntk"))

neural-tangents' signature plus ``progress``, ``executor`` and ``out``. The kernel of x1
(N1 rows) against x2 (N2 rows) is assembled from blocks of ``batch_size`` x ``batch_size``
inputs; each block is one call of the (compiled, pure) kernel function, so peak memory is one
block's intermediates plus the output. Unlike neural-tangents, N1 and N2 need not be
multiples of ``batch_size`` (the last block is padded with copies of a valid row and the
padding dropped), and ``batch_size=None`` picks blocks whose outputs hold about TILE_BYTES
each (engine networks). With x2=None only blocks on and above the diagonal are computed; the
others are their mirror images. ``progress(fraction)`` is called after each block; an
exception raised from it stops the computation: no further block is submitted, blocks not
yet started are cancelled (that is how a caller cancels).

Where the blocks run:
- ``device_count=-1`` (default): every local JAX device, one block per device at a time
  (``jax.default_device``; one device: the blocks run in order in this thread); ``0`` or
  ``1``: the default device only; ``n``: the first n devices.
- ``executor=``: any ``concurrent.futures.Executor`` (a thread or process pool, a Dask
  ``client.get_executor()``, ...). Each block is one task returning NumPy arrays; the engine
  imports nothing of the executor's library. Tasks in other processes need the kernel
  function to pickle (engine networks do with cloudpickle, as Dask uses).
- ``out=``: a directory; the results are written to ``<out>/nngp.npy`` / ``ntk.npy``
  (NumPy memmaps, returned as such) instead of host memory. Without it, results larger than
  MEMMAP_BYTES go to memmaps in a temporary directory (store_on_device=False only).

``store_on_device=False`` assembles NumPy arrays in host memory; ``True`` returns jax.Arrays.

Keywords given as pairs of per-input arrays (Aggregate's ``pattern=(pattern1, pattern2)``)
are cut with the rows of x1 and x2 (engine.batch_keywords); with x2=None the mirror images
are used only when both entries are equal. Other keywords go to every block whole.
"""
from __future__ import annotations

import collections
import functools
import concurrent.futures
import math
import os
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

from . import batch_keywords, checks
from .kernel import Kernel
from .kernel_fn import KernelFn, check_get, check_input

#: bytes of one output array of one block when batch_size=None
TILE_BYTES = 256 * 2 ** 20
#: outputs larger than this (all arrays together) go to memmaps when not kept on device
MEMMAP_BYTES = 4 * 2 ** 30


def batch(kernel_fn, batch_size=0, device_count=-1, store_on_device=True, progress=None,
          executor=None, out=None):
    """``kernel_fn`` computed in blocks of ``batch_size`` inputs (0: in one call).

    Args:
      kernel_fn: ``kernel_fn(x1, x2=None, get=None, **kwargs)``, e.g. a network's.
      batch_size: inputs per block along each axis; 0 = no blocks; None = automatic
        (engine networks: outputs of about TILE_BYTES per block).
      device_count: local JAX devices the blocks run on: -1 all, 0 or 1 the default one,
        n the first n.
      store_on_device: True returns jax.Arrays, False NumPy arrays in host memory.
      progress: ``progress(fraction_done)`` after each block; raise from it to stop.
      executor: a ``concurrent.futures.Executor`` that runs the blocks (None: this process).
      out: a directory for the results as NumPy memmaps ``<name>.npy`` (needs
        store_on_device=False).
    """
    if batch_size is not None and (isinstance(batch_size, bool) or
                                   not isinstance(batch_size, (int, np.integer)) or
                                   batch_size < 0):
        raise checks.fail("batch", "batch_size", repr(batch_size),
                          "a non-negative integer or None")
    if isinstance(device_count, bool) or not isinstance(device_count, (int, np.integer)) \
            or device_count < -1:
        raise checks.fail("batch", "device_count", repr(device_count),
                          "-1 (all local devices) or a non-negative integer")
    if executor is not None and not isinstance(executor, concurrent.futures.Executor):
        raise checks.fail("batch", "executor", repr(executor), "a concurrent.futures.Executor "
                          "(e.g. a Dask client.get_executor())")
    if out is not None and store_on_device:
        raise ValueError(f"batch(out={out!r}): memmapped results live on the host; pass "
                         "store_on_device=False")
    report = progress or (lambda fraction: None)

    def batched(x1, x2=None, get=None, **kwargs):
        """``get`` is the third positional argument of ``kernel_fn``: names for an analytic
        kernel_fn, anything else (e.g. the ``params`` of an empirical kernel fn) is passed on
        to every block as it is, as neural-tangents' batch does."""
        if isinstance(x1, Kernel):
            return kernel_fn(x1, x2, get, **kwargs)
        axis = kernel_fn.batch_axis(np.ndim(x1)) if isinstance(kernel_fn, KernelFn) else 0
        if axis != 0:
            raise ValueError(f"batch: the network takes the batch on axis {axis} of its "
                             "inputs; blocks are cut "
                             "along axis 0, so move the batch there (batch_axis=0) to batch "
                             "its kernel")
        size = _block_size(kernel_fn, batch_size, x1)
        n1, n2 = len(x1), len(x1 if x2 is None else x2)
        if size == 0 or (n1 <= size and n2 <= size):
            size = max(n1, n2)
        if out is None and executor is None and size >= max(n1, n2):
            result = kernel_fn(x1, x2, get, **kwargs)
            report(1.0)
            return _stored(result, store_on_device)
        if _names(get):
            check_get(get)
        pairs, whole = batch_keywords.split(kwargs, n1, n2)
        runner = _Runner(kernel_fn, get, whole, executor, _devices(device_count))
        return _tiled(runner, x1, x2, get, size, report, store_on_device, out, pairs)

    return batched


def _devices(device_count) -> list:
    devices = jax.local_devices()
    if device_count in (0, 1):
        return devices[:1]
    return devices if device_count == -1 else devices[:device_count]


#: a block's name for the single array an empirical kernel fn returns
ARRAY = "array"


def _names(get) -> bool:
    """Whether kernel_fn's third positional argument is ``get`` (None, a name or names)
    rather than an argument to pass on (the params of an empirical kernel fn)."""
    return get is None or isinstance(get, str) or (
        isinstance(get, (tuple, list)) and len(get) > 0 and all(isinstance(g, str) for g in get))


def _block_size(kernel_fn, batch_size, x1) -> int:
    if batch_size is not None:
        return int(batch_size)
    if not isinstance(kernel_fn, KernelFn):
        return 0
    out = kernel_fn.output_shape(kernel_fn.canonical_dims(np.shape(x1)))
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
    if isinstance(x, np.ndarray):
        return np.concatenate([x, np.broadcast_to(x[:1], (n - len(x),) + x.shape[1:])])
    return jnp.concatenate([x, jnp.broadcast_to(x[:1], (n - len(x),) + tuple(x.shape[1:]))])


def compute_block(kernel_fn, a, b, get, kwargs, x64: bool) -> dict:
    """One block as plain NumPy arrays: {name: array}, plus the Kernel's covariances and
    static fields when ``get`` is None. Runs wherever the executor puts it; ``x64`` turns on
    JAX's float64 there (a Dask worker's process) when the caller has it on."""
    if x64 and not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)
    k = kernel_fn(a, b, get, **kwargs)
    if isinstance(get, str):
        return {get: np.asarray(k)}
    if isinstance(k, (np.ndarray, jax.Array)):  # one array, e.g. an empirical kernel fn's
        return {ARRAY: np.asarray(k)}
    if isinstance(k, Kernel):
        masks = {} if k.mask1 is None else {"mask1": np.asarray(k.mask1),
                                            "mask2": np.asarray(k.mask2)}
        return {"nngp": np.asarray(k.nngp), "ntk": np.asarray(k.ntk),
                "cov1": np.asarray(k.cov1), "cov2": np.asarray(k.cov2), **masks,
                "static": (k.channels, k.spatial, k.diagonal, k.is_gaussian)}
    return {n: np.asarray(v) for n, v in zip(k._fields, k)}


def _block_on(device, kernel_fn, a, b, get, kwargs, x64):
    with jax.default_device(device):
        return compute_block(kernel_fn, a, b, get, kwargs, x64)


class _Runner:
    """Maps blocks to an executor, to the local devices (a thread each) or runs them inline.

    A task is (rows, columns, keywords), three functions making a block's arguments; the
    block's keywords are added to the ones every block gets (``kwargs``).
    """

    def __init__(self, kernel_fn, get, kwargs, executor, devices):
        self.kernel_fn, self.get, self.kwargs = kernel_fn, get, kwargs
        self.executor, self.devices = executor, devices

    def run(self, tasks, x64: bool):
        """Yield (index, block) as blocks finish; closing the generator cancels the rest."""
        if self.executor is None and len(self.devices) <= 1:
            for i, (a, b, kw) in enumerate(tasks):
                yield i, compute_block(self.kernel_fn, a(), b(), self.get,
                                       {**self.kwargs, **kw()}, x64)
            return
        own = self.executor is None
        pool = (concurrent.futures.ThreadPoolExecutor(len(self.devices)) if own
                else self.executor)
        workers = len(self.devices) if own else max(2, getattr(pool, "_max_workers", 0) or 2)
        pending, todo = {}, iter(enumerate(tasks))

        def submit():
            item = next(todo, None)
            if item is None:
                return False
            i, (a, b, kw) = item
            kwargs = {**self.kwargs, **kw()}
            if own:
                device = self.devices[i % len(self.devices)]
                future = pool.submit(_block_on, device, self.kernel_fn, a(), b(), self.get,
                                     kwargs, x64)
            else:
                future = pool.submit(compute_block, self.kernel_fn, a(), b(), self.get,
                                     kwargs, x64)
            pending[future] = i
            return True

        try:
            while len(pending) < 2 * workers and submit():
                pass
            while pending:
                done, _ = concurrent.futures.wait(pending, return_when="FIRST_COMPLETED")
                for future in done:
                    i = pending.pop(future)
                    yield i, future.result()
                    submit()
        finally:
            for future in pending:
                future.cancel()
            if own:
                pool.shutdown(wait=True, cancel_futures=True)


def _tiled(runner, x1, x2, get, size, report, on_device, out_dir, pairs):
    same = x2 is None
    mirror = same and batch_keywords.identical(pairs)
    if not same and np.shape(x2)[1:] != np.shape(x1)[1:]:
        check_input("x2", x2)  # the unbatched call's message
        raise ValueError(f"kernel_fn(x2): x2 has shape {np.shape(x2)} but x1 has "
                         f"{np.shape(x1)}; they must agree after the batch axis")
    x1 = x1 if hasattr(x1, "shape") else np.asarray(x1)
    xb = x1 if same else (x2 if hasattr(x2, "shape") else np.asarray(x2))
    # a worker computes float64 blocks where this process would (float64 inputs with JAX's
    # x64 on); a float32 program stays float32, as its unbatched kernel_fn
    x64 = jax.config.jax_enable_x64 and np.float64 in (np.dtype(x1.dtype), np.dtype(xb.dtype))
    starts1 = range(0, len(x1), size)
    starts2 = starts1 if same else range(0, len(xb), size)
    blocks_at = [(i, j) for i in starts1 for j in starts2 if not (mirror and j < i)]
    tasks = [(lambda i=i: _pad_rows(x1[i:i + size], size),
              lambda j=j: _pad_rows(xb[j:j + size], size),
              lambda i=i, j=j: batch_keywords.block(pairs, i, j, size, _pad_rows))
             for i, j in blocks_at]
    out = covs = static = None
    blocks_run = runner.run(tasks, x64)
    try:
        for done, (index, blocks) in enumerate(blocks_run, 1):
            i, j = blocks_at[index]
            nr, nc = min(size, len(x1) - i), min(size, len(xb) - j)
            if out is None:
                static = blocks.get("static")
                names = [n for n in blocks if n in ("nngp", "ntk", ARRAY)]
                out = _buffers({n: blocks[n] for n in names}, len(x1), len(xb), on_device,
                               out_dir)
                covs = None if static is None else _cov_buffers(blocks, len(x1), len(xb), same)
            _place(out, {n: blocks[n] for n in out}, i, j, nr, nc, mirror and i != j)
            _place_covs(covs, blocks, i, j, nr, nc, same)
            report(done / len(blocks_at))
    finally:
        blocks_run.close()
    for array in out.values():
        if isinstance(array, np.memmap):
            array.flush()
    x1_is_x2 = same or (np.shape(x1) == np.shape(xb) and bool(np.all(x1 == xb)))
    return _assemble(out, covs, static, get, on_device, x1_is_x2)


def _buffers(blocks: dict, n1, n2, on_device, out_dir) -> dict:
    """Host arrays for the outputs, or memmaps in ``out_dir`` (or a temporary one if large)."""
    shapes = {n: (n1, n2) + b.shape[2:] for n, b in blocks.items()}
    total = sum(math.prod(s) * blocks[n].dtype.itemsize for n, s in shapes.items())
    if out_dir is None and (on_device or total <= MEMMAP_BYTES):
        return {n: np.empty(s, blocks[n].dtype) for n, s in shapes.items()}
    out_dir = out_dir if out_dir is not None else tempfile.mkdtemp(prefix="engine-batch-")
    os.makedirs(out_dir, exist_ok=True)
    return {n: np.lib.format.open_memmap(os.path.join(os.fspath(out_dir), f"{n}.npy"),
                                         mode="w+", dtype=blocks[n].dtype, shape=s)
            for n, s in shapes.items()}


#: a Kernel's arrays with one entry per input: of x1 (the rows), of x2 (the columns)
PER_INPUT = (("cov1", "cov2"), ("mask1", "mask2"))


def _cov_buffers(blocks, n1, n2, same):
    out = {}
    for first, second in PER_INPUT:
        if first in blocks:
            a = np.empty((n1,) + blocks[first].shape[1:], blocks[first].dtype)
            out[first] = a
            out[second] = a if same else np.empty((n2,) + blocks[second].shape[1:],
                                                  blocks[second].dtype)
    return out


def _place_covs(covs, blocks, i, j, nr, nc, same):
    """cov1 (mask1) from the block's rows; cov2 (mask2) from its columns unless x2 is x1
    (then they are cov1's, as in the unbatched kernel_fn, whatever keywords the columns
    had)."""
    if covs is None:
        return
    for first, second in PER_INPUT:
        if first in covs:
            covs[first][i:i + nr] = blocks[first][:nr]
            if not same:
                covs[second][j:j + nc] = blocks[second][:nc]


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


@functools.lru_cache(maxsize=None)
def _kernels_type(names: tuple) -> type:
    """One named tuple class per set of names: results of two calls are the same pytree
    (a class made per call made jax.tree_util.tree_map refuse to add two results)."""
    return collections.namedtuple("Kernels", names)


def _assemble(out, covs, static, get, on_device, x1_is_x2: bool):
    convert = jnp.asarray if on_device else (lambda a: a)
    if isinstance(get, str):
        return convert(out[get])
    if ARRAY in out:
        return convert(out[ARRAY])
    if static is None:
        names = tuple(out)
        return _kernels_type(names)(*(convert(out[n]) for n in names))
    channels, spatial, diagonal, is_gaussian = static
    return Kernel(**{n: convert(a) for n, a in {**out, **covs}.items()}, channels=channels,
                  spatial=spatial, diagonal=diagonal, is_gaussian=is_gaussian,
                  x1_is_x2=convert(np.asarray(x1_is_x2)))


def host_kernel_fn(network, progress=None):
    """A network's kernel_fn in automatic blocks with NumPy results (the engine's own sweeps)."""
    kernel_fn = network[2] if isinstance(network, tuple) else network
    return batch(kernel_fn, None, store_on_device=False, progress=progress)
