"""``panel serve app/main.py --plugins app.readiness``: ``GET /readiness`` for an orchestrator.

Bokeh's ``/liveness`` (``--liveness``) says the server answers; ``/readiness`` says whether
the job service can run the long computations: 200 with ``{"workers": N, ...}`` when the
HEAVY lane has N > 0 workers (Dask worker processes, or the server's threads), 503 with
the same JSON (and why, when the cluster cannot be reached) while it has none, e.g. while
the embedded cluster starts or when the scheduler named by ``--scheduler`` is down. It also
reports the server's resident memory and what the result caches hold of their budget
(``IWE_CACHE_MB``), for an operator watching a class.

Importing this plugin (at server start, before any page) also starts the HEAVY lane's
cluster (app/jobs/dask_cluster.py), so the workers are up by the time the first student comes.
Then it takes the libraries it has imported out of the cycle collector's walks (app/heap.py).
The handler only reads figures kept up to date by other threads: it never waits.
"""
from __future__ import annotations

import gc
import json
import sys

import psutil
from tornado.web import RequestHandler

from . import heap, warmup
from .jobs import dask_cluster
from .jobs.cache import BUDGET
from .jobs.service import HEAVY, INTERACTIVE, SERVICE


def readiness() -> dict:
    """What /readiness answers: workers and threads of the HEAVY lane, jobs queued/running,
    the server process's memory and what its result caches hold of their budget (MiB)."""
    runner = SERVICE.runner(HEAVY)
    if isinstance(runner, dask_cluster.DaskRunner):
        workers, threads, where = runner.workers, runner.threads, runner.describe()
        error = "" if runner.error is None else f"{type(runner.error).__name__}: {runner.error}"
    else:
        workers = threads = runner.capacity()
        where, error = "threads of the server process", ""
    status = {"workers": workers, "threads": threads,
              "queued": SERVICE.queued(HEAVY) + SERVICE.queued(INTERACTIVE),
              "running": SERVICE.running(HEAVY) + SERVICE.running(INTERACTIVE),
              "cluster": where,
              "memory_mb": {"server_rss": round(psutil.Process().memory_info().rss / 2 ** 20),
                            "caches": round(BUDGET.used / 2 ** 20, 1),
                            "cache_budget": round(BUDGET.max_bytes / 2 ** 20)},
              # objects out of the cycle collector's walks since server start (app/heap.py)
              "frozen_objects": gc.get_freeze_count(),
              "warmup": dict(warmup.PROGRESS) if warmup.enabled() else "off"}
    if error:
        status["error"] = error
    return status


class ReadinessHandler(RequestHandler):
    def get(self) -> None:
        status = readiness()
        self.set_status(200 if status["workers"] > 0 else 503)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(status))


ROUTES = [("/readiness", ReadinessHandler, {})]

dask_cluster.start(dask_cluster.scheduler_option(dask_cluster.app_arguments(sys.argv)))
heap.freeze()  # the libraries just imported, before any page (app/heap.py)
