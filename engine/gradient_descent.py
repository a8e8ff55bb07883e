"""Full-batch gradient descent for many networks at once: M members, T steps, one compile.

Each member is one network of the same architecture with its own parameters. A step is

    theta <- theta - learning_rate * grad L(theta),   L = 0.5 * mean over all outputs (f - y)^2

so dL/df = (f - y) / |Y| (|Y| = number of training outputs), the convention of design.md §2.

Steps run in chunks of ``chunk`` steps (a ``lax.scan``) for one member after the other
(``lax.map``): the chunk function is jitted at module level and compiled once per
(architecture, shapes, chunk), whatever the learning rate or the step counts recorded.
Between chunks the driver reports progress and may stop. Members go one at a time because
on a CPU that keeps a member's weights in cache for the whole chunk and its matrix products
unbatched; stepping all members together (``vmap``) turns them into batched products that
XLA's CPU backend runs several times slower. XLA runs such small products on one core, so
on a CPU the members are split into one group per core, each group's chunk launched from
its own thread (``member_groups``); an accelerator gets them in one group.
"""
from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import jax
import jax.numpy as jnp
import numpy as np

from engine.layers.layer import Shape
from engine.progress import Progress

#: bytes the per-step outputs of one chunk may take on the device
CHUNK_BYTES = 64 * 2 ** 20


@functools.partial(jax.jit, static_argnums=(0, 2, 3))
def init_members(layer, seeds, input_dims: tuple, dtype) -> object:
    """Stacked parameters, member i initialised from ``PRNGKey(seeds[i])``.

    One member after the other (``lax.map``): it compiles faster than a ``vmap`` of the
    random number generation, and initialisation is a small part of a run.
    """
    def one(seed):
        params = layer.init(jax.random.PRNGKey(seed), Shape(input_dims))
        return jax.tree_util.tree_map(lambda a: a.astype(dtype), params)
    return jax.lax.map(one, seeds)


@functools.partial(jax.jit, static_argnums=(0,), donate_argnums=(1,))
def run_chunk(layer, params, x_train, y_train, x_test, step_sizes, record):
    """One chunk of steps for every member.

    ``step_sizes`` (C,): the learning rate of each step (0 past the last step, so the
    parameters stop exactly there). ``record`` (C,): whether to evaluate the test inputs.
    Returns (params after the chunk, train outputs (M, C, n, k) before each step, test
    outputs (M, C, m, k) where recorded and 0 elsewhere).
    """
    size = y_train.size

    def member(theta):
        def step(theta, inputs):
            step_size, evaluate = inputs
            f, pullback = jax.vjp(lambda p: layer.apply(p, x_train), theta)
            (grad,) = pullback((f - y_train) / size)
            f_test = jax.lax.cond(evaluate, lambda: layer.apply(theta, x_test),
                                  lambda: jnp.zeros((x_test.shape[0],) + f.shape[1:], f.dtype))
            theta = jax.tree_util.tree_map(lambda w, g: w - step_size * g, theta, grad)
            return theta, (f, f_test)
        return jax.lax.scan(step, theta, (step_sizes, record))

    params, (f_train, f_test) = jax.lax.map(member, params)
    return params, f_train, f_test


def chunk_length(last_step: int, members: int, outputs_per_step: int, itemsize: int) -> int:
    """A power of two giving about 16 chunks (for progress), capped by CHUNK_BYTES.

    Powers of two keep the number of distinct compiled chunk functions small.
    """
    target = max(1, (last_step + 1) // 16)
    cap = max(1, CHUNK_BYTES // max(1, members * outputs_per_step * itemsize))
    return 2 ** int(np.log2(max(1, min(target, cap, 1024))))


def member_groups(members: int) -> list[np.ndarray]:
    """Member indices in groups trained side by side: one group per CPU core on a CPU
    backend (sizes differ by at most one, so at most two compiled shapes), one group on an
    accelerator, which parallelises within a computation."""
    if jax.default_backend() != "cpu":
        return [np.arange(members)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return np.array_split(np.arange(members), min(members, cores or 1))


def descend(layer, params, x_train, y_train, x_test, learning_rate: float, steps: np.ndarray,
            chunk: int, progress: Progress):
    """Train to ``steps[-1]``, keeping outputs at ``steps``.

    Returns (params at the last step reached, train outputs (M, R, n, k), test outputs
    (M, R, m, k), R = number of recorded steps reached, stopped). When stopped between
    chunks the parameters are those at the end of the last finished chunk.
    """
    last = int(steps[-1])
    n_chunks = -(-(last + 1) // chunk)
    members, outputs = len(jax.tree_util.tree_leaves(params)[0]), y_train.shape[1:]
    groups = member_groups(members)
    parts = [jax.tree_util.tree_map(lambda a, g=g: a[g], params) for g in groups]
    train, test, stopped = [], [], False
    with ThreadPoolExecutor(len(groups), thread_name_prefix="gd-members") as pool:
        for c in range(n_chunks):
            if progress.stop_requested():
                stopped = True
                break
            start = c * chunk
            position = np.arange(start, start + chunk)
            kept = steps[(steps >= start) & (steps < start + chunk)] - start
            record = jnp.asarray(np.isin(np.arange(chunk), kept))
            step_sizes = jnp.asarray(np.where(position < last, learning_rate, 0.0),
                                     x_train.dtype)

            def one(part):
                new, f_train, f_test = run_chunk(layer, part, x_train, y_train, x_test,
                                                 step_sizes, record)
                return new, np.asarray(f_train[:, kept]), np.asarray(f_test[:, kept])
            done = list(pool.map(one, parts))
            parts = [new for new, _, _ in done]
            train.append(np.concatenate([f for _, f, _ in done]))
            test.append(np.concatenate([f for _, _, f in done]))
            progress.report((c + 1) / n_chunks)
    params = jax.tree_util.tree_map(lambda *a: jnp.concatenate(a), *parts)
    return (params, _stack(train, (members, 0, len(x_train)) + outputs, x_train.dtype),
            _stack(test, (members, 0, len(x_test)) + outputs, x_train.dtype), stopped)


def _stack(pieces, empty_shape, dtype):
    return np.concatenate(pieces, axis=1) if pieces else np.zeros(empty_shape, dtype)


def train_seeds(layer, seeds, x_train, y_train, learning_rate: float, steps: int):
    """(initial, trained) stacked parameters of one network per seed after ``steps`` GD steps.

    Float64 when x64 is on. For comparisons before and after training (NTK motion).
    """
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    params = init_members(layer, jnp.asarray(seeds), tuple(x_train.shape[1:]), dtype)
    if steps == 0:
        return params, params
    initial = jax.tree_util.tree_map(jnp.copy, params)
    x, y = jnp.asarray(x_train, dtype), jnp.asarray(y_train, dtype)
    chunk = chunk_length(steps, len(seeds), 2 * y.size, jnp.dtype(dtype).itemsize)
    trained, *_ = descend(layer, params, x, y, x, learning_rate, np.array([steps]), chunk,
                          Progress())
    return initial, trained


def member(stacked, i: int):
    """The parameters of member ``i`` of stacked parameters."""
    return jax.tree_util.tree_map(lambda a: a[i], stacked)
