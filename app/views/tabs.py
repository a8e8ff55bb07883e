"""The registered views in tabs, each with its export bar; the shown tab is session state.

The tab shown is ``session.selection.view`` (in the URL as ``?view=...``), both ways:
clicking a tab sets it, and a link or a test setting it switches the tab. Tabs render
lazily (``dynamic``), so a tab nobody opens costs the browser nothing.
"""
from __future__ import annotations

import panel as pn

from .. import export
from ..analysis_settings import TAB_SLUGS
from .export_bar import ExportBar
from .registry import TABS


def _with_export(view):
    if not export.exportable(view):
        return view
    return pn.Column(view, ExportBar(view=view), sizing_mode="stretch_width")


def view_tabs(session) -> pn.Tabs:
    titles = list(TABS)
    slugs = [TAB_SLUGS[title] for title in titles]
    tabs = pn.Tabs(*[(title, pn.Row(*(_with_export(view(session=session)) for view in views),
                                    sizing_mode="stretch_width"))
                     for title, views in TABS.items()],
                   dynamic=True, sizing_mode="stretch_width", css_classes=["views"])
    selection = session.selection
    if selection.view in slugs:
        tabs.active = slugs.index(selection.view)

    def tab_clicked(event):
        selection.view = slugs[event.new]

    def view_set(event):
        if event.new in slugs:
            tabs.active = slugs.index(event.new)

    tabs.param.watch(tab_clicked, "active")
    selection.param.watch(view_set, "view")
    return tabs
