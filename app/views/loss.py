"""Loss: expected train and test loss of the infinite ensemble against training time."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param

from ..state.session import Session
from ..state.settings import T_GRID
from .function_space import WAITING
from .plotting import COLORS, LOG_FLOOR, Glyphs, send_together, x_dim, y_dims

CAPTION = """**Loss.** The expected loss E[L(t)] of the infinite ensemble on the training
points (solid) and the test points (dashed), L = ½ mean (f(x) − y)², with a band of ±1 sd
across its members; red lines are the finite networks' own losses. Training loss falls
fastest along the kernel's large eigenvalues (e^(−ηλt/|Y|)); the gap to the test loss is
what the network does not generalise. The vertical line marks the current *t*."""

CURVES = ("train", "test")
#: the glyphs of the finite ensemble
FINITE_GLYPHS = tuple(f"loss_finite_{name}{part}" for name in CURVES for part in ("", "_members"))
T_DIM = x_dim("training time t (steps)")


def _curve_data(curve) -> dict:
    """The part of a LossCurve on a log axis (t > 0); the band's lower edge stops a decade
    below the curve's lowest value (mean - sd may reach 0, which a log axis cannot show)."""
    keep = (curve.t > 0) & np.isfinite(curve.mean) & np.isfinite(curve.std)  # overflow: not drawn
    t, mean, std = curve.t[keep], curve.mean[keep], curve.std[keep]
    floor = max(float(mean.min()) / 10, LOG_FLOOR) if len(mean) else LOG_FLOOR
    return {"t": t, "mean": np.maximum(mean, LOG_FLOOR),
            "lower": np.maximum(mean - std, floor), "upper": np.maximum(mean + std, floor)}


class LossView(pn.viewable.Viewer):
    """Closed-form loss curves, finite-ensemble losses, a marker at the current t."""

    session = param.ClassSelector(class_=Session)

    def __init__(self, **params):
        super().__init__(**params)
        self._glyphs = Glyphs()
        self._ylim = (LOG_FLOOR, 1.0)
        # one name per pipe: send_together redraws with all three at once
        self._curves = hv.streams.Pipe(data=None).rename(data="curves")
        self._marker = hv.streams.Pipe(data=None).rename(data="marker")
        self._finite = hv.streams.Pipe(data=None).rename(data="finite")
        # the figure is made with its first data (log axes made for no data do not follow)
        self._pane = pn.Column(pn.pane.Markdown(WAITING), sizing_mode="stretch_width",
                               height=430)
        self._empty = True
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
        self._ylim = self._vertical_range(curves)
        run = self.session.finite_run  # every layer of the figure with the new vertical range
        send_together((self._curves, curves),
                      (self._finite, None if run is None else run.losses()),
                      (self._marker, self._marker_data()))
        if self._empty:
            self._empty = False
            self._pane.objects = [pn.pane.HoloViews(self._plot(), sizing_mode="stretch_width",
                                                    height=430)]

    def _y(self, band: bool = False) -> list:
        """The loss dimension(s), ranging over the current curves (fixed while t moves)."""
        return y_dims("loss", band=band, range=self._ylim)

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
        run = self.session.finite_run
        if run is None and self._glyphs.clear(FINITE_GLYPHS):
            self._finite.update(data=None)  # emptied in place, as in the function-space view
            return
        losses = None if run is None else run.losses()
        if losses is not None and self._glyphs.patch(self._finite_columns(losses)):
            # a delivered part of the training (more steps) or ensemble: written in place
            self._finite.update(data=losses)
            return
        self._finite.send(losses)

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
        """Every column of the finite glyphs' data sources (Path: xs, ys; Curve: x, y)."""
        columns = {}
        for name, (steps, members, mean) in self._finite_lines(finite).items():
            columns[f"loss_finite_{name}_members"] = {"xs": [steps] * len(members),
                                                      "ys": members}
            columns[f"loss_finite_{name}"] = {"x": steps, "y": mean}
        return columns

    def _finite_elements(self, finite):
        elements = []
        for name, (steps, members, mean) in self._finite_lines(finite).items():
            dash = "solid" if name == "train" else "dashed"
            elements.append(hv.Path([(steps, member) for member in members],
                                    [T_DIM, self._y()[0]]).opts(
                color=COLORS["finite"], alpha=0.25, line_width=1, line_dash=dash,
                hooks=[self._glyphs.hook(f"loss_finite_{name}_members")]))
            elements.append(hv.Curve((steps, mean), T_DIM, self._y()).opts(
                color=COLORS["finite"], line_width=2, line_dash=dash,
                hooks=[self._glyphs.hook(f"loss_finite_{name}")]))
        return hv.Overlay(elements)

    def _marker_data(self):
        result = self.session.closed_form
        t = self.session.training.t
        index = T_GRID.index(t)  # the loss curves are computed on the slider's times
        points = {name: float(getattr(result.losses, name).mean[index]) for name in CURVES
                  if getattr(result.losses, name) is not None}
        return {"t": max(t, 1), "points": points, "visible": result.mode != "posterior"}

    def _on_time(self, *events):
        if self.session.closed_form is None:
            return
        marker = self._marker_data()
        visible = bool(events) and all(e.name == "t" for e in events) and marker["visible"]
        n = len(marker["points"])
        patched = visible and self._glyphs.patch({"loss_marker": {
            "x": np.full(n, float(marker["t"])),
            "y": np.maximum(list(marker["points"].values()), LOG_FLOOR)}})
        if patched:
            self._glyphs.set("loss_time", location=float(marker["t"]))
        else:
            self._marker.send(marker)

    # ----------------------------------------------------------------- elements

    def _curve_elements(self, curves):
        elements = []
        for name in CURVES:
            d = (curves or {}).get(name, {"t": [], "mean": [], "lower": [], "upper": []})
            color = COLORS["closed"] if name == "train" else COLORS["test"]
            elements.append(hv.Area((d["t"], d["lower"], d["upper"]), T_DIM, self._y(True))
                            .opts(color=color, alpha=0.15, line_alpha=0,
                                  hooks=[self._glyphs.hook(f"loss_{name}_band")]))
            elements.append(hv.Curve((d["t"], d["mean"]), T_DIM, self._y()).opts(
                color=color, line_width=2.5, line_dash="solid" if name == "train" else "dashed",
                hooks=[self._glyphs.hook(f"loss_{name}")]))
        return hv.Overlay(elements)

    def _marker_elements(self, marker):
        # Drawn from the session as it is now, not from the sent marker: a redraw that lands
        # after a later patch (renders are asynchronous) must not put back an old t.
        if marker is not None and self.session.closed_form is not None:
            marker = {**self._marker_data(), "visible": marker["visible"]}
        marker = marker or {"t": 1, "points": {}, "visible": False}
        xs = [marker["t"]] * len(marker["points"])
        ys = [max(v, LOG_FLOOR) for v in marker["points"].values()]
        alpha = 1.0 if marker["visible"] else 0.0
        return hv.Overlay([
            hv.VLine(marker["t"]).opts(color=COLORS["marker"], line_width=2, alpha=alpha,
                                     hooks=[self._glyphs.hook("loss_time")]),
            hv.Scatter((xs, ys), T_DIM, self._y()).opts(color=COLORS["marker"], size=9, alpha=alpha,
                                                   hooks=[self._glyphs.hook("loss_marker")])])

    def _plot(self):
        curves = hv.DynamicMap(self._curve_elements, streams=[self._curves])
        marker = hv.DynamicMap(self._marker_elements, streams=[self._marker])
        finite = hv.DynamicMap(self._finite_elements, streams=[self._finite])
        return (curves * finite * marker).opts(
            logx=True, logy=True, responsive=True, height=420, title="Loss",
            xlabel="training time t (steps)", ylabel="loss", show_legend=False,
            toolbar="above", framewise=True)

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
