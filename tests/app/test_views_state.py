"""The analysis views' settings: URL state, limits, tab selection, background jobs."""
import json
import threading
import time
import urllib.parse

import panel as pn
import pytest
from panel.io.location import Location

from app.jobs.background import FROM_CACHE, Cancelled, Job
from app.jobs.cache import Cache
from app.state import url
from app.state.analysis_settings import TAB_SLUGS, ImageExperiment, Sweep
from app.state.limits import Limits
from app.state.session import Session
from app.views.registry import TABS
from app.views.tabs import view_tabs, waiting


def _location(**query):
    values = {k: json.dumps(v) if isinstance(v, list) else v for k, v in query.items()}
    return Location(search="?" + urllib.parse.urlencode(values))


def test_the_url_sets_the_view_and_the_analysis_settings():
    session = Session(Limits())
    url.sync(session, _location(view="images", sweep_widths=[8, 64], sweep_seeds=2,
                                sweep_steps=50, samples=300, image_max_train=64,
                                image_n_test=100, image_diag_reg=0.01, image_seed=3))
    assert session.selection.view == "images"
    assert (session.sweep.widths, session.sweep.seeds, session.sweep.steps,
            session.sweep.samples) == ([8, 64], 2, 50, 300)
    assert session.images.key == (64, 100, 0.01, 3)
    assert session.notice == ""


def test_the_session_writes_the_analysis_settings_to_the_url():
    session = Session(Limits())
    location = _location()
    url.sync(session, location)
    session.selection.view = "kernels"
    session.sweep.widths = [16, 256]
    session.images.max_train = 256
    query = location.query_params
    assert query["view"] == "kernels" and query["sweep_widths"] == [16, 256]
    assert query["image_max_train"] == 256


def test_refused_analysis_settings_are_reported():
    session = Session(Limits(max_width=1024))
    url.sync(session, _location(view="nowhere", sweep_widths=[4096], image_max_train=100,
                                sweep_seeds=2))
    assert session.sweep.seeds == 2  # the rest applies
    assert session.selection.view == "dynamics" and 4096 not in session.sweep.widths
    for name in ("view=", "widths=", "max_train="):
        assert name in session.notice


def test_sweep_widths_follow_the_server_limit():
    assert max(Sweep(Limits(max_width=256)).param.widths.objects) == 256
    assert Sweep().sorted_widths == tuple(sorted(Sweep().widths))


def test_image_training_sizes_double_up_to_the_largest():
    assert ImageExperiment(max_train=128).train_sizes == [16, 32, 64, 128]
    assert ImageExperiment(max_train=32).train_sizes == [16, 32]


def test_every_tab_has_a_url_name_and_the_tabs_follow_the_selection():
    assert set(TABS) <= set(TAB_SLUGS)
    session = Session(Limits())
    session.finite.show = False
    tabs = view_tabs(session)
    session.selection.view = "classification"  # a view without background work
    assert tabs.active == list(TABS).index("Classification")
    tabs.active = list(TABS).index("Training dynamics")
    assert session.selection.view == "dynamics"


def test_a_tab_makes_its_views_when_first_shown_and_only_once():
    session = Session(Limits())
    session.finite.show = False
    session.selection.view = "kernels"
    tabs = view_tabs(session)
    made = [bool(body.objects) for body in tabs.objects]
    assert made == [title == "Kernels" for title in TABS]  # only the tab shown
    session.selection.view = "classification"
    classification = tabs.objects[list(TABS).index("Classification")]
    (first,) = classification.objects
    session.selection.view = "kernels"
    session.selection.view = "classification"  # shown again: the same views, not new ones
    assert classification.objects == [first]
    assert sum(bool(body.objects) for body in tabs.objects) == 2


def _slow(report, should_stop, release):
    report(0.5)
    release.wait(30)
    report(1.0)  # raises Cancelled after cancel()
    return "done"


def test_a_job_delivers_caches_and_reports_progress():
    cache, job, got = Cache(4), Job(), []
    release = threading.Event()
    job.start(cache, "k", lambda r, s: _slow(r, s, release), got.append)
    assert job.running and job.status.startswith(("Queued", "Computing"))
    release.set()
    job.wait(30)
    assert got == ["done"] and not job.running and job.progress == 1.0 and job.status == ""
    job.start(cache, "k", lambda r, s: pytest.fail("recomputed"), got.append)
    assert got == ["done", "done"] and not job.running
    assert job.status == "From the server's cache (computed earlier with these settings)."
    job.cancel(status="")  # a new request: the cache status no longer holds
    assert job.status == "" and not job.running


def test_a_cached_result_is_delivered_before_the_status_says_so():
    """A view's waiting line (app/views/tabs.py waiting) is re-evaluated on status changes: on
    a cache hit the status came first, the line saw no result yet and kept saying "the
    figures below are drawn when it is done" under drawn figures."""
    cache, job, got, seen = Cache(4), Job(), [], []
    cache.store("k", "v")
    job.param.watch(lambda event: seen.append((event.new, list(got))), "status")
    job.start(cache, "k", lambda r, s: pytest.fail("recomputed"), got.append)
    assert got == ["v"] and seen[-1] == (FROM_CACHE, ["v"])
    assert all(delivered == ["v"] for status, delivered in seen if status)


def test_the_waiting_line_goes_when_a_cached_result_arrives():
    class Part:
        def __init__(self):
            self.job, self.result = Job(), None
    part, cache = Part(), Cache(4)
    cache.store("k", "v")
    note = waiting(pn.Column(), part)
    part.job.start(cache, "k", lambda r, s: pytest.fail("recomputed"),
                   lambda value: setattr(part, "result", value))
    assert part.result == "v" and part.job.status == FROM_CACHE and not note.visible


def test_a_cancelled_job_delivers_nothing_and_caches_nothing():
    cache, job, got = Cache(4), Job(), []
    release = threading.Event()
    job.start(cache, "k", lambda r, s: _slow(r, s, release), got.append)
    job.cancel()
    release.set()
    job.wait(30)
    assert got == [] and cache.peek("k") is None and job.status.startswith("Stopped")


def test_a_failing_job_says_why():
    def broken(report, should_stop):
        raise ValueError("widths: expected positive integers")
    job = Job()
    job.start(Cache(4), "k", broken, lambda v: None)
    job.wait(30)
    assert job.status == "Failed: widths: expected positive integers" and not job.running


def test_cancelled_is_an_exception_engine_progress_reports_propagate():
    with pytest.raises(Cancelled):
        raise Cancelled()


def test_parts_of_a_result_are_shown_at_most_once_per_interval_and_never_after_it(monkeypatch):
    """The first part at once, then the latest one per PARTIAL_INTERVAL (each redraws the
    session's figures on the shared event loop); a part waiting for its turn never lands
    after the final result."""
    from app.jobs import background
    monkeypatch.setattr(background, "PARTIAL_INTERVAL", 0.5)
    release, first_shown = threading.Event(), threading.Event()

    def compute(report, should_stop):
        report(1 / 40, partial=1)
        first_shown.wait(30)
        for i in range(2, 21):  # nineteen more parts at once: well within the interval
            report(i / 40, partial=i)
        release.wait(30)
        report(0.9, partial=99)  # waits for its turn when the result comes
        return "final"

    shown, job = [], Job()
    job.start(Cache(2), "parts", compute, lambda value: shown.append(("final", value)),
              deliver_partial=lambda part: (shown.append((time.monotonic(), part)),
                                            first_shown.set()))
    deadline = time.monotonic() + 20
    while len(shown) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()  # 99 comes right after the second part was shown: it must wait its turn
    job.wait(30)
    parts = [entry for entry in shown if entry[0] != "final"]
    assert [part for _, part in parts] == [1, 20]  # the first at once, then the latest
    assert parts[1][0] - parts[0][0] >= 0.45
    assert shown[-1] == ("final", "final")  # 99 was waiting: dropped for the final result
