"""What every view computed by one background job shares: start when its tab is shown,
start again on a new setting, show its last result until the next arrives, a job bar.

A subclass names its tab (``slug``, or ``tab`` when several views share one), the settings
it depends on (``WATCHED``), the cache its results go to (``cache``), how to make the cache
key of the current settings (``key()``: None when they cannot be drawn, with a reason in
``self.reason``), the work for a key (``compute(key, report, should_stop)`` as a
module-level function so that it pickles to a Dask worker, or ``work(key)``) and what to
do with a result (``show(result)``). The job service (app/jobs/service.py) runs the work;
this class never computes.
"""
from __future__ import annotations

import functools

import panel as pn
import param

from ..jobs.background import Job
from ..state.session import Session
from .job_bar import JobBar, on_page_load
from .literal import literal

#: ``request()``'s answer when the view must wait for the closed form before it knows its key
WAIT = object()


class SessionView(pn.viewable.Viewer):
    """One session's view of one job's result (see the module docstring)."""

    session = param.ClassSelector(class_=Session)

    slug = ""    # names files and CSS classes
    tab = ""     # the tab (session.selection.view) in which it shows; default: slug
    label = "Computing"
    cache = None
    #: (owner, [parameters]) whose change starts the job again; owner "" is the session
    WATCHED: list = []

    def __init__(self, **params):
        super().__init__(**params)
        self.job = Job()
        self.result = None
        self.reason = ""
        self._notice = pn.pane.Alert("", alert_type="info", visible=False,
                                     css_classes=[f"{self.slug}-notice"])
        for owner, names in self.WATCHED:
            (getattr(self.session, owner) if owner else self.session).param.watch(
                self._start, names)
        self.session.selection.param.watch(self._start, "view")
        on_page_load(self._resend)
        self._start()

    def shown(self) -> bool:
        return self.session.selection.view == (self.tab or self.slug)

    def _start(self, *events) -> None:
        if not self.shown():
            return
        key = self.request()
        if key is WAIT:
            return
        self._notice.param.update(object=literal(self.reason), visible=key is None)
        if key is None:
            self.job.cancel(status="")
            return
        self.job.start(self.cache, key, self.work(key), self._deliver, label=self.label)

    def request(self):
        """The cache key to compute, None (cannot be drawn: ``self.reason`` says why) or WAIT."""
        self.reason = ""
        return self.key()

    def key(self):
        raise NotImplementedError

    def work(self, key):
        """What the job service runs for ``key``: a module-level function and the key, which
        pickles to run in a Dask worker."""
        return functools.partial(self.compute, key)

    def show(self, result) -> None:
        raise NotImplementedError

    def _deliver(self, result) -> None:
        self.result = result
        self.show(result)

    def _resend(self) -> None:
        if self.result is not None:
            self.show(self.result)

    def job_bar(self):
        return JobBar(job=self.job, css_class=f"{self.slug}-job")
