"""The registered views in tabs, each with its export bar; the shown tab is session state.

The tab shown is ``session.selection.view`` (in the URL as ``?view=...``), both ways:
clicking a tab sets it, and a link or a test setting it switches the tab. A tab's views
are made the first time it is shown, and tabs render lazily (``dynamic``): a tab nobody
opens costs neither the server (about a third of a page's construction time) nor the
browser anything.

A view computed in the background (a ``job`` and a ``result``) is never an unexplained
empty figure: until its first result a line above it says what it computes and how far it
is; while it recomputes, its last result is greyed.
"""
from __future__ import annotations

import panel as pn

from . import export
from ..jobs.background import Job
from ..state.analysis_settings import TAB_SLUGS
from .export_bar import ExportBar
from .literal import literal
from .registry import BELOW, TABS

#: each tab's one sentence of what to look for, above its views
LOOK_FOR = {
    "dynamics": "Move t (or press Play): the band contracts onto the training points, and the "
                "red finite networks follow it, closer the wider they are.",
    "convergence": "The distance of the empirical NTK to the limit, and how far it moves while "
                   "training, both fall like n^(−½) as the width n grows.",
    "kernels": "Along the circle, the narrow net's kernels scatter and move when it trains; the "
               "wide net's stay on the black limit curve.",
    "distribution": "Narrow networks' outputs are not Gaussian (for ReLU without biases a spike "
                    "at 0); as the width grows they melt into the dashed NNGP Gaussian.",
    "classification": "The decision boundary and its uncertainty sharpen with t; the finite "
                      "networks' boundary approaches the infinite one as the width grows.",
    "images": "The convolutional kernels beat the fully connected one at every training-set "
              "size: architecture is a prior over functions.",
    "signal-propagation": "Left of the black line (χ₁ < 1) two inputs' correlation goes to 1 "
                          "with depth, right of it to c* < 1, and near the line it changes "
                          "slowest (the longest ξ_c): click there and watch the right plot.",
    "random-matrices": "The histograms settle onto the black laws as the width grows, and the "
                       "distance to the law falls like a straight line in the log-log plot.",
    "lazy": "Larger α (left) makes the NTK move less and the test loss approach the kernel's "
            "grey line; on the right, width does the same more slowly.",
    "recurrent": "Three priors over the same windows: compare the kernels' structure, and "
                 "the three test losses in the bottom title (close on this short task).",
}
LOOK_FOR_CSS = (":host { border-left: 4px solid #f0a020; padding-left: 8px; margin: 4px 0; "
                "font-size: 1.05em; }")


def look_for(slug: str):
    """The tab's sentence of what to look for (our text), or None."""
    text = LOOK_FOR.get(slug)
    return None if text is None else pn.pane.Markdown(
        f"**Look for:** {text}", css_classes=["look-for", f"look-for-{slug}"],
        stylesheets=[LOOK_FOR_CSS], sizing_mode="stretch_width")


#: the last result of a view that is computing again
COMPUTING_CSS = ":host(.computing) { opacity: 0.5; filter: grayscale(0.6); transition: opacity 0.3s; }"
WAITING_CSS = (":host { background: #eef4fb; border-left: 4px solid #3b7dd8; border-radius: 4px; "
               "padding: 0 10px; }")


def computed_parts(view) -> list:
    """The view and its parts that compute in the background (a Job and a result)."""
    candidates = [view, *vars(view).values()]
    return [part for part in candidates
            if isinstance(getattr(part, "job", None), Job) and hasattr(part, "result")]


def waiting(view, part) -> pn.pane.Markdown:
    """The line that stands in for ``part``'s figures until its first result, and greys
    ``view`` while it computes again."""
    label = getattr(part, "label", "Computing")
    note = pn.pane.Markdown("", css_classes=[f"waiting-{getattr(part, 'slug', 'view')}", "waiting"],
                            stylesheets=[WAITING_CSS], visible=False, sizing_mode="stretch_width")

    def show(*events):
        job, empty = part.job, part.result is None
        note.visible = empty and (job.running or bool(job.status))
        if note.visible:
            how_far = f"{100 * job.progress:.0f}% done" if job.running else ""
            status = literal(job.status) if job.status else ""
            note.object = (f"**{label}**: the figures below are drawn when it is done "
                           f"({'; '.join(s for s in (how_far, status) if s)}).")
        computing = job.running and not empty
        classes = [c for c in view.css_classes if c != "computing"]
        view.css_classes = classes + ["computing"] if computing else classes

    part.job.param.watch(show, ["progress", "running", "status"])
    show()
    return note


def _with_placeholder(view):
    body = pn.Column(view, sizing_mode="stretch_width", stylesheets=[COMPUTING_CSS])
    notes = [waiting(body, part) for part in computed_parts(view)]
    return pn.Column(*notes, body, sizing_mode="stretch_width") if notes else view


def _with_export(view):
    shown = _with_placeholder(view)
    if not export.exportable(view):
        return shown
    return pn.Column(shown, ExportBar(view=view), sizing_mode="stretch_width")


def _tab(session, title: str):
    slug = TAB_SLUGS[title]
    row = pn.Row(*(_with_export(view(session=session)) for view in TABS[title]),
                 sizing_mode="stretch_width")
    below = [_with_export(view(session=session)) for view in BELOW.get(title, [])]
    sentence = look_for(slug)
    parts = [part for part in (sentence, row, *below) if part is not None]
    return row if len(parts) == 1 else pn.Column(*parts, sizing_mode="stretch_width")


def view_tabs(session, on_built=None) -> pn.Tabs:
    """The tabs of the registered views; ``on_built()`` runs after a tab's views are made."""
    titles = list(TABS)
    slugs = [TAB_SLUGS[title] for title in titles]
    bodies = [pn.Column(sizing_mode="stretch_width", css_classes=[f"tab-{slug}"]) for slug in slugs]
    tabs = pn.Tabs(*zip(titles, bodies), dynamic=True, sizing_mode="stretch_width",
                   css_classes=["views"])
    selection = session.selection

    def show(index: int) -> None:
        body = bodies[index]
        if not body.objects:  # first shown: make its views (they start work when shown)
            body.objects = [_tab(session, titles[index])]
            if on_built is not None:
                on_built()

    if selection.view in slugs:
        tabs.active = slugs.index(selection.view)
    show(tabs.active)

    def tab_clicked(event):
        show(event.new)
        selection.view = slugs[event.new]

    def view_set(event):
        if event.new in slugs:
            tabs.active = slugs.index(event.new)

    tabs.param.watch(tab_clicked, "active")
    selection.param.watch(view_set, "view")
    return tabs
