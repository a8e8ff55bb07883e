"""app/jobs/service.py: one bounded pool for every session; shared, queued, cancellable tasks."""
import threading
import time

import pytest

from app.jobs.background import Job
from app.jobs.cache import Cache
from app.jobs.service import HEAVY, INTERACTIVE, Cancelled, JobService, Pieces, Subscriber


class Recorder:
    """A subscriber that remembers what it was told."""

    def __init__(self):
        self.progress, self.queue, self.done = [], [], threading.Event()
        self.value = self.error = None

    def subscriber(self) -> Subscriber:
        def on_done(value, error):
            self.value, self.error = value, error
            self.done.set()
        return Subscriber(self.progress.append, self.queue.append, on_done)


def _blocking(release: threading.Event, calls: list, value="done"):
    def compute(report, should_stop):
        calls.append(1)
        report(0.5)
        release.wait(30)
        report(1.0)  # raises Cancelled once nobody waits
        return value
    return compute


@pytest.fixture
def service():
    service = JobService({HEAVY: 1, INTERACTIVE: 1})
    yield service
    service.shutdown(grace=5)


def _until(condition, timeout=10):
    deadline = time.time() + timeout
    while not condition() and time.time() < deadline:
        time.sleep(0.01)
    assert condition()


def test_identical_requests_share_one_computation(service):
    release, calls, a, b = threading.Event(), [], Recorder(), Recorder()
    service.submit("k", _blocking(release, calls), a.subscriber())
    _until(lambda: calls)
    service.submit("k", _blocking(release, calls), b.subscriber())
    assert b.progress == [0.0]  # joined a running task
    release.set()
    assert a.done.wait(10) and b.done.wait(10)
    assert calls == [1] and a.value == b.value == "done"


def test_queued_tasks_are_told_their_place_and_run_in_order(service):
    release, calls = threading.Event(), []
    first, second, third = Recorder(), Recorder(), Recorder()
    service.submit("a", _blocking(release, calls), first.subscriber())
    _until(lambda: calls)
    service.submit("b", _blocking(release, calls, "b"), second.subscriber())
    service.submit("c", _blocking(release, calls, "c"), third.subscriber())
    assert second.queue[-1] == 0 and third.queue[-1] == 1  # jobs ahead of each
    assert service.queued(HEAVY) == 2
    release.set()
    assert third.done.wait(10) and third.value == "c" and len(calls) == 3


def test_a_cancelled_queued_task_leaves_the_queue_at_once(service):
    release, calls = threading.Event(), []
    running, waiting, behind = Recorder(), Recorder(), Recorder()
    service.submit("a", _blocking(release, calls), running.subscriber())
    _until(lambda: calls)
    ticket = service.submit("b", _blocking(release, calls), waiting.subscriber())
    service.submit("c", _blocking(release, calls, "c"), behind.subscriber())
    ticket.cancel()
    assert service.queued(HEAVY) == 1 and behind.queue[-1] == 0  # moved up
    release.set()
    assert behind.done.wait(10)
    assert not waiting.done.is_set() and len(calls) == 2  # "b" never ran


def test_a_running_task_stops_when_its_last_subscriber_goes(service):
    release, calls, a, b = threading.Event(), [], Recorder(), Recorder()
    ta = service.submit("k", _blocking(release, calls), a.subscriber())
    _until(lambda: calls)
    tb = service.submit("k", _blocking(release, calls), b.subscriber())
    ta.cancel()
    tb.cancel()
    release.set()
    _until(lambda: service.active() == 0)
    assert not a.done.is_set() and not b.done.is_set()  # nobody is told of a stopped task


def test_one_lanes_long_work_never_holds_back_the_other(service):
    release, calls, heavy, quick = threading.Event(), [], Recorder(), Recorder()
    service.submit("train", _blocking(release, calls), heavy.subscriber(), lane=HEAVY)
    _until(lambda: calls)
    service.submit("closed form", lambda report, stop: 42, quick.subscriber(), lane=INTERACTIVE)
    assert quick.done.wait(10) and quick.value == 42
    release.set()


def test_a_failure_reaches_every_subscriber(service):
    def broken(report, should_stop):
        raise ValueError("widths: expected positive integers")
    got = Recorder()
    service.submit("k", broken, got.subscriber())
    assert got.done.wait(10) and isinstance(got.error, ValueError)


def test_two_sessions_jobs_share_one_computation_and_each_delivers():
    """Two views (two sessions) asking for the same key: one computation, two deliveries."""
    cache, calls, release = Cache(4), [], threading.Event()
    first, second, got = Job(), Job(), []
    first.start(cache, ("shared", 1), _blocking(release, calls), got.append)
    _until(lambda: calls)
    second.start(cache, ("shared", 1), _blocking(release, calls), got.append)
    release.set()
    assert first.wait(10) and second.wait(10)
    assert calls == [1] and got == ["done", "done"]


def test_a_superseded_start_never_delivers():
    cache, release, got = Cache(4), threading.Event(), []
    job = Job()
    job.start(cache, "old", _blocking(release, []), lambda v: got.append(("old", v)))
    job.start(cache, "new", lambda report, stop: "fresh", lambda v: got.append(("new", v)))
    release.set()
    assert job.wait(10)
    time.sleep(0.2)
    assert got == [("new", "fresh")]


def test_cancelled_is_raised_by_the_report_of_an_abandoned_task(service):
    seen = []

    def compute(report, should_stop):
        while not should_stop():
            time.sleep(0.01)
        try:
            report(1.0)
        except Cancelled:
            seen.append("cancelled")
            raise
    ticket = service.submit("k", compute, Recorder().subscriber())
    time.sleep(0.05)
    ticket.cancel()
    _until(lambda: seen == ["cancelled"])


def test_a_key_asked_again_after_its_last_subscriber_left_runs_anew(service):
    """A stopping task must not take new subscribers: they would get its Cancelled."""
    release, calls, first, again = threading.Event(), [], Recorder(), Recorder()
    ticket = service.submit("k", _blocking(release, calls), first.subscriber())
    _until(lambda: calls)
    ticket.cancel()
    service.submit("k", _blocking(release, calls, "second"), again.subscriber())
    release.set()
    assert again.done.wait(10) and again.value == "second" and again.error is None


def test_the_same_key_started_again_by_one_job_keeps_its_computation():
    cache, calls, release, got = Cache(4), [], threading.Event(), []
    job = Job()
    job.start(cache, "same", _blocking(release, calls), got.append)
    _until(lambda: calls)
    job.start(cache, "same", _blocking(release, calls), got.append)
    release.set()
    assert job.wait(10) and got == ["done"] and calls == [1]


def test_partial_results_reach_every_subscriber_and_a_late_one_starts_from_the_latest(service):
    release, parts_a, parts_b, a, b = threading.Event(), [], [], Recorder(), Recorder()

    def compute(report, should_stop):
        report(0.3, partial="first chunk")
        report(0.6, partial="second chunk")
        release.wait(30)
        return "all"
    sa, sb = a.subscriber(), b.subscriber()
    sa.on_partial, sb.on_partial = parts_a.append, parts_b.append
    service.submit("p", compute, sa)
    _until(lambda: len(parts_a) == 2)
    service.submit("p", compute, sb)
    release.set()
    assert a.done.wait(10) and b.done.wait(10)
    assert parts_a == ["first chunk", "second chunk"]
    assert parts_b == ["second chunk"] and b.value == "all"


def test_a_job_shows_the_latest_part_then_the_result():
    shown, release = [], threading.Event()

    def compute(report, should_stop):
        report(0.5, partial=1)
        release.wait(30)
        report(0.9, partial=2)
        return 3
    job = Job()
    job.start(Cache(4), "partial-job", compute, shown.append, deliver_partial=shown.append)
    _until(lambda: shown == [1])
    release.set()
    assert job.wait(10)
    assert shown[-1] == 3 and shown[:-1] in ([1, 2], [1])


# ------------------------------------------------------------------ computations in pieces

def _part(calls: list, value):
    def compute(report, should_stop):
        calls.append(value)
        report(0.5)
        return value
    return compute


def test_pieces_run_each_part_count_them_in_progress_and_combine_in_order(service):
    calls, got = [], Recorder()
    pieces = Pieces(tuple((("w", w), _part(calls, w)) for w in (8, 16, 32, 64)),
                    lambda values: ("joined", values))
    service.submit("sweep", pieces, got.subscriber())
    assert got.done.wait(10) and got.error is None
    assert got.value == ("joined", [8, 16, 32, 64]) and calls == [8, 16, 32, 64]
    # each part's half way and its end, as a fraction of the whole
    assert got.progress == [0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0]


def test_a_part_in_the_pieces_cache_is_not_computed_again(service):
    cache, calls = Cache(8), []
    first, second = Recorder(), Recorder()
    service.submit("a", Pieces(((("w", 8), _part(calls, 8)), (("w", 16), _part(calls, 16))),
                               list, cache), first.subscriber())
    assert first.done.wait(10) and first.value == [8, 16]
    # another sweep sharing the width 16: only the new width is computed
    service.submit("b", Pieces(((("w", 16), _part(calls, 16)), (("w", 32), _part(calls, 32))),
                               list, cache), second.subscriber())
    assert second.done.wait(10) and second.value == [16, 32]
    assert calls == [8, 16, 32]
    assert second.progress[0] == 0.0 and second.progress[1] == 0.5 + 0.25  # half done at once


def test_a_failing_part_fails_the_task_and_nothing_is_combined(service):
    def broken(report, should_stop):
        raise ValueError("width 16 refused")
    combined, got = [], Recorder()
    service.submit("c", Pieces(((("w", 8), _part([], 8)), (("w", 16), broken)), combined.append),
                   got.subscriber())
    assert got.done.wait(10)
    assert isinstance(got.error, ValueError) and str(got.error) == "width 16 refused"
    assert combined == []


def test_pieces_without_parts_are_refused():
    with pytest.raises(ValueError, match="Pieces: expected at least one part, got none"):
        Pieces((), list)


def test_a_thread_runner_lets_compiled_programs_go_after_each_task(service, monkeypatch):
    """Between tasks the server checks its memory mappings (engine.release_if_crowded), also
    after a task that failed or was given in pieces: a long-lived server compiling thousands
    of programs otherwise dies inside XLA's compile (engine/compiled.py)."""
    from app.jobs import service as service_module

    checks = []
    monkeypatch.setattr(service_module, "release_if_crowded", lambda: checks.append(1))

    def fails(report, should_stop):
        raise ValueError("no")

    for key, compute in [("a", lambda report, should_stop: 1), ("b", fails),
                         ("c", Pieces([("p", lambda report, should_stop: 2)], sum))]:
        done = Recorder()
        service.submit(key, compute, done.subscriber())
        assert done.done.wait(10)
    assert len(checks) == 3


class _Context:
    """A stand-in for a served session's context (a document with one is 'served')."""


def test_a_closed_page_keeps_no_change_that_holds_its_document():
    """Changes held until a page loads, or queued for its event loop, capture the page's
    document; once its session is destroyed they go, and with them the document."""
    import gc
    import weakref

    from bokeh.document import Document

    from app.jobs import background

    context = _Context()
    doc = Document()
    doc._session_context = weakref.ref(context)
    background.page_gate(doc)  # made by this thread: the page being built
    held = threading.Thread(target=background.in_document, args=(doc, lambda: None))
    held.start()
    held.join()
    assert len(background._GATES[doc].pending) == 1  # held for the page's load
    other = Document()
    other._session_context = weakref.ref(context)
    background.page_gate(other).flush()  # a loaded page: changes queue for its next tick
    background.in_document(other, lambda: None)
    assert other in background._QUEUED
    for page in (doc, other):
        for callback in list(page.session_destroyed_callbacks):
            callback(context)
        assert page not in background._GATES and page not in background._QUEUED
    gone = [weakref.ref(doc), weakref.ref(other)]
    del doc, other, page
    gc.collect()
    assert [ref() for ref in gone] == [None, None]
