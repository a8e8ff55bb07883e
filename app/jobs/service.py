"""The server's one job service: bounded lanes that run every long computation.

Sessions submit work under a key, the hashable settings the work is a pure function of.
Identical requests (two students, one setting) share one computation; a task nobody waits
for any more leaves the queue at once, or stops at its next progress report when it runs.
At most ``capacity`` tasks of a lane run at once and the rest wait in that lane's queue,
each subscriber told its place. Two lanes: ``INTERACTIVE`` (the closed form a slider waits
for; short) and ``HEAVY`` (finite ensembles, sweeps, image kernels; long), so a room full
of trainings never holds back a closed-form answer.

Where a lane's tasks run is its runner's business. ``LocalRunner`` computes in threads of
this process. The served app (app/main.py) gives the HEAVY lane a ``DaskRunner``
(app/jobs/dask_cluster.py): the work runs in Dask worker processes, an embedded LocalCluster or
an existing cluster, the lane's capacity following the cluster's worker threads. The
INTERACTIVE lane stays on threads of the server: a closed form answers a slider within
tens of milliseconds once its kernels are cached (a round trip to a worker process and
back would cost more than the work), and its result is a large engine object (predictors
holding device arrays and compiled functions) that the server keeps and queries at every
slider move, which would have to be shipped back whole.

``compute(report, should_stop)`` of a task must be a pure function of its settings; for a
Dask lane it must pickle (a module-level function, or ``functools.partial`` of one, with
plain arguments): a lambda over a view cannot travel and fails the task with a message.
``report(fraction, partial=None)`` gives progress (and raises Cancelled once nobody waits);
a ``partial`` result reaches every subscriber's ``on_partial``.

A task's computation may come in ``Pieces``: independent parts, each a pure function of
its own key (one width of a sweep), and a cheap ``combine`` run in the server. The runner
runs the parts (a Dask runner as tasks of their own, side by side on every worker), the
progress counts finished parts, and parts already in the ``Pieces``' cache are not computed
again: two sweeps that share a width share that part.

Subscribers are called from the lane's threads; app/jobs/background.py moves what they change
onto the session's document.
"""
from __future__ import annotations

import atexit
import itertools
import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable, Hashable

from engine import release_if_crowded

INTERACTIVE, HEAVY = "interactive", "heavy"
_MISSING = object()
#: seconds (in all) to wait at interpreter exit for running tasks to reach their next
#: progress report: a thread killed inside a compiled computation aborts the process
EXIT_GRACE = 25
#: seconds between two looks at a lane's capacity while tasks wait (a cluster grows)
CAPACITY_POLL = 0.5


class Cancelled(Exception):
    """Raised from a progress report once nobody waits for the task any more."""


@dataclass(eq=False)
class Subscriber:
    on_progress: Callable[[float], None]  # 0.0 first: the task has started
    on_queue: Callable[[int], None]  # while queued: how many tasks wait ahead
    on_done: Callable[[object, BaseException | None], None]
    #: a part of the result, delivered while the task runs (e.g. the first training chunks)
    on_partial: Callable[[object], None] | None = None
    #: something the user should know while the task goes on (a worker lost, a retry)
    on_notice: Callable[[str], None] | None = None


@dataclass(eq=False)
class Task:
    key: Hashable
    lane: str
    compute: Callable
    order: int
    subscribers: set = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    running: bool = False
    partial: object = None  # the latest part delivered (a late subscriber starts from it)


@dataclass(frozen=True, eq=False)
class Pieces:
    """A computation split into independent parts and the function that joins them.

    ``parts``: ``((key, compute), ...)``, each ``compute(report, should_stop)`` a pure
    function of its hashable ``key`` (for a Dask lane: one that pickles); ``combine(values)``
    gets the parts' values in order and returns the task's result (it runs in the server:
    keep it cheap); ``cache``: an app.jobs.cache.Cache keeping each part's value under its key.
    """

    parts: tuple
    combine: Callable
    cache: object = None

    def __post_init__(self):
        if not self.parts:
            raise ValueError("Pieces: expected at least one part, got none")


def run_parts(parts, report: Callable, should_stop: Callable[[], bool]) -> list:
    """The parts one after the other in this thread; progress counts finished parts."""
    values = []
    for i, (_, compute) in enumerate(parts):
        values.append(compute(lambda fraction, partial=None, i=i:
                              report((i + fraction) / len(parts)), should_stop))
        report((i + 1) / len(parts))
    return values


class LocalRunner:
    """Runs a lane's tasks in threads of this process, ``workers`` at once."""

    def __init__(self, workers: int):
        self.workers = max(int(workers), 1)

    def capacity(self) -> int:
        return self.workers

    def run(self, task: Task, report: Callable, notice: Callable[[str], None]):
        try:
            return task.compute(report, task.stop.is_set)
        finally:  # a server that has compiled thousands of programs must not run out of maps
            release_if_crowded()

    def run_parts(self, task: Task, parts, report: Callable, notice: Callable[[str], None]):
        try:
            return run_parts(parts, report, task.stop.is_set)
        finally:
            release_if_crowded()

    def close(self) -> None:
        pass


class Ticket:
    """One subscription to a task; ``cancel()`` unsubscribes (the task stops when none is left)."""

    def __init__(self, service: "JobService", task: Task, subscriber: Subscriber):
        self._service, self._task, self._subscriber = service, task, subscriber

    def cancel(self) -> None:
        self._service._unsubscribe(self._task, self._subscriber)

    @property
    def key(self) -> Hashable:
        return self._task.key


class JobService:
    """Lanes fed by queues of shared, deduplicated tasks; each lane's runner runs them."""

    def __init__(self, workers: dict[str, int]):
        self._lock = threading.Condition()
        self._runners = {lane: LocalRunner(count) for lane, count in workers.items()}
        self._queues: dict[str, list[Task]] = {lane: [] for lane in workers}
        self._running: dict[str, int] = {lane: 0 for lane in workers}
        self._tasks: dict[tuple, Task] = {}  # (lane, key) -> queued or running task
        self._order = itertools.count()
        self._threads: set[threading.Thread] = set()
        self._closed = False
        for lane in workers:
            threading.Thread(target=self._dispatch, args=(lane,), daemon=True,
                             name=f"job-{lane}-dispatch").start()

    # ----------------------------------------------------------------- public

    def use(self, lane: str, runner) -> None:
        """Run ``lane``'s next tasks with ``runner`` (running ones finish where they are)."""
        with self._lock:
            old, self._runners[lane] = self._runners[lane], runner
            self._lock.notify_all()
        if old is not runner:
            old.close()

    def runner(self, lane: str):
        return self._runners[lane]

    def submit(self, key: Hashable, compute: Callable, subscriber: Subscriber,
               lane: str = HEAVY) -> Ticket:
        """Run ``compute(report, should_stop)`` once for ``key``; tell ``subscriber`` how it goes.

        ``report(fraction, partial=None)`` gives progress (and raises Cancelled once nobody
        waits); a ``partial`` result is passed to every subscriber's ``on_partial``.
        A task with the same key already queued or running gets one more subscriber (and the
        latest partial result at once).
        """
        with self._lock:
            task = self._tasks.get((lane, key))
            if task is None:
                task = Task(key, lane, compute, next(self._order))
                self._tasks[(lane, key)] = task
                self._queues[lane].append(task)
                self._lock.notify_all()
            task.subscribers.add(subscriber)
            running, partial = task.running, task.partial
        if running:
            subscriber.on_progress(0.0)
        if partial is not None and subscriber.on_partial is not None:
            subscriber.on_partial(partial)
        self._announce(lane)
        return Ticket(self, task, subscriber)

    def queued(self, lane: str = HEAVY) -> int:
        with self._lock:
            return len(self._queues[lane])

    def running(self, lane: str = HEAVY) -> int:
        with self._lock:
            return self._running[lane]

    def active(self) -> int:
        """Tasks queued or running in every lane."""
        with self._lock:
            return len(self._tasks)

    def capacity(self, lane: str = HEAVY) -> int:
        """How many of ``lane``'s tasks may run at once now (0: no workers yet)."""
        return self._runners[lane].capacity()

    def shutdown(self, grace: float = EXIT_GRACE) -> None:
        """Stop every task, then the runners (interpreter exit)."""
        with self._lock:
            self._closed = True
            for task in self._tasks.values():
                task.stop.set()
            self._lock.notify_all()
            threads = list(self._threads)
        deadline = time.monotonic() + grace
        for thread in threads:
            thread.join(max(deadline - time.monotonic(), 0.0))
        for runner in self._runners.values():
            runner.close()

    # ----------------------------------------------------------------- internals

    def _announce(self, lane: str) -> None:
        """Tell every queued subscriber of ``lane`` how many tasks wait ahead of it."""
        with self._lock:
            places = [(list(t.subscribers), i) for i, t in enumerate(self._queues[lane])]
        for subscribers, ahead in places:
            for s in subscribers:
                s.on_queue(ahead)

    def _unsubscribe(self, task: Task, subscriber: Subscriber) -> None:
        with self._lock:
            task.subscribers.discard(subscriber)
            if task.subscribers:
                return
            task.stop.set()
            if not task.running and task in self._queues[task.lane]:
                self._queues[task.lane].remove(task)
            if self._tasks.get((task.lane, task.key)) is task:  # the same key starts anew
                del self._tasks[(task.lane, task.key)]
        self._announce(task.lane)

    def _next(self, lane: str) -> Task | None:
        """The lane's next task once one waits and the lane has room (None when closed)."""
        with self._lock:
            while not self._closed:
                if self._queues[lane]:
                    try:
                        room = self._runners[lane].capacity() - self._running[lane]
                    except Exception:  # a runner that cannot tell has no room now
                        room = 0
                    if room > 0:
                        task = self._queues[lane].pop(0)
                        task.running = True
                        self._running[lane] += 1
                        return task
                    self._lock.wait(CAPACITY_POLL)
                else:
                    self._lock.wait()
            return None

    def _dispatch(self, lane: str) -> None:
        while (task := self._next(lane)) is not None:
            thread = threading.Thread(target=self._run, args=(task,), daemon=True,
                                      name=f"job-{lane}")
            with self._lock:  # started under the lock: shutdown joins only started threads
                if self._closed:
                    return
                self._threads.add(thread)
                thread.start()
            self._announce(lane)

    def _run(self, task: Task) -> None:
        lane = task.lane
        value, error = None, None
        report = self._reporter(task)
        try:
            report(0.0)
            if isinstance(task.compute, Pieces):
                value = self._run_pieces(task, report)
            else:
                value = self._runners[lane].run(task, report, self._notifier(task))
        except BaseException as err:  # delivered to the subscribers, never swallowed
            error = err
            if not isinstance(err, Cancelled):
                traceback.print_exc()
        with self._lock:
            self._running[lane] -= 1
            self._threads.discard(threading.current_thread())
            if self._tasks.get((lane, task.key)) is task:
                del self._tasks[(lane, task.key)]
            subscribers = list(task.subscribers)
            self._lock.notify_all()
        for s in subscribers:
            s.on_done(value, error)

    def _run_pieces(self, task: Task, report: Callable):
        """The parts not in the pieces' cache through the lane's runner, then ``combine``."""
        pieces = task.compute
        cache = pieces.cache
        known = {} if cache is None else {
            key: cache.peek(key, _MISSING) for key, _ in pieces.parts}
        missing = [(key, compute) for key, compute in pieces.parts
                   if known.get(key, _MISSING) is _MISSING]
        if missing:
            done = len(pieces.parts) - len(missing)

            def part_report(fraction: float, partial: object = None) -> None:
                report((done + fraction * len(missing)) / len(pieces.parts))

            values = self._runners[task.lane].run_parts(task, missing, part_report,
                                                        self._notifier(task))
            for (key, _), value in zip(missing, values):
                known[key] = value
                if cache is not None:
                    cache.store(key, value)
        return pieces.combine([known[key] for key, _ in pieces.parts])

    @staticmethod
    def _reporter(task: Task) -> Callable[[float], None]:
        def report(fraction: float, partial: object = None) -> None:
            if task.stop.is_set():
                raise Cancelled()
            if partial is not None:
                task.partial = partial
            for s in list(task.subscribers):
                s.on_progress(fraction)
                if partial is not None and s.on_partial is not None:
                    s.on_partial(partial)
        return report

    @staticmethod
    def _notifier(task: Task) -> Callable[[str], None]:
        def notice(text: str) -> None:
            for s in list(task.subscribers):
                if s.on_notice is not None:
                    s.on_notice(text)
        return notice


def _workers() -> dict[str, int]:
    """IWE_WORKERS long tasks at once (default: one per core), two closed-form answers.

    The served app hands the HEAVY lane to Dask (app/jobs/dask_cluster.py); these threads run it
    where no server started a cluster (tests, scripts, IWE_SCHEDULER=threads)."""
    heavy = int(os.environ.get("IWE_WORKERS", os.cpu_count() or 1))
    return {INTERACTIVE: 2, HEAVY: max(heavy, 1)}


SERVICE = JobService(_workers())
# Stop the jobs before JAX tears itself down: JAX registers its own exit handlers when its
# backend starts, after this module's import, and atexit runs the later ones first, so a
# job still tracing at exit raised ``KeyError: Var(...)`` and aborted the process
# ("terminate called after throwing"). Threading's exit hooks run before every atexit
# handler (they are how concurrent.futures stops its pools); atexit where they are missing.
getattr(threading, "_register_atexit", atexit.register)(SERVICE.shutdown)
