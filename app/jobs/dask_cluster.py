"""The HEAVY lane on Dask: an embedded LocalCluster of worker processes, or an existing cluster.

``start(option)`` (app/main.py, app/readiness.py; once per server process) gives the job
service's HEAVY lane a ``DaskRunner``. Without an option it starts a ``LocalCluster`` of
``IWE_WORKERS`` worker processes (default: one per core), one thread each, with a memory
limit each (``IWE_WORKER_MEMORY``, default Dask's share of the machine's memory), at a lower
priority than the server (``IWE_WORKER_NICE``, app/jobs/dask_worker.py); with
``--scheduler tcp://HOST:8786`` after ``--args`` (or ``IWE_SCHEDULER``) it connects to an
existing cluster instead; ``threads`` keeps the lane on threads of the server. The cluster
starts in a thread of its own: neither the event loop nor a session waits for it, and the
lane's jobs wait in its queue ("Queued: ...") until the first workers are there.

How a task travels: the server pickles the task's ``compute`` (a module-level function or a
``functools.partial`` of one, with plain arguments) and submits ``run_task`` under a Dask
key made from the job's hashable key, so identical requests share one Dask task, even from
two servers on one cluster. In the worker, ``report(fraction, partial=...)`` puts progress
and partial results (pickled) on a ``distributed.Queue`` named after the task, which the
server drains every ``POLL`` seconds into the job service's subscribers. A computation in
``Pieces`` sends each part as a task of its own, keyed by the part's key. Cancel:
the server releases the futures; the worker sees its task released in its own state (no round
trip) and the task's next ``report`` raises ``Cancelled``. A worker lost mid-task (killed,
over its memory limit): Dask runs the task again on another worker (up to its
``allowed-failures``), the subscribers are told; futures cancelled under a live job
(``client.restart()``) are submitted again, up to ``ATTEMPTS`` times.

What runs inside a worker (the preload, the warm-up, ``run_task``) is app/jobs/dask_worker.py.
"""
from __future__ import annotations

import argparse
import atexit
import hashlib
import logging
import os
import threading
import time
import traceback

import cloudpickle

from .dask_worker import run_task, warm_up, worker_niceness
from .service import HEAVY, SERVICE, Cancelled, LocalRunner

#: ``--scheduler``/``IWE_SCHEDULER`` value that keeps the HEAVY lane on the server's threads
THREADS = "threads"
#: seconds between two looks at a running task's progress queue and future
POLL = 0.1
#: seconds between two looks at the cluster's workers
WATCH_INTERVAL = 1.0
#: submissions of one job when its futures are cancelled under it (workers restarted)
ATTEMPTS = 3
#: seconds one call to the scheduler may take before the job fails (it is unreachable)
CALL_TIMEOUT = 10
#: seconds the server's exit waits for its running jobs to let go of the cluster
EXIT_WAIT = 3.0
#: the embedded cluster's Dask settings: no statistical profiler sampling every worker
#: thread each 10 ms and a system monitor at 2 s, not 0.5 s (nobody reads either: no Dask
#: dashboard is served). Idle, the embedded cluster took 9 % of a core, now 7 %.
EMBEDDED_CONFIG = {"distributed.worker.profile.enabled": False,
                   "distributed.admin.system-monitor.interval": "2s"}


def scheduler_option(argv: list[str] | None = None, environ=None) -> str | None:
    """``--scheduler ADDRESS`` from the app's arguments, else ``IWE_SCHEDULER``, else None."""
    environ = os.environ if environ is None else environ
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--scheduler", dest="scheduler")
    given, _ = parser.parse_known_args([] if argv is None else list(argv))
    value = given.scheduler or environ.get("IWE_SCHEDULER") or None
    return value.strip() if value else None


def app_arguments(argv: list[str]) -> list[str]:
    """The arguments after ``--args`` of a ``panel serve`` command line."""
    return argv[argv.index("--args") + 1:] if "--args" in argv else []


def dask_key(key) -> str:
    """A Dask key from a job's hashable key: the same settings, the same key in any process."""
    return "iwe-" + hashlib.sha256(repr(key).encode()).hexdigest()[:32]


# ----------------------------------------------------------------- in the server

def failure_message(error: BaseException) -> str | None:
    """What to tell the user about a Dask failure that is not the computation's own error."""
    from distributed.scheduler import KilledWorker

    if isinstance(error, KilledWorker):
        return ("the Dask workers computing this stopped too often (killed, or over their "
                "memory limit); try smaller settings, or ask the operator to give the "
                "workers more memory (IWE_WORKER_MEMORY)")
    return None


class DaskRunner:
    """Runs the HEAVY lane's tasks on a Dask cluster; its capacity is the cluster's threads."""

    def __init__(self, address: str | None = None, n_workers: int | None = None,
                 memory_limit: str | None = None, warm: bool | None = None):
        self.address = address
        #: import JAX and the job modules in each embedded worker at once (IWE_WARM_WORKERS=1);
        #: off by default: on a small machine it competes with the first pages for the cores
        self.warm = warm if warm is not None else os.environ.get("IWE_WARM_WORKERS") == "1"
        self.n_workers = max(int(n_workers or os.environ.get("IWE_WORKERS", 0)
                                 or os.cpu_count() or 1), 1)
        self.memory_limit = memory_limit or os.environ.get("IWE_WORKER_MEMORY", "auto")
        self.niceness = worker_niceness()  # a wrong IWE_WORKER_NICE stops the server's start
        self.client = self.cluster = None
        self.error: BaseException | None = None
        self.workers = self.threads = 0
        self.ready = threading.Event()
        self._closed = threading.Event()
        self._close_lock = threading.Lock()
        self._active = 0  # jobs in run(): close() lets them go before closing the client
        self._idle = threading.Condition()
        threading.Thread(target=self._connect_and_watch, daemon=True,
                         name="dask-cluster").start()

    def describe(self) -> str:
        return self.address or f"embedded LocalCluster ({self.n_workers} worker processes)"

    # -------------------------------------------------------------- cluster

    def _connect_and_watch(self) -> None:
        from distributed import Client, LocalCluster

        # at server exit before distributed's own handlers (registered at its import, just
        # now): the running jobs let go first, then the workers end
        atexit.register(self.close)
        logging.getLogger("distributed").setLevel(logging.WARNING)  # not every connection
        while not self._closed.is_set() and self.client is None:
            try:
                if self.address:
                    client = Client(self.address, timeout="20s", set_as_default=False)
                else:
                    # on 127.0.0.1 only; no dashboard (the scheduler's health and metrics
                    # routes on a free port). The workers' nannies copy the settings.
                    import dask
                    dask.config.set(EMBEDDED_CONFIG)
                    cluster = LocalCluster(
                        n_workers=self.n_workers, threads_per_worker=1, processes=True,
                        memory_limit=self.memory_limit, host="127.0.0.1",
                        dashboard_address=None,
                        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                        silence_logs=logging.ERROR, preload=["app.jobs.dask_worker"],
                        env={"IWE_EMBEDDED_WORKER": "1",
                             "IWE_WORKER_NICE": str(self.niceness)})
                    with self._close_lock:
                        self.cluster = cluster
                    client = Client(cluster, set_as_default=False)
                with self._close_lock:
                    if not self._closed.is_set():
                        self.client = client
                if self._closed.is_set():  # the server stopped while the cluster started
                    client.close()
                    if self.cluster is not None:
                        self.cluster.close(timeout=10)
                    return
            except Exception as err:  # told by /readiness and the server log; tried again
                if self._closed.is_set():
                    return
                self.error = err
                traceback.print_exc()
                if self.cluster is not None or self._closed.wait(5.0):
                    return  # an embedded cluster that cannot start: no point repeating it
        self.error = None
        self.ready.set()
        if self.warm and self.cluster is not None:  # each embedded worker imports JAX now
            for address in self.client.nthreads():
                self.client.submit(warm_up, workers=[address], pure=False).release()
        while True:
            self._watch()
            if self._closed.wait(WATCH_INTERVAL):
                return

    def _watch(self) -> None:
        try:
            nthreads = self.client.nthreads()
            self.workers, self.threads = len(nthreads), sum(nthreads.values())
        except Exception as err:
            self.workers = self.threads = 0
            self.error = err

    def capacity(self) -> int:
        return self.threads

    def close(self) -> None:
        """Close the client and an embedded cluster (its worker processes end)."""
        with self._close_lock:
            if self._closed.is_set():
                return
            self._closed.set()
            client, cluster = self.client, self.cluster
        self.workers = self.threads = 0
        with self._idle:  # each running job stops at its next look (every POLL seconds)
            self._idle.wait_for(lambda: self._active == 0, EXIT_WAIT)
        for closing in (client, cluster):  # the client's futures go, then the workers end
            if closing is not None:
                try:
                    closing.close(timeout=10)
                except Exception:
                    traceback.print_exc()

    # -------------------------------------------------------------- tasks

    def run(self, task, report, notice):
        payload = self._payload(task, task.compute)
        return self._counted(task, [(dask_key((task.lane, task.key)), payload)], report,
                             notice)[0]

    def run_parts(self, task, parts, report, notice):
        """Each part a Dask task of its own, keyed by the part's key: the workers compute
        them side by side, and a part another job waits for too is computed once."""
        work = [(dask_key((task.lane, key)), self._payload(task, compute))
                for key, compute in parts]
        return self._counted(task, work, report, notice)

    @staticmethod
    def _payload(task, compute) -> bytes:
        try:
            return cloudpickle.dumps(compute)
        except Exception as err:
            raise TypeError(f"job {task.key[0] if isinstance(task.key, tuple) else task.key}: "
                            f"expected a computation that pickles (a module-level function "
                            f"with plain arguments) to send it to a Dask worker; got "
                            f"{compute!r} ({err})") from err

    def _counted(self, task, work, report, notice) -> list:
        with self._idle:
            self._active += 1
        try:
            return self._run(task, work, report, notice)
        finally:
            with self._idle:
                self._active -= 1
                self._idle.notify_all()

    def _run(self, task, work, report, notice) -> list:
        """``work``: [(dask key, pickled computation)]; their values, in order."""
        from distributed import Queue

        client = self.client
        for attempt in range(1, ATTEMPTS + 1):
            if self._closed.is_set():
                raise Cancelled()
            queues, futures = [], []
            try:
                for key, payload in work:
                    name = f"{key}-progress-{attempt}"
                    queues.append(Queue(name, client=client))
                    futures.append(client.submit(run_task, payload, name, key=f"{key}-{attempt}"))
                outcome = self._follow(task, futures, queues, report, notice)
            finally:
                for queue in queues:
                    try:
                        queue.close()
                    except Exception:
                        pass
            if outcome is not _RESUBMIT:
                return outcome
            notice(f"The Dask workers were restarted; computing again (attempt {attempt + 1})")
        raise RuntimeError(f"the Dask workers were restarted {ATTEMPTS} times while computing "
                           "this; try again when the cluster is up")

    def _follow(self, task, futures, queues, report, notice):
        """Pass the tasks' messages on until every future has ended: their values, or
        _RESUBMIT. Progress is the mean of the parts' (a finished part counts 1); a partial
        result travels only from a task of one part."""
        starts = [0] * len(futures)
        fractions = [0.0] * len(futures)

        def drain() -> None:
            moved, partial = False, None
            for i, queue in enumerate(queues):
                for message in queue.get(batch=True, callback_timeout=CALL_TIMEOUT):
                    if message[0] == "start":
                        starts[i] += 1
                        if starts[i] > 1:
                            notice(f"A worker stopped while computing this; computing again "
                                   f"(attempt {starts[i]})")
                    elif message[0] == "progress":
                        fractions[i], moved = message[1], True
                        partial = message[2] if message[2] is not None else partial
                if futures[i].done() and fractions[i] < 1.0:
                    fractions[i], moved = 1.0, True
            if moved:  # the latest only: a slow page skips, never queues
                single = partial if len(futures) == 1 else None
                report(sum(fractions) / len(futures),
                       partial=None if single is None else cloudpickle.loads(single))

        try:
            while not all(future.done() for future in futures) and not any(
                    future.status == "error" for future in futures):  # a failed part ends all
                if task.stop.is_set() or self._closed.is_set():
                    raise Cancelled()
                drain()
                time.sleep(POLL)
            drain()
            if any(future.status == "cancelled" for future in futures):
                if task.stop.is_set():
                    raise Cancelled()
                return _RESUBMIT
            for future in futures:
                if future.status == "error":
                    error = future.exception()
                    message = failure_message(error)
                    if message is not None:
                        raise RuntimeError(message) from error
                    raise error
            return [future.result() for future in futures]
        except BaseException as err:
            if self._closed.is_set():  # the server is stopping: nobody is told anything
                raise Cancelled() from err
            raise
        finally:  # released, not cancelled: a part another job waits for goes on for it,
            # and one nobody holds any more is forgotten, which its worker sees at its next
            # report (run_task's should_stop)
            for future in futures:
                try:
                    future.release()
                except Exception:  # a closed client
                    pass


_RESUBMIT = object()
_START_LOCK = threading.Lock()


def start(option: str | None = None):
    """Give the HEAVY lane to Dask, once per server process: ``option`` None starts the
    embedded LocalCluster, an address connects to that scheduler, ``threads`` keeps the
    lane on the server's threads. Returns the lane's runner. Never blocks."""
    with _START_LOCK:
        runner = SERVICE.runner(HEAVY)
        if isinstance(runner, DaskRunner) or option == THREADS:
            return runner
        runner = DaskRunner(address=option)
        SERVICE.use(HEAVY, runner)
        return runner


def use_threads() -> LocalRunner:
    """The HEAVY lane back on the server's threads (closes a cluster it had)."""
    runner = LocalRunner(int(os.environ.get("IWE_WORKERS", 0) or os.cpu_count() or 1))
    SERVICE.use(HEAVY, runner)
    return runner
