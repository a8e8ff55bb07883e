"""What the width-sweep views share: start when shown, restart on a new setting, a job bar.

A subclass names its tab (``slug``), the settings it depends on (``WATCHED``), how to make
its cache key (``key()``, None when the current settings cannot be swept, with a reason
in ``self.reason``), the cache, the engine call and what to do with a result.
"""
from __future__ import annotations

import functools
import panel as pn
import param

from ..jobs.background import Job
from ..jobs.convergence import spec_key
from ..state.session import Session
from .checked_input import checked_input
from .job_bar import JobBar, on_page_load
from .literal import literal


SWEEP_WIDGETS = {
    "widths": {"type": pn.widgets.MultiChoice, "name": "Widths"},
    "seeds": {"type": pn.widgets.IntInput, "name": "Seeds per width"},
    "steps": {"type": pn.widgets.IntInput, "name": "Training steps (kernel motion)"},
    "samples": {"type": pn.widgets.IntInput, "name": "Networks per width"},
}


class SweepView(pn.viewable.Viewer):
    """A view computed by a width sweep in the background.

    Each subclass defines ``cache`` (an app.jobs.cache.Cache), ``key()`` (the cache key of the
    current settings, or None with ``self.reason`` set when the view cannot be drawn),
    ``compute(key, report, should_stop)`` (the engine call: a module-level function as a
    ``staticmethod``, so that it pickles and runs in a Dask worker) and ``show(result)``.
    A sweep whose widths are independent parts overrides ``work(key)`` to give its
    ``Pieces`` (app/jobs/service.py): one task per width, side by side on the workers.
    """

    session = param.ClassSelector(class_=Session)

    slug = ""    # names files and CSS classes
    tab = ""     # the tab (session.selection.view) in which it shows; default: slug
    label = "Computing"
    #: (owner, [parameters]) of the session whose change restarts the sweep
    WATCHED: list = [("sweep", ["widths", "seeds", "steps", "samples"])]

    def __init__(self, **params):
        super().__init__(**params)
        self.job = Job()
        self.result = None
        self.reason = ""
        self._notice = pn.pane.Alert("", alert_type="info", visible=False,
                                     css_classes=[f"{self.slug}-notice"])
        for owner, names in self.WATCHED:
            getattr(self.session, owner).param.watch(self._start, names)
        self.session.param.watch(self._start, ["closed_form", "stack_error", "data_error"])
        self.session.selection.param.watch(self._start, "view")
        on_page_load(self._resend)
        self._start()

    def _resend(self) -> None:
        if self.result is not None:
            self.show(self.result)

    # ------------------------------------------------------------- work

    def _start(self, *events):
        if self.session.selection.view != (self.tab or self.slug) or self.session.closed_form is None:
            return
        invalid = self.session.stack_error or self.session.data_error
        self.reason = "Fix the architecture or the data settings first." if invalid else ""
        if not invalid and self._pending():
            return  # a new closed form is on its way; its arrival starts this sweep
        key = None if invalid else self.key()
        self._notice.param.update(object=literal(self.reason), visible=key is None)
        if key is None:
            self.job.cancel(status="")
            return
        self.job.start(self.cache, key, self.work(key), self._deliver, label=self.label)

    def work(self, key):
        """What the job service runs for ``key``: a module-level function and the key, which
        pickles to run in a Dask worker."""
        return functools.partial(self.compute, key)

    def _deliver(self, result) -> None:
        self.result = result
        self.show(result)

    def _pending(self) -> bool:
        """A new stack or data is on its way to the shown closed form. Keyed on the shown
        request, the sweep would be computed once more, for the stack being replaced (a
        lesson step sets the stack and the sweep widths at once)."""
        shown, live = self.session.closed_form.request, self.session.request()
        return (spec_key(shown.spec), shown.data_key) != (spec_key(live.spec), live.data_key)

    def _sweep_key(self) -> tuple:
        """The settings every sweep shares: spec (widths free), data, the server limits."""
        s = self.session
        request = s.closed_form.request  # validated: the live spec may not be checked yet
        return (spec_key(request.spec), request.data_key,
                (s.limits.max_train, s.limits.max_test))

    def job_bar(self):
        return JobBar(job=self.job, css_class=f"{self.slug}-job")

    def settings(self, *names):
        """Widgets of the shared sweep settings (the same values in every tab); a number
        out of range is refused next to its box."""
        sweep, boxes = self.session.sweep, []
        for name in names:
            spec = SWEEP_WIDGETS[name]
            css = [f"{self.slug}-{name}"]
            if spec["type"] is pn.widgets.IntInput:
                boxes.append(checked_input(sweep, name, pn.widgets.IntInput, spec["name"],
                                           css_classes=css))
            else:
                boxes.append(spec["type"].from_param(sweep.param[name], name=spec["name"],
                                                     css_classes=css))
        return pn.Row(*boxes, sizing_mode="stretch_width")
