"""The session: the settings a user makes and the results derived from them.

One ``Session`` per browser tab is the single source of truth. Every setting change takes
one immutable snapshot of what the closed form depends on (``request()``), and submits its
computation, keyed on that snapshot alone, to the server's job service (app/jobs/background.py);
the event loop and the widget threads never compute. The outcome is applied on the event
loop, and only while its snapshot is still the current one, so a result can never pair
one setting's data with another's kernels. An invalid setting keeps the last valid result
on screen and says what is wrong and where.
"""
from __future__ import annotations

import contextlib

import param

from ..jobs import results
from ..jobs.background import Job
from ..jobs.closed_form import ClosedForm, ClosedFormRequest
from ..jobs.finite_jobs import FiniteEnsembles
from ..jobs.results import SAFE_FRACTION, safe_learning_rate
from ..jobs.service import INTERACTIVE
from . import stack
from .analysis_settings import (  # the analysis views' settings
    ImageExperiment, LazyRichSettings, SequenceSettings, Sweep, ViewSelection)
from .limits import Limits
from .presets import PRESETS
from .settings import DEFAULT_WIDTH, Architecture, Data, Finite, Training
from .theory_settings import MatrixSettings, SignalSettings

__all__ = ["Session", "SAFE_FRACTION", "safe_learning_rate"]

CLOSED_FORM_INPUTS = ["architecture.spec", "data.dataset", "data.n_train", "data.n_test",
                      "data.noise", "data.seed", "training.mode", "training.learning_rate",
                      "training.diag_reg"]


class Session(param.Parameterized):
    architecture = param.ClassSelector(class_=Architecture, instantiate=False)
    data = param.ClassSelector(class_=Data, instantiate=False)
    training = param.ClassSelector(class_=Training, instantiate=False)
    finite = param.ClassSelector(class_=Finite, instantiate=False)
    limits = param.ClassSelector(class_=Limits, instantiate=False)
    # the analysis views (convergence, kernels, distribution, classification, images)
    selection = param.ClassSelector(class_=ViewSelection, instantiate=False)
    sweep = param.ClassSelector(class_=Sweep, instantiate=False)
    images = param.ClassSelector(class_=ImageExperiment, instantiate=False)
    # the theory tabs (signal propagation, random matrices, lazy vs rich, recurrent): here so
    # that a link sets them before their tab is built (app/state/url.py)
    signal = param.ClassSelector(class_=SignalSettings, instantiate=False)
    matrices = param.ClassSelector(class_=MatrixSettings, instantiate=False)
    lazy = param.ClassSelector(class_=LazyRichSettings, instantiate=False)
    sequences = param.ClassSelector(class_=SequenceSettings, instantiate=False)

    closed_form = param.ClassSelector(class_=ClosedForm, default=None, doc="""
        The last valid closed-form result (kept while the settings are invalid).""")
    finite_run = param.Parameter(default=None, doc="""
        The finite ensemble of the current settings (app/jobs/finite_jobs.py), or None.""")
    stack_error = param.String(default="", doc="The engine's message about the layer stack.")
    error_path = param.Parameter(default=None, doc="""
        Editor path of the layer the stack error names.""")
    data_error = param.String(default="", doc="The engine's message about the data settings.")
    notice = param.String(default="", doc="Limits hit, refused requests, automatic changes.")

    def __init__(self, limits: Limits | None = None, **params):
        limits = limits or Limits()
        params.setdefault("architecture", Architecture(limits))
        params.setdefault("data", Data(limits))
        params.setdefault("training", Training())
        params.setdefault("finite", Finite(limits))
        params.setdefault("selection", ViewSelection())  # analysis views: 3 lines
        params.setdefault("sweep", Sweep(limits))
        params.setdefault("images", ImageExperiment())
        for name, settings in (("signal", SignalSettings), ("matrices", MatrixSettings),
                               ("lazy", LazyRichSettings), ("sequences", SequenceSettings)):
            params.setdefault(name, settings())
        super().__init__(limits=limits, **params)
        self._settling = False
        self.closed_form_job = Job(lane=INTERACTIVE)
        self.finite_ensembles = FiniteEnsembles(self)  # trains in the background
        self._update_closed_form()

    # ---------------------------------------------------------------- actions

    def close(self) -> None:
        """Stop background work (the browser tab is gone)."""
        self.closed_form_job.cancel(status="")
        self.finite_ensembles.close()

    def wait(self, timeout: float | None = 120) -> None:
        """Block until the closed form and the finite ensembles of the settings arrived
        (tests, scripts; the app never waits)."""
        self.closed_form_job.wait(timeout)
        self.finite_ensembles.wait(timeout)

    @contextlib.contextmanager
    def one_update(self):
        """Change several settings, then derive the results once."""
        settling, self._settling = self._settling, True
        try:
            yield
        finally:
            self._settling = settling
        if not settling:
            self._update_closed_form()

    def load_preset(self, name: str) -> None:
        """A preset sets everything its picture depends on, whatever came before: the data
        (its settings over the defaults), the learning-rate policy, diag_reg and the width."""
        preset = PRESETS[name]
        data = {k: p.default for k, p in Data.param.objects().items()
                if k in ("dataset", "n_train", "n_test", "noise", "seed")}
        with self.one_update():
            self.data.param.update(**{**data, **preset.settings})
            self.training.param.update(learning_rate=None,
                                       diag_reg=Training.param.diag_reg.default)
            self.architecture.load_preset(name, preset.settings.get("width", DEFAULT_WIDTH))

    # ---------------------------------------------------------------- closed form

    def request(self) -> ClosedFormRequest:
        """One snapshot of every setting the closed form depends on."""
        a, d, t = self.architecture, self.data, self.training
        return ClosedFormRequest(stack.canonical(a.spec), d.key, self.limits.max_train,
                                 self.limits.max_test, t.mode, t.learning_rate, t.diag_reg,
                                 self.limits.spec_limits())

    @param.depends(*CLOSED_FORM_INPUTS, watch=True)
    def _update_closed_form(self) -> None:
        if self._settling:
            return
        request = self.request()
        self.closed_form_job.start(
            results.OUTCOMES, request, lambda report, stop: results.closed_form(request, report),
            lambda outcome: self._apply(request, outcome), label="Computing the closed form")

    def _apply(self, request: ClosedFormRequest, outcome: results.Outcome) -> None:
        """Show ``outcome`` if its snapshot is still current (runs on the document)."""
        if request != self.request():
            return  # the settings moved on; their own request is on its way
        items, error = self.architecture.items, outcome.stack_error
        path = stack.error_path(items, error) if error else None
        self.param.update(data_error=outcome.data_error,
                          stack_error=stack.editor_message(items, error) if error else "",
                          error_path=path)
        result = outcome.result
        # The limit has no width: a width move (or another edit that leaves the kernels)
        # gives the same cached results, and keeping the object spares every view a redraw
        # (seconds for the whole page). The finite ensembles follow the width themselves.
        if result is not None and not result.same_as(self.closed_form):
            self.closed_form = result
