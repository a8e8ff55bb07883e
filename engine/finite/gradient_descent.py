"""Full-batch gradient descent for many networks at once: M members, any number of steps.

Each member is one network of the same architecture with its own parameters. A step is

    theta <- theta - learning_rate * grad L(theta),   L = 0.5 * mean over all outputs (f - y)^2

so dL/df = (f - y) / |Y| (|Y| = number of training outputs), the convention of design.md §2.

``advance`` takes a number of steps given as an array (a ``fori_loop``), so one compiled
function serves every chunk length, learning rate and step count recorded: it is jitted at
module level and compiled once per (architecture, shapes). ``outputs`` evaluates the members
where a step count is recorded. Members go one at a time (``lax.map``) because on a CPU that
keeps a member's weights in cache for the whole chunk and its matrix products unbatched;
stepping all members together (``vmap``) turns them into batched products that XLA's CPU
backend runs several times slower. XLA runs such small products on one core, so on a CPU the
members are split into one group per core, each group launched from its own thread
(``member_groups``); an accelerator gets them in one group.

``descend`` trains in chunks and hands each finished chunk's recorded outputs to
``on_chunk``: the first chunk is short (the first recorded steps arrive at once), later ones
grow to about ``CHUNK_SECONDS[1]`` of work each, measured as training goes, so a stop request
(asked before each chunk) takes effect within about that time. The chunking does not change
the arithmetic: every step is the same compiled step whatever chunk it falls in.
"""
from __future__ import annotations

import functools
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from engine.layers.layer import Shape
from engine.progress import Progress

#: seconds of work of the first chunk and the most any chunk gets (chunks double in between)
CHUNK_SECONDS = (0.15, 1.0)
#: steps of the first chunk at most, before any speed is measured
FIRST_CHUNK_STEPS = 16


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


def init_groups(layer, seeds: np.ndarray, x_train, y_train, x_test,
                compile_ahead: bool = True) -> list:
    """The parameters of one member per seed (``init_members``, in the dtype of ``x_train``)
    in the groups ``descend`` trains side by side (``member_groups``).

    Each group is initialised in a thread of its own while ``advance`` and ``outputs``
    compile for the groups' shapes in this one: XLA compiles a program on one core, so the
    first chunk (what a visitor waits for after a change) costs the slowest compile, not
    the sum. Groups made here need no slicing of stacked parameters (each slice shape is a
    small program to compile). ``compile_ahead=False``: only the initialisation (nothing
    will be trained).
    """
    dtype, dims = x_train.dtype, tuple(x_train.shape[1:])
    groups = [seeds[g] for g in member_groups(len(seeds))]
    with ThreadPoolExecutor(len(groups), thread_name_prefix="gd-init") as pool:
        parts = [pool.submit(init_members, layer, jnp.asarray(g), dims, dtype) for g in groups]
        step_size, none = np.zeros((), dtype), np.int32(0)
        for group in {len(g): g for g in groups}.values() if compile_ahead else ():
            shapes = jax.eval_shape(init_members, layer, group, dims, dtype)
            dummy = jax.tree_util.tree_map(lambda a: np.zeros(a.shape, a.dtype), shapes)
            dummy = advance(layer, dummy, x_train, y_train, step_size, none)
            jax.block_until_ready(outputs(layer, dummy, x_train, x_test))
        return [part.result() for part in parts]


@functools.partial(jax.jit, static_argnums=(0,), donate_argnums=(1,))
def advance(layer, params, x_train, y_train, learning_rate, steps):
    """Every member after ``steps`` (a traced whole number) more gradient-descent steps."""
    size = y_train.size

    def member(theta):
        def step(_, theta):
            f, pullback = jax.vjp(lambda p: layer.apply(p, x_train), theta)
            (grad,) = pullback((f - y_train) / size)
            return jax.tree_util.tree_map(lambda w, g: w - learning_rate * g, theta, grad)
        return jax.lax.fori_loop(0, steps, step, theta)

    return jax.lax.map(member, params)


@functools.partial(jax.jit, static_argnums=(0,))
def outputs(layer, params, x_train, x_test):
    """(train outputs (M, n, k), test outputs (M, m, k)) of every member."""
    return jax.lax.map(lambda p: (layer.apply(p, x_train), layer.apply(p, x_test)), params)


def member_groups(members: int) -> list[np.ndarray]:
    """Member indices in groups trained side by side: one group per CPU core on a CPU
    backend (sizes differ by at most one, so at most two compiled shapes), one group on an
    accelerator, which parallelises within a computation."""
    if jax.default_backend() != "cpu":
        return [np.arange(members)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return np.array_split(np.arange(members), min(members, cores or 1))


def chunk_end(start: int, steps: np.ndarray, rate: float | None, seconds: float) -> int:
    """Where the chunk from step ``start`` ends: about ``seconds`` of work at ``rate`` steps
    per second (FIRST_CHUNK_STEPS before any rate is known), then back to the last recorded
    step inside it, if any, so its outputs are delivered with the chunk."""
    length = FIRST_CHUNK_STEPS if rate is None else max(1, int(rate * seconds))
    end = min(start + length, int(steps[-1]))
    inside = steps[(steps > start) & (steps <= end)]
    return int(inside[-1]) if len(inside) else end


class _Record:
    """Outputs at the recorded steps, filled in order; ``view(r)`` is the first r (a prefix
    that later chunks never change)."""

    def __init__(self, members: int, recorded: int, n_train: int, n_test: int, outputs, dtype):
        self.train = np.zeros((members, recorded, n_train) + outputs, dtype)
        self.test = np.zeros((members, recorded, n_test) + outputs, dtype)
        self.count = 0

    def add(self, f_train: np.ndarray, f_test: np.ndarray) -> None:
        self.train[:, self.count], self.test[:, self.count] = f_train, f_test
        self.count += 1

    def view(self, count: int | None = None):
        count = self.count if count is None else count
        return self.train[:, :count], self.test[:, :count]


def descend(layer, parts: list, x_train, y_train, x_test, learning_rate: float,
            steps: np.ndarray, progress: Progress, on_chunk: Callable | None = None):
    """Train the member groups ``parts`` (``init_groups``) to ``steps[-1]``, keeping outputs
    at ``steps``.

    Returns (params at the last step reached, train outputs (M, R, n, k), test outputs
    (M, R, m, k), R = number of recorded steps reached, stopped). After each chunk that
    recorded steps, ``on_chunk(train outputs so far, test outputs so far)``: prefixes of the
    final ones. When stopped (asked before each chunk) the parameters are those at the end of
    the last finished chunk.
    """
    members = sum(len(jax.tree_util.tree_leaves(part)[0]) for part in parts)
    record = _Record(members, len(steps), len(x_train), len(x_test), y_train.shape[1:],
                     x_train.dtype)
    step_size = np.asarray(learning_rate, x_train.dtype)  # on the host: no program to compile
    last, position, speed, seconds = int(steps[-1]), 0, None, CHUNK_SECONDS[0]
    with ThreadPoolExecutor(len(parts), thread_name_prefix="gd-members") as pool:
        def each(function):
            return list(pool.map(function, parts))

        while position < last or record.count < len(steps):
            if progress.stop_requested():
                break
            start, shown, began = position, record.count, time.perf_counter()
            end = chunk_end(position, steps, speed, seconds)
            for target in [*steps[(steps >= position) & (steps <= end)], end]:
                if target > position:
                    count = np.int32(target - position)
                    parts = each(lambda p: advance(layer, p, x_train, y_train, step_size, count))
                    position = int(target)
                if record.count < len(steps) and steps[record.count] == position:
                    done = each(lambda p: outputs(layer, p, x_train, x_test))
                    record.add(*(np.concatenate([np.asarray(d[i]) for d in done])
                                 for i in (0, 1)))
            if end > start:  # compile and recording included: an underestimate at first
                speed = (end - start) / max(time.perf_counter() - began, 1e-6)
            seconds = min(2 * seconds, CHUNK_SECONDS[1])
            if on_chunk is not None and record.count > shown:
                on_chunk(*record.view())
            progress.report(position / last if last else 1.0)
    params = _stacked(parts)
    stopped = record.count < len(steps)
    return (params, *record.view(), stopped)


def train_seeds(layer, seeds, x_train, y_train, learning_rate: float, steps: int):
    """(initial, trained) stacked parameters of one network per seed after ``steps`` GD steps.

    Float64 when x64 is on. For comparisons before and after training (NTK motion).
    """
    dtype = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    x, y = jnp.asarray(x_train, dtype), jnp.asarray(y_train, dtype)
    parts = init_groups(layer, np.asarray(seeds), x, y, x, compile_ahead=steps > 0)
    if steps == 0:
        initial = _stacked(parts)
        return initial, initial
    # a copy: descend donates the groups' buffers (one group's concatenation is itself)
    initial = jax.tree_util.tree_map(jnp.copy, _stacked(parts))
    trained, *_ = descend(layer, parts, x, y, x, learning_rate, np.array([steps]), Progress())
    return initial, trained


def _stacked(parts: list):
    """The member groups' parameters as one stack (members in order)."""
    return jax.tree_util.tree_map(lambda *a: jnp.concatenate(a), *parts)


def member(stacked, i: int):
    """The parameters of member ``i`` of stacked parameters."""
    return jax.tree_util.tree_map(lambda a: a[i], stacked)
