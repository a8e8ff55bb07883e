"""app/lessons: every step sets the state it names through the session's own paths; the URL
names a lesson and a step (an unknown name is refused with a message); the warm-up fills
the caches the views read."""
import threading
import urllib.parse

import pytest
from panel.io.location import Location

from app import warmup
from app.dashboard import HIGHLIGHT, App
from app.jobs import convergence
from app.jobs.background import FROM_CACHE
from app.lessons import LESSONS, Lesson, Step, Teaching, apply_step
from app.lessons.eigen_directions import LESSON as EIGEN
from app.lessons.gaussian_process import LESSON as GAUSSIAN
from app.state import url
from app.state.limits import Limits
from app.state.session import Session
from app.views.distribution import DistributionView
from app.views.images import ImagesView
from app.views.residual_modes import ResidualModesView
from app.views.spectrum import SpectrumView


@pytest.fixture(autouse=True)
def no_results(request, monkeypatch):
    """State tests compute nothing (a lesson's results are the views' tests); the warm-up
    and sweep-once tests compute their step's closed form."""
    if not any(part in request.node.name for part in ("warm_up", "sweep_once")):
        monkeypatch.setattr(Session, "_update_closed_form", lambda self: None)
        monkeypatch.setattr(ImagesView, "_start", lambda self, *events: None)


def _session():
    return Session(Limits())


def test_every_step_sets_its_state_and_outlines_its_controls():
    app = App(session=_session())
    root = app.__panel__()
    teaching, session = app.teaching, app.session
    sent = []  # every outline change (each is an update sent to the browser)
    for obj in root.select(lambda obj: bool(getattr(obj, "css_classes", None))):
        obj.param.watch(lambda event: sent.append((event.obj, event.new)), "css_classes")
    for name, lesson in LESSONS.items():
        for number, step in enumerate(lesson.steps, 1):
            teaching.param.update(lesson=name, step=number)
            assert session.selection.view == step.view
            assert session.training.t == step.t and session.training.mode == "ntk"
            assert session.architecture.width == step.width
            assert session.finite.show is step.show_finite
            if step.widths is not None:
                assert session.sweep.widths == list(step.widths)
            outlined = {c for obj in app._highlighted for c in obj.css_classes}
            assert set(step.highlight) <= outlined, (name, number)
            assert all(HIGHLIGHT in obj.css_classes for obj in app._highlighted)
            everywhere = root.select(lambda obj: HIGHLIGHT in (getattr(obj, "css_classes", None) or []))
            assert {id(obj) for obj in everywhere} == {id(obj) for obj in app._highlighted}
    # eigen step 3 -> 4 keeps the time slider outlined: no remove-then-add pair is sent for it
    teaching.param.update(lesson="eigen", step=3)
    slider = next(obj for obj in app._highlighted if "t-slider" in obj.css_classes)
    sent.clear()
    teaching.step = 4
    assert HIGHLIGHT in slider.css_classes
    assert [new for obj, new in sent if obj is slider] == []
    assert [obj for obj, new in sent] != []  # the Play button lost its outline
    session.wait()  # nothing left running at exit (a killed compile aborts)
    session.close()


def test_a_step_is_the_same_state_whatever_came_before():
    first, second = _session(), _session()
    step = LESSONS["finite"].steps[2]
    apply_step(first, LESSONS["gaussian"].steps[1])
    apply_step(first, step)
    apply_step(second, step)
    for owner in ("architecture", "data", "training", "finite", "sweep", "selection", "images"):
        assert getattr(first, owner).param.values() | {"name": ""} == \
            getattr(second, owner).param.values() | {"name": ""}, owner
    first.wait(), second.wait()
    first.close(), second.close()


def test_next_and_previous_walk_every_step_across_lessons():
    teaching = Teaching(_session())
    total = sum(len(lesson.steps) for lesson in LESSONS.values())
    seen = []
    for _ in range(total):
        teaching.move(1)
        seen.append((teaching.lesson, teaching.step))
    assert seen[0] == ("gaussian", 1) and len(set(seen)) == total
    teaching.move(1)  # past the last step: stays
    assert (teaching.lesson, teaching.step) == seen[-1]
    teaching.move(-1)
    assert (teaching.lesson, teaching.step) == seen[-2]
    teaching.param.update(lesson="kernel", step=1)
    teaching.move(-1)  # before a lesson's first step: the previous lesson's last
    assert (teaching.lesson, teaching.step) == ("gaussian", len(GAUSSIAN.steps))
    teaching.session.wait()
    teaching.session.close()


def test_keys_move_the_steps_and_play():
    app = App(session=_session())
    app.command("next")
    assert (app.teaching.lesson, app.teaching.step) == ("gaussian", 1)
    app.command("next")
    app.command("previous")
    assert app.teaching.step == 1
    app.session.wait()
    app.session.close()


def _location(**query):
    return Location(search="?" + urllib.parse.urlencode(query))


def test_the_url_opens_a_lesson_step_and_the_layout():
    session, location = _session(), _location(lesson="kernel", step="2", layout="present")
    teaching = Teaching(session)
    url.sync(session, location, teaching=teaching)
    assert (teaching.lesson, teaching.step, teaching.layout) == ("kernel", 2, "present")
    assert session.selection.view == "kernels" and session.data.dataset == "unit_circle"
    assert session.notice == ""
    teaching.step = 1
    assert location.query_params["step"] == 1
    session.wait()  # nothing left running at exit (a killed compile aborts)
    session.close()


def test_a_step_reaches_the_url_while_another_thread_writes_it():
    """Panel's Location drops a change made while it is writing another into the URL (its
    one _syncing flag, shared by the server's threads); the step is written again."""
    session, location = _session(), _location(lesson="kernel", step="2")
    teaching = Teaching(session)
    url.sync(session, location, teaching=teaching)
    location._syncing = True  # another thread is in Location._update_query
    teaching.step = 1
    location._syncing = False
    assert location.query_params["step"] == 1 and location.query_params["lesson"] == "kernel"
    session.wait()
    session.close()


def test_an_unknown_lesson_is_refused_with_a_message():
    session = _session()
    teaching = Teaching(session)
    url.sync(session, _location(lesson="<b>nope</b>", step="9"), teaching=teaching)
    assert teaching.lesson == ""
    assert ("lesson='<b>nope</b>' is not a lesson; the lessons are: gaussian, kernel, eigen, "
            "finite, architecture") in session.notice
    session.wait()  # nothing left running at exit (a killed compile aborts)
    session.close()


def test_a_step_beyond_the_lesson_shows_its_last_step():
    teaching = Teaching(_session())
    teaching.param.update(lesson="gaussian", step=3)
    assert teaching.step == len(GAUSSIAN.steps)
    teaching.session.wait()
    teaching.session.close()


@pytest.mark.parametrize("make, message", [
    (lambda: Step("a", "", "", "dynamics"),
     "Step('a'): give exactly one of preset and spec, got preset=None, spec=None"),
    (lambda: Step("a", "", "", "dynamics", preset="nope"),
     "Step('a'): preset must be one of"),
    (lambda: Step("a", "", "", "dynamics", preset="ReLU MLP", t=7),
     "Step('a'): t must be a slider position (one of [0, 1, 2, 3] ... 100000), got 7"),
    (lambda: Lesson("x", "X", ()), "Lesson('x'): steps must not be empty, got ()"),
    (lambda: GAUSSIAN.step(5), "step must be between 1 and 2 in lesson 'gaussian', got 5"),
])
def test_invalid_lessons_are_refused(make, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]").replace(".", r"\.")):
        make()


def test_the_warm_up_fills_the_caches_the_views_read(monkeypatch):
    """The sweep itself is tested with its view; here: the warm-up's key is the view's."""
    cache = type(convergence.DISTRIBUTIONS)(4)
    monkeypatch.setattr(DistributionView, "cache", cache)
    computed = []
    monkeypatch.setattr(DistributionView, "work",
                        lambda self, key: lambda report, stop: computed.append(key) or "sweep")
    monkeypatch.setattr(DistributionView, "show", lambda self, result: None)
    step = GAUSSIAN.steps[0]
    assert warmup.run(Limits(), todo=[step], timeout=300) == 1
    assert warmup.PROGRESS["done"] == warmup.PROGRESS["total"] == 1  # /readiness reports it
    assert warmup.PROGRESS["seconds"] >= 0
    session = _session()
    view = DistributionView(session=session)
    apply_step(session, step)
    session.wait()
    view.job.wait(60)
    assert view.job.status == FROM_CACHE and view.result == "sweep" and len(computed) == 1
    session.wait()  # nothing left running at exit (a killed compile aborts)
    session.close()


def test_the_servers_warm_up_freezes_what_it_left_alive_after_it_has_run(monkeypatch):
    """app/warmup.py run_then_freeze (the warm-up thread's target): the warm-up first, then
    its objects (JAX's traces) out of the cycle collector's walks (app/heap.py)."""
    calls = []
    monkeypatch.setattr(warmup, "run", lambda limits=None: calls.append(("run", limits)))
    monkeypatch.setattr(warmup.heap, "freeze", lambda: calls.append(("freeze",)) or 1)
    limits = Limits()
    warmup.run_then_freeze(limits)
    assert calls == [("run", limits), ("freeze",)]
    monkeypatch.setattr(warmup.threading, "Thread", lambda target, args, **kw: calls.append(
        ("thread", target, args)) or type("T", (), {"start": lambda self: None})())
    monkeypatch.setattr(warmup, "_STARTED", threading.Event())
    monkeypatch.setenv("IWE_WARMUP", "1")
    warmup.start(limits)
    assert calls[-1] == ("thread", warmup.run_then_freeze, (limits,))


def test_the_warm_up_computes_the_views_below_a_tabs_row_too(monkeypatch):
    """The residual modes sit below the Convergence tab's row: the warm-up missed them, and
    the eigen lesson's second step computed them for 34 s in front of the class."""
    computed = {}
    for view in (SpectrumView, ResidualModesView):
        monkeypatch.setattr(view, "cache", type(convergence.SPECTRA)(4))
        monkeypatch.setattr(view, "work", lambda self, key, name=view.__name__:
                            lambda report, stop: computed.setdefault(name, key) and "sweep")
        monkeypatch.setattr(view, "show", lambda self, result: None)
    step = EIGEN.steps[1]
    assert step.view == "convergence"
    assert warmup.run(Limits(), todo=[step], timeout=300) == 1
    assert set(computed) == {"SpectrumView", "ResidualModesView"}


def test_the_distribution_tab_offers_a_non_gaussian_net():
    session = _session()
    view = DistributionView(session=session)
    view.show_non_gaussian()
    assert session.selection.view == "distribution"
    assert session.sweep.widths == [2, 8, 32, 128, 1024]
    assert [layer[1].get("b_std") for layer in session.architecture.spec if layer[0] == "Dense"] \
        == [0.0, 0.0]
    session.wait()  # nothing left running at exit (a killed compile aborts)
    session.close()


def test_every_tab_says_what_to_look_for():
    from app.state.analysis_settings import TAB_SLUGS
    from app.views.tabs import LOOK_FOR
    assert set(LOOK_FOR) == set(TAB_SLUGS.values())
    assert all(text.count(". ") == 0 for text in LOOK_FOR.values())  # one sentence each


def test_a_server_with_a_lower_width_cap_shows_its_widest_in_place():
    """Jacot's step compares widths 512 and 4096; a server capped at 2048 compares 512 with
    2048 (it showed 512 alone, and the step's wide curves never came)."""
    from app.lessons.kernel_stays_put import LESSON

    session = Session(Limits(max_width=2048))
    step = LESSON.steps[1]
    assert step.widths == (512, 4096)
    apply_step(session, step)
    assert session.sweep.widths == [512, 2048]


def test_a_step_that_changes_stack_and_widths_computes_its_sweep_once(monkeypatch):
    """A lesson step sets a new stack and new sweep widths at once: the sweep waited for
    nothing and ran once with the widths on the stack being replaced, then again."""
    computed = []
    monkeypatch.setattr(DistributionView, "cache", type(convergence.DISTRIBUTIONS)(4))
    monkeypatch.setattr(DistributionView, "work",
                        lambda self, key: lambda report, stop: computed.append(key) or "sweep")
    monkeypatch.setattr(DistributionView, "show", lambda self, result: None)
    session = Session(Limits())
    session.wait()
    view = DistributionView(session=session)
    step = GAUSSIAN.steps[0]
    apply_step(session, step)
    session.wait()
    view.job.wait(60)
    assert [key[-2] for key in computed] == [step.widths]
    assert computed[0][0] == convergence.spec_key(session.closed_form.request.spec)
    session.close()
