"""The page: controls on the left, the registered views in tabs on the right."""
from __future__ import annotations

from pathlib import Path

import panel as pn
import param

from . import url
from .state import Session
from .views.job_bar import JobBar
from .views.controls import DataControls, FiniteControls, TimeControls, TrainingControls
from .views.literal import literal
from .views.stack_editor import StackEditor
from .views.tabs import view_tabs

CSS = (Path(__file__).resolve().parents[1] / "assets" / "app.css").read_text()
TITLE = "Infinite-width explorer"
STALE = ("⚠ The figures show the last valid settings (greyed): a setting was refused; its "
         "message is at the control. Fix it to update them.")
SUBTITLE = ("Stack layers, move width and time, and watch finite networks trained by gradient "
            "descent meet their infinite-width limit (NNGP / NTK).")


class App(pn.viewable.Viewer):
    session = param.ClassSelector(class_=Session)

    def __init__(self, **params):
        params.setdefault("session", Session())
        super().__init__(**params)
        location, refused = url.page_location(self.session)  # a link's query is untrusted
        if location is not None:
            url.sync(self.session, location, refused)
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:  # a closed tab stops its work
            pn.state.on_session_destroyed(lambda context: self.session.close())

    @param.depends("session.notice")
    def _notice(self):
        notice = self.session.notice
        return pn.pane.Alert(literal(notice), alert_type="warning", visible=bool(notice),
                             css_classes=["session-notice"])

    @param.depends("session.stack_error", "session.data_error")
    def _stale(self):
        """The figures keep the last valid result while a setting is refused: say so."""
        stale = bool(self.session.stack_error or self.session.data_error)
        return pn.pane.Alert(STALE, alert_type="secondary", visible=stale,
                             css_classes=["stale-notice"])

    def _sidebar(self):
        s = self.session
        return pn.Column(
            pn.Card(TimeControls(session=s), title="Time and width", css_classes=["card-time"]),
            pn.Card(FiniteControls(session=s), title="Finite ensembles", css_classes=["card-finite"]),
            pn.Card(StackEditor(session=s), title="Architecture", css_classes=["card-stack"]),
            pn.Card(TrainingControls(session=s), title="Training", css_classes=["card-training"]),
            pn.Card(DataControls(session=s), title="Data", css_classes=["card-data"]),
            width=420, margin=(0, 10), css_classes=["sidebar"])

    def _views(self):
        return view_tabs(self.session)  # tabs + export bars + ?view= (app/views/tabs.py)

    def __panel__(self):
        header = pn.pane.HTML(f"<h1>{TITLE}</h1><p>{SUBTITLE}</p>", css_classes=["app-header"],
                              sizing_mode="stretch_width")
        closed_form = JobBar(job=self.session.closed_form_job, css_class="closed-form")
        views = self._views()
        main = pn.Column(self._notice, self._stale, closed_form, views,
                         sizing_mode="stretch_width")

        def grey(*events):  # stale figures are greyed (assets/app.css)
            stale = bool(self.session.stack_error or self.session.data_error)
            views.css_classes = ["views", "stale"] if stale else ["views"]
        self.session.param.watch(grey, ["stack_error", "data_error"])
        return pn.Column(header, pn.Row(self._sidebar(), main, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width", stylesheets=[CSS])
