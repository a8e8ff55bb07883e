"""2-D classification: decision function and uncertainty, infinite vs finite, moving with t."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param

from ..state.session import Session
from . import snippets
from .job_bar import on_page_load
from .plotting import Glyphs

CAPTION = """**2-D classification** (TensorFlow Playground's circle,
XOR, two Gaussians, spiral; labels ±1). Top: the infinite ensemble at time *t*, its mean
decision function μₜ(x) = Θ(x, X) Θ⁻¹(I − e^(−ηΘt/|Y|)) Y (the class is its sign) and its
standard deviation; bottom: the finite networks of the chosen width trained by gradient
descent, their mean and spread. Move *t* to watch the boundary grow out of the data and
the uncertainty fall near the points first; widen the networks and the bottom row turns
into the top one."""

NOTICE = ("The classification view draws 2-D classification data: choose circle, xor, "
          "gaussians or spiral under Data.")
PANELS = {"infinite_mean": "Infinite width: mean μₜ(x)",
          "infinite_std": "Infinite width: sd",
          "finite_mean": "Finite ensemble: mean",
          "finite_std": "Finite ensemble: sd"}
LABEL_COLORS = {1: "#b2182b", 0: "#2166ac"}


def is_classification_grid(data) -> bool:
    return (data.is_classification and data.grid_shape is not None
            and len(data.grid_shape) == 2 and data.n_outputs == 1)


class ClassificationView(pn.viewable.Viewer):
    """Four heatmaps over the test grid with the training points; patched as t moves."""

    session = param.ClassSelector(class_=Session)
    slug = "classification"

    def __init__(self, **params):
        super().__init__(**params)
        self._glyphs = Glyphs()
        self._maps = {name: hv.streams.Pipe(data=None) for name in PANELS}
        self._points = hv.streams.Pipe(data=None)
        self._notice = pn.pane.Alert(NOTICE, alert_type="info", visible=False,
                                     css_classes=["classification-notice"])
        # which step the finite maps show when it is not t (training not there yet)
        self._finite_note = pn.pane.Markdown("", visible=False, css_classes=["cls-finite-note"],
                                             styles={"font-size": "0.85em", "color": "#a33"},
                                             margin=(0, 10))
        self._grid = None
        self.session.param.watch(self._on_result, ["closed_form", "finite_run"])
        self.session.training.param.watch(self._on_time, "t")
        on_page_load(self._on_result)
        self._on_result()

    # ----------------------------------------------------------------- updates

    def _on_result(self, *events):
        result = self.session.closed_form
        shown = result is not None and is_classification_grid(result.data)
        self._notice.visible = not shown
        if not shown:
            return
        data = result.data
        x_lo, x_hi, y_lo, y_hi = data.grid_extent
        ny, nx = data.grid_shape
        prior_std = float(result.prior.std.max())
        self._grid = {"xs": np.linspace(x_lo, x_hi, nx), "ys": np.linspace(y_lo, y_hi, ny),
                      "shape": (ny, nx), "std_max": prior_std}
        self._points.send({"x": data.x_train[:, 0], "y": data.x_train[:, 1],
                           "label": data.labels_train})
        self._on_time()

    def maps(self) -> dict:
        """The four grids at the current t (finite ones None without a finite run)."""
        result, t = self.session.closed_form, self.session.training.t
        curves = result.at(t)
        out = {"infinite_mean": curves.mean[:, 0], "infinite_std": curves.std,
               "finite_mean": None, "finite_std": None}
        run = self.session.finite_run
        snapshot = None if run is None else run.at(t)
        if snapshot is not None and snapshot.mean.shape[0] == len(curves.std):
            out.update(finite_mean=snapshot.mean[:, 0], finite_std=snapshot.std[:, 0])
        return out

    def _on_time(self, *events):
        result = self.session.closed_form
        if self._grid is None or result is None or not is_classification_grid(result.data):
            self._finite_note.visible = False
            return
        run = self.session.finite_run
        text = "" if run is None else run.shown_at(self.session.training.t, "Bottom row")
        self._finite_note.param.update(object=text, visible=bool(text))
        for name, values in self.maps().items():
            self._maps[name].send(None if values is None else
                                  np.asarray(values).reshape(self._grid["shape"]))

    # ----------------------------------------------------------------- export

    def export_table(self) -> dict:
        result = self.session.closed_form
        if self._grid is None or result is None or not is_classification_grid(result.data):
            return {"x1": [], "x2": []}
        columns = {"x1": result.data.x_test[:, 0], "x2": result.data.x_test[:, 1]}
        for name, values in self.maps().items():
            columns[name] = (np.full(len(columns["x1"]), np.nan) if values is None
                             else np.asarray(values))
        return columns

    def export_python(self) -> str:
        s = self.session
        result = s.closed_form
        return snippets.closed_form(
            s.architecture.spec, s.data.key, s.training.mode,
            result.learning_rate if result else s.training.learning_rate,
            s.training.diag_reg, s.training.t) + snippets.CLASSIFICATION_NOTE

    # ----------------------------------------------------------------- elements

    def _image(self, name, values):
        grid = self._grid or {"xs": np.linspace(-1, 1, 2), "ys": np.linspace(-1, 1, 2),
                              "shape": (2, 2), "std_max": 1.0}
        missing = values is None  # no finite run yet: drawn transparent
        if missing:
            values = np.zeros(grid["shape"])
        image = hv.Image((grid["xs"], grid["ys"], values), ["x1", "x2"], "f")
        if name.endswith("mean"):
            opts = dict(cmap="RdBu_r", clim=(-1.2, 1.2))
        else:
            opts = dict(cmap="viridis", clim=(0.0, grid["std_max"]))
        return image.opts(colorbar=True, framewise=True, alpha=0.0 if missing else 1.0,
                          hooks=[self._glyphs.hook(f"cls_{name}")], **opts)

    def _point_elements(self, data):
        if data is None:
            data = {"x": np.zeros(0), "y": np.zeros(0), "label": np.zeros(0, int)}
        colors = [LABEL_COLORS[int(label)] for label in data["label"]]
        return hv.Points({"x1": data["x"], "x2": data["y"], "color": colors},
                         ["x1", "x2"], "color").opts(
            color="color", size=6, line_color="white", line_width=1, framewise=True)

    def _panel(self, name):
        image = hv.DynamicMap(lambda data: self._image(name, data), streams=[self._maps[name]])
        points = hv.DynamicMap(self._point_elements, streams=[self._points])
        plot = (image * points).opts(title=PANELS[name], responsive=True, height=330,
                                     aspect=None, toolbar="above", framewise=True)
        return pn.pane.HoloViews(plot, sizing_mode="stretch_width", height=340)

    def __panel__(self):
        panes = [self._panel(name) for name in PANELS]
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}),
                         self._notice, self._finite_note,
                         pn.GridBox(*panes, ncols=2, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")
