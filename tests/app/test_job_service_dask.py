"""The job service's HEAVY lane on Dask (app/jobs/dask_cluster.py): a 2-worker LocalCluster.

Tasks here are module-level functions sent by value (the workers cannot import a test
module); they talk to the test through files, the only thing two processes share here.
"""
from __future__ import annotations

import functools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import cloudpickle
import pytest

from app.jobs import dask_cluster
from app.jobs.background import Job
from app.jobs.cache import Cache
from app.jobs.dask_worker import worker_niceness
from app.jobs.service import (HEAVY, INTERACTIVE, SERVICE, JobService, LocalRunner, Pieces,
                              Subscriber)

pytestmark = pytest.mark.slow
cloudpickle.register_pickle_by_value(sys.modules[__name__])
ROOT = Path(__file__).resolve().parents[2]


# ------------------------------------------------------------------ tasks (run in workers)

def waiting_task(folder: str, name: str, report, should_stop):
    """Notes each step in FOLDER/NAME.steps (its pid first) until FOLDER/NAME.release exists."""
    steps = Path(folder) / f"{name}.steps"
    with open(steps, "a") as out:
        out.write(f"pid {os.getpid()}\n")
    i = 0
    while not (Path(folder) / f"{name}.release").exists():
        i += 1
        with open(steps, "a") as out:
            out.write(f"{i}\n")
        report(min(i / 100, 0.9), partial={"chunk": i} if i % 5 == 0 else None)
        time.sleep(0.05)
    report(1.0)
    return {"pid": os.getpid(), "token": uuid.uuid4().hex, "name": name}


def crowded_task(folder: str, report, should_stop):
    """Makes this worker look crowded (engine.compiled.CROWDED = 0) and notes in
    FOLDER/released-PID when JAX's compiled programs are then let go (and undoes both)."""
    import jax

    from engine import compiled

    clear, crowded = jax.clear_caches, compiled.CROWDED

    def noted():
        (Path(folder) / f"released-{os.getpid()}").touch()
        jax.clear_caches, compiled.CROWDED = clear, crowded
        clear()

    jax.clear_caches, compiled.CROWDED = noted, 0.0
    return os.getpid()


def lines(folder, name) -> list[str]:
    path = Path(folder) / f"{name}.steps"
    return path.read_text().split() if path.exists() else []


def release(folder, name) -> None:
    (Path(folder) / f"{name}.release").touch()


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def cluster():
    """SERVICE's HEAVY lane on a fresh 2-worker LocalCluster (the served default)."""
    runner = dask_cluster.DaskRunner(n_workers=2, memory_limit="2GiB")
    old = SERVICE.runner(HEAVY)
    SERVICE.use(HEAVY, runner)
    deadline = time.time() + 120
    while runner.capacity() < 2 and time.time() < deadline:
        time.sleep(0.1)
    assert runner.capacity() == 2, runner.error
    yield runner
    SERVICE.use(HEAVY, old if isinstance(old, LocalRunner) else LocalRunner(2))  # closes it


def _until(condition, timeout=20.0, what=""):
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline:
        time.sleep(0.02)
    assert condition(), what


class Recorder:
    def __init__(self):
        self.progress, self.queue, self.parts, self.notices = [], [], [], []
        self.done, self.value, self.error = threading.Event(), None, None

    def subscriber(self) -> Subscriber:
        def on_done(value, error):
            self.value, self.error = value, error
            self.done.set()
        return Subscriber(self.progress.append, self.queue.append, on_done,
                          self.parts.append, self.notices.append)


# ------------------------------------------------------------------ tests

def test_two_sessions_asking_the_same_share_one_task_in_a_worker(cluster, tmp_path):
    cache, got = Cache(4), []
    compute = functools.partial(waiting_task, str(tmp_path), "shared")
    first, second = Job(), Job()
    first.start(cache, ("shared", 1), compute, got.append)
    _until(lambda: lines(tmp_path, "shared"), what="the task started in a worker")
    second.start(cache, ("shared", 1), functools.partial(waiting_task, str(tmp_path), "shared"),
                 got.append)
    release(tmp_path, "shared")
    assert first.wait(20) and second.wait(20)
    assert len(got) == 2 and got[0] == got[1]  # one computation (one token) delivered twice
    assert got[0]["pid"] != os.getpid()  # ran in a worker process
    assert sum(line == "pid" for line in lines(tmp_path, "shared")) == 1
    assert cache.peek(("shared", 1)) == got[0]  # stored by the server when it arrived


def test_queue_places_partials_and_cancel(cluster, tmp_path):
    """Two tasks run (two workers), the next wait with their place; a cancelled queued task
    never starts, a cancelled running one stops within a second; partials arrive."""
    folder = str(tmp_path)
    a, b, c, d = Recorder(), Recorder(), Recorder(), Recorder()
    ta = SERVICE.submit("a", functools.partial(waiting_task, folder, "a"), a.subscriber())
    SERVICE.submit("b", functools.partial(waiting_task, folder, "b"), b.subscriber())
    _until(lambda: lines(tmp_path, "a") and lines(tmp_path, "b"), what="two tasks running")
    tc = SERVICE.submit("c", functools.partial(waiting_task, folder, "c"), c.subscriber())
    SERVICE.submit("d", functools.partial(waiting_task, folder, "d"), d.subscriber())
    assert c.queue[-1] == 0 and d.queue[-1] == 1  # jobs ahead of each
    job = Job()
    job.start(Cache(2), "e", functools.partial(waiting_task, folder, "e"), lambda v: None)
    assert job.status == "Queued: 2 jobs ahead (computing)"
    _until(lambda: a.parts, what="a partial result from the worker")
    assert a.parts[0] == {"chunk": 5} and a.progress[0] == 0.0 and max(a.progress) > 0
    tc.cancel()  # queued: leaves the queue
    assert d.queue[-1] == 0
    ta.cancel()  # running: stops at its next report
    cancelled = time.time()
    time.sleep(1.0)
    steps = len(lines(tmp_path, "a"))
    time.sleep(0.5)
    assert len(lines(tmp_path, "a")) == steps, "a cancelled task still runs 1 s later"
    _until(lambda: lines(tmp_path, "d"), what="d starts in the freed worker")
    assert time.time() - cancelled < 10
    job.cancel()
    for name in "bde":
        release(tmp_path, name)
    assert b.done.wait(20) and d.done.wait(20) and b.error is None and d.value["name"] == "d"
    assert not a.done.is_set() and not c.done.is_set() and lines(tmp_path, "c") == []


def test_pieces_run_side_by_side_on_the_workers_share_a_part_and_cancel(cluster, tmp_path):
    """A computation in Pieces: its parts are Dask tasks of their own on both workers; a
    part two jobs hold is computed once; a cancelled job's parts stop within a second."""
    folder = str(tmp_path)

    def part(name):
        return ("part", name), functools.partial(waiting_task, folder, name)

    a, b, c = Recorder(), Recorder(), Recorder()
    SERVICE.submit("sweep-a", Pieces((part("p1"), part("p2")), list), a.subscriber())
    _until(lambda: lines(tmp_path, "p1") and lines(tmp_path, "p2"), what="two parts running")
    assert lines(tmp_path, "p1")[1] != lines(tmp_path, "p2")[1]  # two worker processes
    SERVICE.submit("sweep-b", Pieces((part("p2"), part("p3")), list), b.subscriber())
    release(tmp_path, "p1")
    _until(lambda: lines(tmp_path, "p3"), what="p3 in the worker p1 left")
    release(tmp_path, "p2")
    release(tmp_path, "p3")
    assert a.done.wait(30) and b.done.wait(30), (a.error, b.error)
    assert [v["name"] for v in a.value] == ["p1", "p2"] and a.value[1] == b.value[0]  # one p2
    assert lines(tmp_path, "p2").count("pid") == 1
    assert 0.0 < a.progress[1] < 1.0 and a.progress[-1] == 1.0  # counted part by part

    ticket = SERVICE.submit("sweep-c", Pieces((part("p4"), part("p5")), list), c.subscriber())
    _until(lambda: lines(tmp_path, "p4") and lines(tmp_path, "p5"), what="two parts running")
    ticket.cancel()
    time.sleep(1.0)
    steps = [len(lines(tmp_path, name)) for name in ("p4", "p5")]
    time.sleep(0.5)
    assert [len(lines(tmp_path, name)) for name in ("p4", "p5")] == steps, \
        "a cancelled job's parts still run 1 s later"


def test_a_worker_killed_mid_job_gives_a_message_and_a_retry(cluster, tmp_path):
    job, statuses, got = Job(), [], []
    job.param.watch(lambda e: statuses.append(e.new), "status")
    job.start(Cache(2), "killed", functools.partial(waiting_task, str(tmp_path), "killed"),
              got.append, label="Training")
    _until(lambda: len(lines(tmp_path, "killed")) > 2, what="the task started")
    pid, before = int(lines(tmp_path, "killed")[1]), set(cluster.client.nthreads())
    os.kill(pid, signal.SIGKILL)
    notice = "Training… A worker stopped while computing this; computing again (attempt 2)."
    _until(lambda: notice in statuses, timeout=30, what=f"a notice of the lost worker: {statuses}")
    release(tmp_path, "killed")
    assert job.wait(30), "the view hangs after a worker was killed"
    assert got and got[0]["pid"] != pid and job.status == ""
    _until(lambda: len(set(cluster.client.nthreads()) - before) == 1 and cluster.workers == 2,
           timeout=60, what="the nanny restarts the worker")


def _cancel_in_dask(cluster, key, attempt=1):
    """What client.restart() does to a job's future: cancelled under it."""
    from distributed import Future
    dask_key = f"{dask_cluster.dask_key((HEAVY, key))}-{attempt}"
    cluster.client.cancel([Future(dask_key, cluster.client)])


def test_a_job_whose_future_is_cancelled_under_it_is_submitted_again(cluster, tmp_path,
                                                                     monkeypatch):
    got = Recorder()
    SERVICE.submit("again", functools.partial(waiting_task, str(tmp_path), "again"),
                   got.subscriber())
    _until(lambda: lines(tmp_path, "again"), what="the task started")
    _cancel_in_dask(cluster, "again")
    _until(lambda: got.notices, what="a notice of the restart")
    assert got.notices == ["The Dask workers were restarted; computing again (attempt 2)"]
    release(tmp_path, "again")
    assert got.done.wait(20) and got.error is None and got.value["name"] == "again"

    monkeypatch.setattr(dask_cluster, "ATTEMPTS", 1)
    failed = Recorder()
    SERVICE.submit("gone", functools.partial(waiting_task, str(tmp_path), "gone"),
                   failed.subscriber())
    _until(lambda: lines(tmp_path, "gone"), what="the task started")
    _cancel_in_dask(cluster, "gone")
    assert failed.done.wait(20)
    assert str(failed.error) == ("the Dask workers were restarted 1 times while computing "
                                 "this; try again when the cluster is up")
    release(tmp_path, "gone")


def test_a_worker_lets_compiled_programs_go_after_a_task_when_crowded(cluster, tmp_path):
    """Between tasks a Dask worker checks its memory mappings (engine.release_if_crowded): a
    worker that has compiled thousands of programs otherwise dies inside XLA's compile."""
    got = Recorder()
    SERVICE.submit(("crowded", str(tmp_path)), functools.partial(crowded_task, str(tmp_path)),
                   got.subscriber())
    assert got.done.wait(60) and got.error is None, got.error
    _until(lambda: (tmp_path / f"released-{got.value}").exists(),
           what="the worker released its compiled programs after the task")


def test_a_computation_that_cannot_travel_fails_with_a_message(cluster):
    lock = threading.Lock()
    got = Recorder()
    SERVICE.submit("closure", lambda report, stop: lock.locked(), got.subscriber())
    assert got.done.wait(20)
    assert isinstance(got.error, TypeError)
    assert "expected a computation that pickles (a module-level function with plain " \
           "arguments) to send it to a Dask worker" in str(got.error)


def test_killed_worker_message():
    from distributed.scheduler import KilledWorker
    message = dask_cluster.failure_message(KilledWorker("iwe-x", "tcp://127.0.0.1:1", 3))
    assert message.startswith("the Dask workers computing this stopped too often (killed, or "
                              "over their memory limit)")
    assert dask_cluster.failure_message(ValueError("width")) is None


def _worker_settings() -> dict:
    import dask
    return {key: dask.config.get(key) for key in dask_cluster.EMBEDDED_CONFIG}


def test_embedded_workers_run_without_the_profiler(cluster):
    """No 10 ms stack sampler in the workers, a 2 s system monitor (app/jobs/dask_cluster.py)."""
    settings = cluster.client.run(_worker_settings)
    assert len(settings) == 2
    assert all(s == {"distributed.worker.profile.enabled": False,
                     "distributed.admin.system-monitor.interval": "2s"}
               for s in settings.values()), settings


def _task_thread_niceness() -> int:
    return os.nice(0)  # of the calling thread (Linux keeps it per thread)


def test_embedded_workers_compute_below_the_servers_priority(cluster):
    """A task's thread in each embedded worker runs at IWE_WORKER_NICE (default 10) above
    the server's niceness: the server answers the pages first."""
    futures = [cluster.client.submit(_task_thread_niceness, workers=[address], pure=False)
               for address in cluster.client.nthreads()]
    assert [f.result(timeout=60) for f in futures] == [os.nice(0) + 10] * 2


@pytest.mark.parametrize("value, message", [
    ("high", "IWE_WORKER_NICE must be an integer from 0 to 19, got 'high'"),
    ("20", "IWE_WORKER_NICE must be an integer from 0 to 19, got 20"),
    ("-5", "IWE_WORKER_NICE must be an integer from 0 to 19, got -5")])
def test_a_wrong_worker_niceness_is_refused_at_start(value, message, monkeypatch):
    assert worker_niceness({}) == 10 and worker_niceness({"IWE_WORKER_NICE": "0"}) == 0
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        worker_niceness({"IWE_WORKER_NICE": value})
    monkeypatch.setenv("IWE_WORKER_NICE", value)
    with pytest.raises(ValueError, match=re.escape(message)):
        dask_cluster.DaskRunner(n_workers=1)  # before any cluster starts


def test_dask_keys_are_the_same_in_every_process():
    key = (HEAVY, ("app.jobs.finite_jobs._train", ("[[\"Dense\", {}]]", ("sine", 20), 64, 4, 0.5)))
    assert dask_cluster.dask_key(key) == dask_cluster.dask_key(eval(repr(key)))
    assert dask_cluster.dask_key(key) != dask_cluster.dask_key((INTERACTIVE,) + key[1:])
    assert dask_cluster.dask_key(key).startswith("iwe-")


def test_scheduler_option_from_arguments_or_environment():
    assert dask_cluster.scheduler_option([], {}) is None
    assert dask_cluster.scheduler_option([], {"IWE_SCHEDULER": "tcp://h:8786"}) == "tcp://h:8786"
    assert dask_cluster.scheduler_option(["--max-width", "64", "--scheduler", "tcp://a:1"],
                                         {"IWE_SCHEDULER": "tcp://h:8786"}) == "tcp://a:1"
    argv = ["panel", "serve", "app/main.py", "--args", "--scheduler", "threads"]
    assert dask_cluster.app_arguments(argv) == ["--scheduler", "threads"]


def test_heavy_callers_computations_pickle():
    """What the HEAVY views submit travels to a worker: module functions, plain arguments."""
    import engine
    from app.jobs import finite_jobs, image_jobs
    from app.jobs.background import task_name
    from app.views.distribution import DistributionView
    from app.views.kernel_angles import AngleKernelsView
    from app.views.spectrum import SpectrumView

    data = engine.make_dataset("sin", n_train=8, n_test=8, seed=0)
    computes = [functools.partial(finite_jobs._train, [["Dense", {"out_dim": 1}]], data,
                                  {"width": 16})]
    computes += [compute for _, compute in image_jobs.pieces((100, 50, 1e-4, 0)).parts]
    for view in (SpectrumView, AngleKernelsView, DistributionView):
        computes.append(functools.partial(view.compute, ("spec", ("sine",), (10, 10))))
    # the sweeps in one part per width (Pieces): each part travels on its own
    for view, key in ((SpectrumView, ("spec", ("sine",), (10, 10), (8, 16), 2, 0.5, 10)),
                      (AngleKernelsView, ("spec", ("sine",), (10, 10), (8, 16), 2, 10)),
                      (DistributionView, ("spec", ("sine",), (10, 10), (8, 16), 100))):
        pieces = view.work(key)
        assert [k[4] for k, _ in pieces.parts] == [(8,), (16,)]
        assert task_name(pieces) == task_name(functools.partial(view.compute, key))
        computes += [compute for _, compute in pieces.parts]
    for compute in computes:
        back = cloudpickle.loads(cloudpickle.dumps(compute))
        assert task_name(back) == task_name(compute)
        assert not task_name(compute).startswith("app.views")  # the convergence functions


# ------------------------------------------------------------------ readiness

class _Zero(LocalRunner):
    def capacity(self) -> int:
        return 0


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_readiness_is_503_without_workers_and_200_with(cluster):
    import asyncio

    import tornado.web

    import gc

    from app import readiness  # the cluster's runner is in place: importing starts nothing
    # importing froze this worker's objects (app/heap.py, for a server before any page):
    # undone, so the programs engine.release_if_crowded drops here stay collectable
    gc.unfreeze()

    assert SERVICE.runner(HEAVY) is cluster
    port, started = _free_port(), threading.Event()
    loop = asyncio.new_event_loop()

    def serve():
        asyncio.set_event_loop(loop)
        tornado.web.Application(readiness.ROUTES).listen(port, "127.0.0.1")
        started.set()
        loop.run_forever()
    threading.Thread(target=serve, daemon=True).start()
    assert started.wait(10)
    try:
        status, body = _get(f"http://127.0.0.1:{port}/readiness")
        assert status == 200 and body["workers"] == 2 and body["queued"] == 0
        memory = body["memory_mb"]
        assert memory["server_rss"] > 50 and 0 <= memory["caches"] <= memory["cache_budget"]
        assert memory["cache_budget"] == round(readiness.BUDGET.max_bytes / 2 ** 20)
        service = JobService({HEAVY: 1, INTERACTIVE: 1})
        service.use(HEAVY, _Zero(1))
        real, readiness.SERVICE = readiness.SERVICE, service
        try:
            status, body = _get(f"http://127.0.0.1:{port}/readiness")
        finally:
            readiness.SERVICE = real
            service.shutdown(grace=1)
        assert status == 503 and body["workers"] == 0
    finally:
        loop.call_soon_threadsafe(loop.stop)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_served_app_answers_readiness_on_an_existing_cluster(cluster):
    """`panel serve app/main.py --plugins app.readiness --args --scheduler ADDRESS`."""
    port = _free_port()
    command = [str(ROOT / ".venv" / "bin" / "panel"), "serve", "app/main.py", "--port", str(port),
               "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}",
               "--plugins", "app.readiness", "--args", "--scheduler",
               cluster.client.scheduler.address]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        answer = [None]

        def ready():
            try:
                answer[0] = _get(f"http://127.0.0.1:{port}/readiness")
            except OSError:
                return False
            return answer[0][0] == 200
        _until(ready, timeout=90, what=f"/readiness answered {answer[0]}")
        status, body = answer[0]
        assert body["workers"] == 2 and body["cluster"] == cluster.client.scheduler.address
        # the libraries imported at start are out of the cycle collector's walks (app/heap.py)
        assert body["frozen_objects"] > 100_000
    finally:
        process.terminate()
        process.wait(timeout=30)
