"""What runs inside a Dask worker: the preload, the warm-up and ``run_task``, the wrapper
around every job's computation (app/jobs/dask_cluster.py submits it; the server side is there).

Run Dask workers elsewhere with ``dask worker tcp://HOST:8786 --nthreads 1 --preload
app.jobs.dask_worker`` (the preload sets float64 JAX before any task, as app/main.py does).
"""
from __future__ import annotations

import os
import sys
import time

import cloudpickle

from .service import Cancelled

#: seconds between two progress messages of a worker (partial results are always sent)
PROGRESS_INTERVAL = 0.2
#: worker-side task states in which nobody wants the result any more
_STOPPED = {"cancelled", "released", "forgotten"}


def _enable_x64() -> None:
    """Float64 JAX in this worker, as app/main.py has it: read by JAX when it is imported (by
    a task's functions, as they are unpickled), and set on it if it is there already."""
    os.environ["JAX_ENABLE_X64"] = "1"
    if "jax" in sys.modules:
        sys.modules["jax"].config.update("jax_enable_x64", True)


def dask_setup(worker) -> None:
    """Worker preload (``--preload app.jobs.dask_worker``): float64 JAX before any task
    arrives; an embedded worker also yields the cores to its server (``worker_niceness``)."""
    _enable_x64()
    if os.environ.get("IWE_EMBEDDED_WORKER") == "1":
        os.nice(worker_niceness())


def worker_niceness(environ=None) -> int:
    """How much an embedded worker process yields the machine's cores (``IWE_WORKER_NICE``,
    Unix niceness 0-19, default 10): the server's event loop and threads, which answer
    every page's slider, run first, and the long jobs take what is left. A cluster of its
    own machines (``--scheduler``) is the operator's to set."""
    environ = os.environ if environ is None else environ
    text = environ.get("IWE_WORKER_NICE", "10")
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"IWE_WORKER_NICE must be an integer from 0 to 19, got {text!r}") from None
    if not 0 <= value <= 19:
        raise ValueError(f"IWE_WORKER_NICE must be an integer from 0 to 19, got {value}")
    return value


def dask_teardown(worker) -> None:
    """An embedded worker ends at once when its cluster closes (the server stops): nothing
    of it is kept, and a worker inside a compiled computation would hold the server's exit
    for seconds before its nanny kills it."""
    if os.environ.get("IWE_EMBEDDED_WORKER") == "1":
        os._exit(0)


def warm_up() -> str:
    """Import what the jobs run (JAX, the engine, the app's job modules) in a fresh worker,
    so that the first job does not wait for it."""
    _enable_x64()
    import engine  # noqa: F401

    from . import convergence, finite_jobs, image_jobs  # noqa: F401
    return os.environ.get("JAX_ENABLE_X64", "")


def run_task(payload: bytes, queue_name: str):
    """A job in a Dask worker: ``compute(report, should_stop)`` with progress over a queue."""
    from distributed import Queue, get_client, get_worker

    _enable_x64()
    worker = get_worker()
    key = worker.get_current_task()
    queue = Queue(queue_name, client=get_client())
    last = [0.0]

    def should_stop() -> bool:
        state = worker.state.tasks.get(key)
        return state is None or state.state in _STOPPED

    def report(fraction: float, partial: object = None) -> None:
        if should_stop():
            raise Cancelled()
        now = time.monotonic()
        if partial is None and fraction < 1.0 and now - last[0] < PROGRESS_INTERVAL:
            return
        last[0] = now
        queue.put(["progress", float(fraction),
                   None if partial is None else cloudpickle.dumps(partial)])

    try:
        queue.put(["start", worker.address])
        compute = cloudpickle.loads(payload)
        _enable_x64()  # JAX may have come with the computation's modules
        return compute(report, should_stop)
    finally:
        queue.close()  # this worker's hold on it; the server's lasts until it has read all
        if "engine" in sys.modules:  # a worker that has compiled thousands of programs
            sys.modules["engine"].release_if_crowded()
