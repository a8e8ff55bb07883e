"""A background job as the user sees it: progress bar, what it is doing, a stop button."""
from __future__ import annotations

import panel as pn
import param

from ..jobs.background import Job
from .literal import literal


def on_page_load(callback) -> None:
    """Run ``callback`` once the browser has connected to this session.

    Updates a job thread makes before the page's websocket is open can be lost, so views
    send their current state again then (a job often finishes while a page is loading).
    """
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        pn.state.onload(callback)


class JobBar(pn.viewable.Viewer):
    job = param.ClassSelector(class_=Job)
    css_class = param.String(default="job")

    def __panel__(self):
        job = self.job
        bar = pn.indicators.Progress(value=0, max=1000, height=14, width=220, margin=(12, 8),
                                     bar_color="primary", css_classes=[f"{self.css_class}-progress"])
        stop = pn.widgets.Button(label="Stop", width=70, color="warning",
                                 css_classes=[f"{self.css_class}-stop"])
        stop.on_click(job.cancel)
        status = pn.pane.Str("", css_classes=[f"{self.css_class}-status"], margin=(8, 5),
                             styles={"font-size": "0.85em", "color": "#555"})

        def show(*events):
            bar.param.update(value=int(1000 * job.progress), visible=job.running)
            stop.visible = job.running
            status.object = literal(job.status)

        job.param.watch(show, ["progress", "running", "status"])
        on_page_load(show)
        show()
        return pn.Row(bar, stop, status, sizing_mode="stretch_width", height=40)
