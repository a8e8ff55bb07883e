"""Function space: what the networks compute, before, during and after training."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param

from ..state.session import Session
from .plotting import (COLORS, Glyphs, band_patch, is_function_plot, plot_inputs, send_together,
                       x_dim, y_dims)

CAPTION = """**Function space.** The training points (black), the target (grey, dashed), and
the infinite-width ensemble at training time *t*: its mean
μₜ(x) = Θ(x, X) Θ⁻¹(I − e^(−ηΘt/|Y|)) Y with a ±2 sd band (blue), next to finite networks of
the chosen width trained by real gradient descent (red: thin lines, their mean and ±2 sd).
At *t* = 0 the band is the prior and the thin lines are draws from it; as the width grows,
the red ensemble settles onto the blue band at every *t*."""

Y_LABEL = "f(x)"
#: what an empty figure says until the closed form arrives
WAITING = "*Computing the closed form…* (its progress is shown above the tabs)"
#: padding around the data and the prior band when fixing the vertical range
MARGIN = 0.08


def _empty_curves():
    return {"x": np.zeros(0), "mean": np.zeros(0), "std": np.zeros(0), "label": "x"}


#: the glyphs of the finite ensemble
FINITE_GLYPHS = ("fs_members", "fs_finite_mean", "fs_finite_band")


class FunctionSpaceView(pn.viewable.Viewer):
    """Training data, closed-form band at t, finite members and their band; patched in place."""

    session = param.ClassSelector(class_=Session)

    def __init__(self, **params):
        super().__init__(**params)
        self._glyphs = Glyphs()
        # one name per pipe: send_together redraws with all three at once
        self._data = hv.streams.Pipe(data=None).rename(data="points")
        self._closed = hv.streams.Pipe(data=_empty_curves()).rename(data="closed")
        self._finite = hv.streams.Pipe(data=None).rename(data="finite")
        self._axis, self._label, self._ylim = np.zeros(0), "x", (-1.5, 1.5)
        self._notice = pn.pane.Alert("", alert_type="info", visible=False)
        # which step the red lines show when it is not t (training not there yet, step limit)
        self._finite_note = pn.pane.Markdown("", visible=False, css_classes=["fs-finite-note"],
                                             styles={"font-size": "0.85em", "color": "#a33"},
                                             margin=(0, 10))
        # the figure is made with its first data (axes made for no data do not follow them)
        self._pane = pn.Column(pn.pane.Markdown(WAITING), sizing_mode="stretch_width",
                               height=430)
        self._empty = True
        self.session.param.watch(self._on_result, "closed_form")
        self.session.param.watch(self._on_finite, "finite_run")
        self.session.training.param.watch(self._on_time, "t")
        self._on_result()

    # ----------------------------------------------------------------- updates

    def _on_result(self, *events):
        result = self.session.closed_form
        shown = result is not None and is_function_plot(result.data)
        if result is None:
            why = "Computing the closed form (its progress is shown above)…"
        else:
            why = ("The function-space view draws one output over one input axis (1-D "
                   "regression, the unit circle); the loss view shows every dataset.")
        self._notice.param.update(visible=not shown, object="" if shown else why)
        self._pane.visible = shown
        if not shown:
            return
        data = result.data
        x_train, self._axis, self._label = plot_inputs(data)
        self._ylim = self._vertical_range(result)
        send_together((self._data, {"x_train": x_train, "y_train": data.y_train[:, 0],
                                    "x_test": self._axis, "y_test": data.y_test[:, 0]}),
                      (self._closed, self._closed_data()), (self._finite, self._finite_data()))
        if self._empty:
            self._empty = False
            self._pane.objects = [pn.pane.HoloViews(self._plot(), sizing_mode="stretch_width",
                                                    height=430)]

    def _vertical_range(self, result) -> tuple[float, float]:
        """Room for the data and the prior's ±2 sd band, so moving t never rescales."""
        prior = result.prior
        values = np.concatenate([result.data.y_train[:, 0], result.data.y_test[:, 0],
                                 prior.mean[:, 0] - 2 * prior.std, prior.mean[:, 0] + 2 * prior.std])
        lo, hi = float(values.min()), float(values.max())
        pad = MARGIN * (hi - lo or 1.0)
        return lo - pad, hi + pad

    def _closed_data(self) -> dict:
        curves = self.session.closed_form.at(self.session.training.t)
        return {"x": self._axis, "mean": curves.mean[:, 0], "std": curves.std,
                "label": self._label}

    def _finite_data(self):
        run = self.session.finite_run
        snapshot = None if run is None else run.at(self.session.training.t)
        if snapshot is None:
            return None
        return {"x": self._axis, "members": snapshot.members[:, :, 0],
                "mean": snapshot.mean[:, 0], "std": snapshot.std[:, 0]}

    def _show_finite_note(self) -> None:
        run, result = self.session.finite_run, self.session.closed_form
        shown = run is not None and result is not None and is_function_plot(result.data)
        text = run.shown_at(self.session.training.t) if shown else ""
        self._finite_note.param.update(object=text, visible=bool(text))

    def _on_finite(self, *events):
        self._show_finite_note()
        if self.session.closed_form is None or not is_function_plot(self.session.closed_form.data):
            return
        finite = self._finite_data()
        if finite is None and self._glyphs.clear(FINITE_GLYPHS):
            # the ensemble went (new settings): its lines emptied in place, not a redraw of
            # the figure on the event loop at every student's change
            self._finite.update(data=None)
            return
        if finite is not None and self._glyphs.patch(self._finite_columns(finite, whole=True)):
            # a delivered part of the training or the whole ensemble: written in place too
            self._finite.update(data=finite)
            return
        self._finite.send(finite)

    @staticmethod
    def _finite_columns(finite: dict, whole: bool = False) -> dict:
        """The finite glyphs' data-source columns: the values only (the time slider), or
        ``whole`` with the horizontal ones (a delivered ensemble, maybe of other members)."""
        x, members, mean, std = finite["x"], finite["members"], finite["mean"], finite["std"]
        columns = {"fs_members": {"ys": list(members)}, "fs_finite_mean": {"y": mean},
                   "fs_finite_band": band_patch(mean - 2 * std, mean + 2 * std)}
        if whole:
            columns["fs_members"]["xs"] = [x] * len(members)
            columns["fs_finite_mean"]["x"] = x
            columns["fs_finite_band"]["x"] = np.append(x, x[::-1])
        return columns

    def _on_time(self, *events):
        self._show_finite_note()
        result = self.session.closed_form
        if result is None or not is_function_plot(result.data):
            return
        closed, finite = self._closed_data(), self._finite_data()
        columns = {"fs_mean": {"y": closed["mean"]},
                   "fs_band": band_patch(closed["mean"] - 2 * closed["std"],
                                         closed["mean"] + 2 * closed["std"])}
        if finite is not None:
            columns.update(self._finite_columns(finite))
        if not self._glyphs.patch(columns):  # not rendered yet, or no finite run drawn yet
            send_together((self._closed, closed), (self._finite, finite))

    # ----------------------------------------------------------------- elements

    def _dims(self, label=None):
        return x_dim(label or self._label), y_dims(Y_LABEL, band=True, range=self._ylim)

    def _band(self, x, mean, std, name, color, alpha):
        kdim, vdims = self._dims()
        return hv.Area((x, mean - 2 * std, mean + 2 * std), kdim, vdims).opts(
            color=color, alpha=alpha, line_alpha=0, hooks=[self._glyphs.hook(name)])

    def _data_elements(self, points):
        if points is None:
            points = {k: np.zeros(0) for k in ("x_train", "y_train", "x_test", "y_test")}
        kdim, vdims = self._dims()
        return hv.Overlay([
            hv.Curve((points["x_test"], points["y_test"]), kdim, vdims[:1]).opts(
                color=COLORS["target"], line_dash="dashed", line_width=1.5,
                hooks=[self._glyphs.hook("fs_target")]),
            hv.Scatter((points["x_train"], points["y_train"]), kdim, vdims[:1]).opts(
                color=COLORS["train"], size=7, hooks=[self._glyphs.hook("fs_train")])])

    def _closed_elements(self, closed):
        x, mean, std = closed["x"], closed["mean"], closed["std"]
        kdim, vdims = self._dims(closed["label"])
        return hv.Overlay([
            self._band(x, mean, std, "fs_band", COLORS["closed"], 0.2),
            hv.Curve((x, mean), kdim, vdims[:1]).opts(
                color=COLORS["closed"], line_width=2.5, hooks=[self._glyphs.hook("fs_mean")])])

    def _finite_elements(self, finite):
        if finite is None:
            finite = {"x": np.zeros(0), "members": np.zeros((0, 0)), "mean": np.zeros(0),
                    "std": np.zeros(0)}
        x = finite["x"]
        kdim, vdims = self._dims()
        return hv.Overlay([
            self._band(x, finite["mean"], finite["std"], "fs_finite_band", COLORS["finite"], 0.12),
            hv.Path([(x, member) for member in finite["members"]], [kdim, vdims[0]]).opts(
                color=COLORS["finite"], alpha=0.45, line_width=1,
                hooks=[self._glyphs.hook("fs_members")]),
            hv.Curve((x, finite["mean"]), kdim, vdims[:1]).opts(
                color=COLORS["finite"], line_width=2, line_dash="dotdash",
                hooks=[self._glyphs.hook("fs_finite_mean")])])

    def _plot(self):
        closed = hv.DynamicMap(self._closed_elements, streams=[self._closed])
        finite = hv.DynamicMap(self._finite_elements, streams=[self._finite])
        data = hv.DynamicMap(self._data_elements, streams=[self._data])
        return (closed * finite * data).opts(
            responsive=True, height=420, show_legend=False, title="Function space",
            framewise=True, toolbar="above")

    def __panel__(self):
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}),
                         self._notice, self._finite_note, self._pane,
                         sizing_mode="stretch_width")
