"""Loss: expected train and test loss of the infinite ensemble against training time."""
from __future__ import annotations

import numpy as np
import panel as pn
import param
from bokeh.models import Span

from ..state.session import Session
from ..state.settings import T_GRID
from .function_space import WAITING
from .plotting import COLORS, LOG_FLOOR, Glyphs, band_patch, figure, source

CAPTION = """**Loss.** The expected loss E[L(t)] of the infinite ensemble on the training
points (solid) and the test points (dashed), L = ½ mean (f(x) − y)², with a band of ±1 sd
across its members; red lines are the finite networks' own losses. Training loss falls
fastest along the kernel's large eigenvalues (e^(−ηλt/|Y|)); the gap to the test loss is
what the network does not generalise. The vertical line marks the current *t*."""

CURVES = ("train", "test")
#: the glyphs of the finite ensemble
FINITE_GLYPHS = tuple(f"loss_finite_{name}{part}" for name in CURVES for part in ("", "_members"))
T_LABEL = "training time t (steps)"


def _curve_data(curve) -> dict:
    """The part of a LossCurve on a log axis (t > 0); the band's lower edge stops a decade
    below the curve's lowest value (mean - sd may reach 0, which a log axis cannot show)."""
    keep = (curve.t > 0) & np.isfinite(curve.mean) & np.isfinite(curve.std)  # overflow: not drawn
    t, mean, std = curve.t[keep], curve.mean[keep], curve.std[keep]
    floor = max(float(mean.min()) / 10, LOG_FLOOR) if len(mean) else LOG_FLOOR
    return {"t": t, "mean": np.maximum(mean, LOG_FLOOR),
            "lower": np.maximum(mean - std, floor), "upper": np.maximum(mean + std, floor)}


class LossView(pn.viewable.Viewer):
    """Closed-form loss curves, finite-ensemble losses, a marker at the current t: one Bokeh
    figure whose data sources every change writes in place (plotting.figure)."""

    session = param.ClassSelector(class_=Session)

    def __init__(self, **params):
        super().__init__(**params)
        self._glyphs = Glyphs()
        # the figure is made with the first closed form
        self._pane = pn.Column(pn.pane.Markdown(WAITING), sizing_mode="stretch_width",
                               height=430)
        self._figure = None
        self.session.param.watch(self._on_result, "closed_form")
        self.session.param.watch(self._on_finite, "finite_run")
        self.session.training.param.watch(self._on_time, ["t", "mode"])
        self._on_result()

    def _on_result(self, *events):
        result = self.session.closed_form
        if result is None:
            return
        losses = result.losses
        curves = {name: _curve_data(getattr(losses, name)) for name in CURVES
                  if getattr(losses, name) is not None}
        if self._figure is None:
            self._figure = self._make_figure()
            self._pane.objects = [pn.pane.Bokeh(self._figure, sizing_mode="stretch_width",
                                                height=430)]
        columns = {}
        for name in CURVES:
            d = curves.get(name, {"t": [], "mean": [], "lower": [], "upper": []})
            columns[f"loss_{name}_band"] = {"x": np.append(d["t"], d["t"][::-1]),
                                            **band_patch(d["lower"], d["upper"])}
            columns[f"loss_{name}"] = {"x": d["t"], "y": d["mean"]}
        run = self.session.finite_run
        self._glyphs.patch({**columns, **self._finite_columns(None if run is None
                                                               else run.losses()),
                            **self._marker_columns()})
        lo, hi = self._vertical_range(curves)
        self._glyphs.set("loss_y_range", start=lo, end=hi)
        self._show_marker()

    def _vertical_range(self, curves: dict) -> tuple[float, float]:
        """From a decade below the lowest curve to a bit above the highest band edge."""
        lows = [d["mean"].min() for d in curves.values() if len(d["mean"])]
        highs = [d["upper"].max() for d in curves.values() if len(d["upper"])]
        if not lows:
            return (LOG_FLOOR, 1.0)
        # a diverging run climbs to overflow: show four decades of its climb, not 1e300
        start = max(d["upper"][0] for d in curves.values() if len(d["upper"]))
        return max(min(lows) / 10, LOG_FLOOR), min(max(highs) * 2, start * 1e4)

    def _on_finite(self, *events):
        """An ensemble delivered (a streamed part of its training: more steps) or gone."""
        run = self.session.finite_run
        self._glyphs.patch(self._finite_columns(None if run is None else run.losses()))

    @staticmethod
    def _finite_lines(finite) -> dict:
        """{curve: (steps, member lines, mean line)} as drawn (on the log axis's floor)."""
        lines = {}
        for name in CURVES:
            steps, members, mean = (finite or {}).get(name, (np.zeros(0), np.zeros((0, 0)),
                                                           np.zeros(0)))
            members = [np.maximum(member, LOG_FLOOR) for member in members if len(steps)]
            lines[name] = steps, members, np.maximum(mean, LOG_FLOOR)
        return lines

    def _finite_columns(self, finite) -> dict:
        """Every column of the finite glyphs' data sources (multi-line: xs, ys; line: x, y)."""
        columns = {}
        for name, (steps, members, mean) in self._finite_lines(finite).items():
            columns[f"loss_finite_{name}_members"] = {"xs": [steps] * len(members),
                                                      "ys": members}
            columns[f"loss_finite_{name}"] = {"x": steps, "y": mean}
        return columns

    def _marker_columns(self) -> dict:
        """The marker's points at the current t (one per curve: train, test)."""
        result = self.session.closed_form
        t = self.session.training.t
        index = T_GRID.index(t)  # the loss curves are computed on the slider's times
        points = [float(getattr(result.losses, name).mean[index]) for name in CURVES
                  if getattr(result.losses, name) is not None]
        return {"loss_marker": {"x": np.full(len(points), float(max(t, 1))),
                                "y": np.maximum(points, LOG_FLOOR)}}

    def _show_marker(self) -> None:
        """The marker at t; hidden for the posterior, which has no training time."""
        visible = self.session.closed_form.mode != "posterior"
        self._glyphs.set("loss_marker", visible=visible)
        self._glyphs.set("loss_time", visible=visible,
                         location=float(max(self.session.training.t, 1)))

    def _on_time(self, *events):
        if self.session.closed_form is None:
            return
        self._glyphs.patch(self._marker_columns())
        self._show_marker()

    def _make_figure(self):
        """The figure and its named glyphs, empty (``_on_result`` writes their data)."""
        fig = figure("Loss", T_LABEL, "loss", (LOG_FLOOR, 1.0), log=True)
        add = self._glyphs.add
        add("loss_y_range", fig.y_range)
        for name in CURVES:
            color = COLORS["closed"] if name == "train" else COLORS["test"]
            dash = "solid" if name == "train" else "dashed"
            add(f"loss_{name}_band", fig.patch("x", "y", source=source(x=[], y=[]),
                                               color=color, alpha=0.15, line_alpha=0))
            add(f"loss_{name}", fig.line("x", "y", source=source(x=[], y=[]), color=color,
                                         line_width=2.5, line_dash=dash))
        for name in CURVES:
            dash = "solid" if name == "train" else "dashed"
            add(f"loss_finite_{name}_members", fig.multi_line(
                "xs", "ys", source=source(xs=[], ys=[]), color=COLORS["finite"], alpha=0.25,
                line_width=1, line_dash=dash))
            add(f"loss_finite_{name}", fig.line("x", "y", source=source(x=[], y=[]),
                                                color=COLORS["finite"], line_width=2,
                                                line_dash=dash))
        fig.add_layout(add("loss_time", Span(location=1, dimension="height",
                                             line_color=COLORS["marker"], line_width=2)))
        add("loss_marker", fig.scatter("x", "y", source=source(x=[], y=[]),
                                       color=COLORS["marker"], size=9))
        return fig

    @param.depends("session.training.mode")
    def _mode_note(self):
        notes = {"posterior": "The Bayesian posterior has no training time: the curves show "
                              "readout-only (NNGP) training, whose t → ∞ end is the posterior.",
                 "nngp": "Only the readout layer is trained: the curves follow the NNGP kernel."}
        note = notes.get(self.session.training.mode, "")
        return pn.pane.Markdown(note, visible=bool(note), styles={"font-size": "0.85em"},
                                css_classes=["loss-note"])

    def __panel__(self):
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}),
                         self._mode_note,
                         self._pane,
                         sizing_mode="stretch_width")
