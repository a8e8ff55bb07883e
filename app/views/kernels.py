"""Kernels: NNGP and NTK heatmaps on the current inputs, above the unit-circle curves."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
import param

from ..jobs import kernel_views
from ..state.session import Session
from . import snippets
from .export_bar import ExportBar
from .kernel_angles import AngleKernelsView
from .plotting import Glyphs

HEATMAP_CAPTION = """**Kernels on the training inputs.** The NNGP
K(x, x′) = E[f(x) f(x′)] at initialisation (left) and the NTK Θ(x, x′) = E[∇θf(x) · ∇θf(x′)]
(right), in closed form for the current architecture and data, the points sorted by x,
angle or class. A bright band along the diagonal shows how far the network generalises
from a point; blocks show separable classes."""


class KernelHeatmapsView(pn.viewable.Viewer):
    """Two heatmaps redrawn when the architecture or the data change."""

    session = param.ClassSelector(class_=Session)
    slug = "kernels"

    def __init__(self, **params):
        super().__init__(**params)
        self._glyphs = Glyphs()
        self._maps = hv.streams.Pipe(data=None)
        self.maps: kernel_views.Heatmaps | None = None
        self.session.param.watch(self._on_result, "closed_form")
        self._on_result()

    def _on_result(self, *events):
        maps = kernel_views.heatmaps(self.session)  # the closed form's kernels: a cache hit
        if maps is not None:
            self.maps = maps
            self._maps.send(maps)

    def export_table(self) -> dict:
        maps = self.maps
        if maps is None:
            return {"row": [], "column": [], "nngp": [], "ntk": []}
        rows, columns = np.meshgrid(maps.order, maps.order, indexing="ij")
        return {"row": rows.ravel(), "column": columns.ravel(), "nngp": maps.nngp.ravel(),
                "ntk": maps.ntk.ravel()}

    def export_python(self) -> str:
        code = self.maps.order_code if self.maps is not None else "np.arange(data.n_train)"
        return snippets.train_kernels(self.session.architecture.spec, self.session.data.key,
                                      code)

    def _image(self, name, maps):
        values, label = (np.zeros((1, 1)), "training point") if maps is None else (
            getattr(maps, name), maps.axis_label)
        index = np.arange(len(values))
        dims = [hv.Dimension("x", label=label), hv.Dimension("y", label=label)]
        return hv.Image((index, index, values), dims, hv.Dimension("k", label=name.upper())).opts(
            cmap="viridis", colorbar=True, responsive=True, height=360,
            framewise=True,
            title=f"{name.upper()} of the training inputs", toolbar="above",
            hooks=[self._glyphs.hook(f"kernel_{name}")])

    def __panel__(self):
        panes = [pn.pane.HoloViews(hv.DynamicMap(lambda data, n=name: self._image(n, data),
                                                 streams=[self._maps]),
                                   sizing_mode="stretch_width", height=370)
                 for name in ("nngp", "ntk")]
        return pn.Column(pn.pane.Markdown(HEATMAP_CAPTION, styles={"font-size": "0.9em"}),
                         pn.Row(*panes, sizing_mode="stretch_width"), sizing_mode="stretch_width")


class KernelsView(pn.viewable.Viewer):
    """The kernels tab: the heatmaps above the unit-circle curves, each with its export bar."""

    session = param.ClassSelector(class_=Session)

    def __init__(self, **params):
        super().__init__(**params)
        self.heatmaps = KernelHeatmapsView(session=self.session)
        self.angles = AngleKernelsView(session=self.session)

    def __panel__(self):
        return pn.Column(self.heatmaps, ExportBar(view=self.heatmaps),
                         self.angles, ExportBar(view=self.angles), sizing_mode="stretch_width")
