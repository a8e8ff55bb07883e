"""The page: controls on the left, the registered views in tabs on the right, lessons above.

Two layouts (``?layout=present``): the default one fits a 1400 x 900 screen (the controls
and the figures scroll in their own columns, not the page); the presentation one puts the
controls in a drawer and lets the figures fill the screen with large fonts. Keys: → next
lesson step, ← previous, space play/pause (app/views/controls.py Shortcuts).
"""
from __future__ import annotations

import threading
from pathlib import Path

import panel as pn
import param
from bokeh.themes import Theme

from . import warmup
from .lessons import Teaching
from .state import url
from .state.session import Session
from .views.controls import (DataControls, FiniteControls, LessonControls, Shortcuts,
                             TimeControls, TrainingControls)
from .views.job_bar import JobBar
from .views.literal import literal
from .views.stack_editor import StackEditor
from .views.tabs import view_tabs

CSS = (Path(__file__).resolve().parents[1] / "assets" / "app.css").read_text()
TITLE = "Infinite-width explorer"
STALE = ("⚠ The figures show the last valid settings (greyed): a setting was refused; its "
         "message is at the control. Fix it to update them.")
SUBTITLE = ("Stack layers, move width and time, and watch finite networks trained by gradient "
            "descent meet their infinite-width limit (NNGP / NTK).")
#: the outline of a control a lesson step asks to move
HIGHLIGHT_CSS = (":host(.lesson-highlight) { outline: 3px solid #f0a020; outline-offset: 2px; "
                 "border-radius: 4px; background: #fff6e0; }")
HIGHLIGHT = "lesson-highlight"
#: each column scrolls on its own, so the page itself fits the screen (below the header)
COLUMN_STYLES = {"max-height": "calc(100vh - 112px)", "overflow-y": "auto"}
#: the figures' text in the presentation layout (a Bokeh theme of the page's document)
PRESENT_THEME = {"attrs": {
    "Axis": {"axis_label_text_font_size": "20px", "major_label_text_font_size": "16px"},
    "Title": {"text_font_size": "20px"},
    "Legend": {"label_text_font_size": "16px"},
    "ColorBar": {"major_label_text_font_size": "16px", "title_text_font_size": "18px"},
}}
#: Bokeh's own sizes. A theme set after the page has loaded does not reach the browser, so
#: the figures' fonts follow the layout a page is opened with (?layout=present)
DEFAULT_THEME = {"attrs": {
    "Axis": {"axis_label_text_font_size": "13px", "major_label_text_font_size": "11px"},
    "Title": {"text_font_size": "13px"},
    "Legend": {"label_text_font_size": "13px"},
    "ColorBar": {"major_label_text_font_size": "11px", "title_text_font_size": "13px"},
}}


class App(pn.viewable.Viewer):
    session = param.ClassSelector(class_=Session)
    drawer = param.Boolean(default=False, label="☰ Controls", doc="""
        Presentation layout: show the controls' drawer.""")

    def __init__(self, **params):
        params.setdefault("session", Session())
        super().__init__(**params)
        self.teaching = Teaching(self.session)
        self._time = TimeControls(session=self.session)
        self._root = None
        self._highlighted: list = []
        self._highlighting = threading.Lock()
        location, refused = url.page_location(self.session)  # a link's query is untrusted
        if location is not None:
            url.sync(self.session, location, refused, teaching=self.teaching)
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:  # a closed tab stops its work
            pn.state.on_session_destroyed(lambda context: self.session.close())
            warmup.start(self.session.limits)  # once per server (IWE_WARMUP=1)

    # ------------------------------------------------------------- teaching

    def command(self, name: str) -> None:
        """A presenter's key: next, previous, play (play/pause)."""
        if name == "next":
            self.teaching.move(1)
        elif name == "previous":
            self.teaching.move(-1)
        elif name == "play":
            self._time.playing = not self._time.playing

    def _highlight(self, *events) -> None:
        """Outline the controls the lesson step names (their CSS classes), and only those.

        Runs on the thread of a step change or of a tab's first showing; one at a time, and
        a control outlined before and after keeps its classes untouched (no remove-then-add
        pair of updates in flight to the browser)."""
        with self._highlighting:
            step = self.teaching.current
            found = []
            if self._root is not None and step is not None:
                names = set(step.highlight)
                found = self._root.select(
                    lambda obj: bool(names & set(getattr(obj, "css_classes", None) or [])))
            for obj in self._highlighted:
                if not any(obj is other for other in found):
                    obj.css_classes = [c for c in obj.css_classes if c != HIGHLIGHT]
            for obj in found:
                if HIGHLIGHT_CSS not in obj.stylesheets:
                    obj.stylesheets = [*obj.stylesheets, HIGHLIGHT_CSS]
                if HIGHLIGHT not in obj.css_classes:
                    obj.css_classes = [*obj.css_classes, HIGHLIGHT]
            self._highlighted = found

    # ------------------------------------------------------------- parts

    @param.depends("session.notice")
    def _notice(self):
        """The session's notice (refused link values, limits hit), until the visitor closes it."""
        notice = self.session.notice
        close = pn.widgets.Button(label="×", width=32, button_type="light", margin=(10, 5),
                                  css_classes=["session-notice-close"],
                                  description="Close this notice")
        close.on_click(self.dismiss_notice)
        return pn.Row(pn.pane.Alert(literal(notice), alert_type="warning",
                                    css_classes=["session-notice"], sizing_mode="stretch_width"),
                      close, visible=bool(notice), sizing_mode="stretch_width")

    def dismiss_notice(self, event=None) -> None:
        self.session.notice = ""

    @param.depends("session.stack_error", "session.data_error")
    def _stale(self):
        """The figures keep the last valid result while a setting is refused: say so."""
        stale = bool(self.session.stack_error or self.session.data_error)
        return pn.pane.Alert(STALE, alert_type="secondary", visible=stale,
                             css_classes=["stale-notice"])

    def _sidebar(self):
        s = self.session
        return pn.Column(
            pn.Card(self._time, title="Time and width", css_classes=["card-time"]),
            pn.Card(FiniteControls(session=s), title="Finite ensembles", css_classes=["card-finite"]),
            pn.Card(StackEditor(session=s), title="Architecture", css_classes=["card-stack"]),
            pn.Card(TrainingControls(session=s), title="Training", css_classes=["card-training"]),
            pn.Card(DataControls(session=s), title="Data", css_classes=["card-data"]),
            width=420, margin=(0, 10), css_classes=["sidebar"], styles=COLUMN_STYLES)

    def _views(self):
        # tabs + export bars + ?view= (app/views/tabs.py); a tab made later may hold what
        # the lesson step outlines
        return view_tabs(self.session, on_built=self._highlight)

    def _header(self):
        title = pn.pane.HTML(f"<h1>{TITLE}</h1><p>{SUBTITLE}</p>", css_classes=["app-header"],
                             sizing_mode="stretch_width")
        layout = pn.widgets.RadioButtonGroup.from_param(
            self.teaching.param.layout, options={"Default layout": "default",
                                                 "Presentation": "present"},
            name="", width=260, css_classes=["layout-switch"], margin=(14, 10))
        drawer = pn.widgets.Toggle.from_param(self.param.drawer, width=120,
                                              css_classes=["drawer-toggle"], margin=(14, 10))
        keys = Shortcuts(width=0, height=0, margin=0)
        keys.param.watch(lambda event: self.command(event.new.partition(":")[0]), "command")
        return pn.Row(title, layout, drawer, keys, sizing_mode="stretch_width"), title, drawer

    def __panel__(self):
        header, title, drawer_toggle = self._header()
        closed_form = JobBar(job=self.session.closed_form_job, css_class="closed-form")
        views = self._views()
        main = pn.Column(LessonControls(teaching=self.teaching), self._notice, self._stale,
                         closed_form, views, sizing_mode="stretch_width",
                         css_classes=["main-column"], styles=COLUMN_STYLES)
        sidebar = self._sidebar()
        root = pn.Column(header, pn.Row(sidebar, main, sizing_mode="stretch_width",
                                        css_classes=["body-row"]),
                         sizing_mode="stretch_width", stylesheets=[CSS])

        def grey(*events):  # stale figures are greyed (assets/app.css)
            stale = bool(self.session.stack_error or self.session.data_error)
            views.css_classes = ["views", "stale"] if stale else ["views"]

        themed = {"present": None}  # the theme the page has

        def arrange(*events):
            present = self.teaching.layout == "present"
            root.css_classes = ["app", "layout-present" if present else "layout-default"]
            drawer_toggle.visible = present
            title.object = f"<h1>{TITLE}</h1>" + ("" if present else f"<p>{SUBTITLE}</p>")
            sidebar.visible = not present or self.drawer
            main.styles = {**COLUMN_STYLES, "font-size": "1.2em" if present else "1em"}
            doc = pn.state.curdoc
            if doc is None or doc.session_context is None or themed["present"] == present:
                return
            themed["present"] = present
            theme = Theme(json=PRESENT_THEME if present else DEFAULT_THEME)
            # a theme patches every model: on the event loop, under the document's lock (this
            # callback may run on one of the server's threads)
            doc.add_next_tick_callback(lambda: setattr(doc, "theme", theme))

        self.session.param.watch(grey, ["stack_error", "data_error"])
        self.teaching.param.watch(arrange, "layout")
        self.param.watch(arrange, "drawer")
        self.teaching.param.watch(self._highlight, ["lesson", "step"])
        arrange()
        self._root = root
        self._highlight()
        return root
