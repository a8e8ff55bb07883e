"""Images: test accuracy of infinite FC, CNN and residual CNN nets on the 8x8 digits."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

from ..jobs import image_jobs
from ..state.settings import T_GRID
from . import snippets
from .checked_input import checked_input
from .overlays import overlay
from .plotting import COLORS, Glyphs, x_dim
from .session_view import SessionView

CAPTION = """**Images: FC vs CNN vs residual CNN** on the 8×8
digits: test accuracy of the infinite ensemble's class argmaxₖ μₜ(x)ₖ,
μₜ = Θ(x, X) Θ⁻¹(I − e^(−ηΘt/|Y|)) Y, against training time *t* (left, largest training set)
and training-set size (right; solid at the current *t*, dashed at *t* = ∞), each network at
half its own stable learning rate. Look for FC below the convolutional networks once they
have trained, as in the Neural Tangents announcement; on these tiny centred digits the
residual connection adds little over the plain CNN."""

SLUGS = {"FC": "fc", "CNN": "cnn", "Residual CNN": "resnet"}
NET_COLORS = {"FC": COLORS["target"], "CNN": COLORS["closed"], "Residual CNN": COLORS["finite"]}
TIME, SIZE = x_dim("training time t (steps)"), x_dim("training-set size")


def accuracy_dim(result) -> list:
    """The accuracy axis, from a little below the lowest accuracy shown to 1."""
    low = 0.0 if result is None else min(float(a[:, 1:].min()) for a in result.accuracy.values())
    return [hv.Dimension("y", label="test accuracy", range=(max(0.0, low - 0.03), 1.005))]

SETTINGS = {
    "max_train": {"type": pn.widgets.Select, "name": "Largest training set",
                  "css_classes": ["images-max-train"]},
    "n_test": {"type": pn.widgets.IntInput, "name": "Test images",
               "css_classes": ["images-n-test"]},
    "diag_reg": {"type": pn.widgets.FloatInput, "name": "diag_reg (× mean diagonal)",
                 "format": "0.[000000]", "css_classes": ["images-diag-reg"]},
    "seed": {"type": pn.widgets.IntInput, "name": "Split seed", "css_classes": ["images-seed"]},
}


def _setting(images, name: str):
    """The box of one experiment setting; a number out of range is refused next to it."""
    spec = dict(SETTINGS[name])
    widget_type, label = spec.pop("type"), spec.pop("name")
    if widget_type in (pn.widgets.IntInput, pn.widgets.FloatInput):
        return checked_input(images, name, widget_type, label, **spec)
    return widget_type.from_param(images.param[name], name=label, **spec)


class ImagesView(SessionView):
    """Accuracy vs time and vs training-set size; kernels in the background, cached."""

    slug = "images"
    label = "Computing the image kernels (tiled)"
    cache = image_jobs.RESULTS
    WATCHED = [("images", list(SETTINGS))]

    def __init__(self, **params):
        self._glyphs = Glyphs()
        self._time = hv.streams.Pipe(data=None)
        self._size = hv.streams.Pipe(data=None)
        self._marker = hv.streams.Pipe(data=None)
        super().__init__(**params)
        self._marker.update(data=self._marker_t())
        self.session.training.param.watch(self._on_time, "t")

    # ----------------------------------------------------------------- work

    def key(self):
        return self.session.images.key

    work = staticmethod(image_jobs.pieces)  # one task per network and tile

    def show(self, result) -> None:
        self._time.send(result)
        self._on_time()

    def _on_time(self, *events):
        if self.result is not None:
            self._size.send((self.result, self._index()))
        # the marker is patched straight into the rendered Span (ordered on the server's event
        # loop); HoloViews stream events from concurrent callbacks can drop the last move
        t = self._marker_t()
        self._marker.update(data=t)  # what a later redraw of the plot shows
        if not self._glyphs.set("img_time_marker", location=t):
            self._marker.send(t)

    def _marker_t(self) -> float:
        return float(max(self.session.training.t, 1))

    def _index(self) -> int:
        return T_GRID.index(self.session.training.t)

    # ----------------------------------------------------------------- export

    def export_table(self) -> dict:
        """One row per network, training-set size and time."""
        rows = {"network": [], "train_size": [], "t": [], "accuracy": []}
        result = self.result
        if result is None:
            return rows
        for name, accuracy in result.accuracy.items():
            for i, size in enumerate(result.train_sizes):
                for j, t in enumerate(result.t):
                    for column, value in zip(rows, (name, int(size), t, accuracy[i, j])):
                        rows[column].append(value)
        return rows

    def export_python(self) -> str:
        return snippets.images(self.session.images.key)

    # ----------------------------------------------------------------- elements

    def _time_elements(self, data):
        result = data
        elements = []
        for name, slug in SLUGS.items():
            t, accuracy = (np.zeros(0), np.zeros(0)) if result is None else (
                result.t[1:-1], result.accuracy[name][-1, 1:-1])
            elements.append(hv.Curve((t, accuracy), TIME, accuracy_dim(result), label=name).opts(
                color=NET_COLORS[name], line_width=2.5, hooks=[self._glyphs.hook(f"img_time_{slug}")]))
        return overlay(elements)

    def _marker_elements(self, data):
        return hv.VLine(data).opts(color=COLORS["marker"], line_width=2, framewise=True,
                                        hooks=[self._glyphs.hook("img_time_marker")])

    def _size_elements(self, data):
        elements = []
        dims = accuracy_dim(None if data is None else data[0])
        for name, slug in SLUGS.items():
            if data is None:
                sizes = now = final = np.zeros(0)
            else:
                result, index = data
                sizes = result.train_sizes
                now, final = result.accuracy[name][:, index], result.accuracy[name][:, -1]
            elements += [
                hv.Curve((sizes, final), SIZE, dims).opts(
                    color=NET_COLORS[name], line_dash="dashed", line_width=1.5,
                    hooks=[self._glyphs.hook(f"img_size_{slug}_inf")]),
                hv.Curve((sizes, now), SIZE, dims, label=name).opts(
                    color=NET_COLORS[name], line_width=2.5, hooks=[self._glyphs.hook(f"img_size_{slug}")]),
                hv.Scatter((sizes, now), SIZE, dims).opts(
                    color=NET_COLORS[name], size=7)]
        ticks = [int(n) for n in sizes] or self.session.images.train_sizes
        return overlay([e.opts(xticks=ticks) for e in elements])

    def _plots(self):
        marker = hv.DynamicMap(self._marker_elements, streams=[self._marker])
        by_time = (hv.DynamicMap(self._time_elements, streams=[self._time]) * marker).opts(
            logx=True, responsive=True, height=380, title="Test accuracy vs training time",
            legend_position="bottom_right",
            toolbar="above", framewise=True)
        by_size = hv.DynamicMap(self._size_elements, streams=[self._size]).opts(
            logx=True, responsive=True, height=380, title="Test accuracy vs training-set size",
            legend_position="bottom_right", toolbar="above",
            framewise=True)
        return by_time, by_size

    def __panel__(self):
        by_time, by_size = self._plots()
        settings = pn.Row(*(_setting(self.session.images, name) for name in SETTINGS),
                          sizing_mode="stretch_width")
        return pn.Column(
            pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}), settings,
            self.job_bar(),
            pn.Row(pn.pane.HoloViews(by_time, sizing_mode="stretch_width", height=390),
                   pn.pane.HoloViews(by_size, sizing_mode="stretch_width", height=390),
                   sizing_mode="stretch_width"),
            sizing_mode="stretch_width")
