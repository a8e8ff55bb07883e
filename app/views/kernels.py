"""Kernels: NNGP and NTK heatmaps on the current inputs, above the unit-circle curves."""
from __future__ import annotations

import numpy as np
import panel as pn
import param
from bokeh.models import ColorBar, LinearColorMapper
from bokeh.palettes import Viridis256

from ..jobs import kernel_views
from ..state.session import Session
from . import snippets
from .export_bar import ExportBar
from .kernel_angles import AngleKernelsView
from .plotting import Glyphs, figure, source

KERNELS = ("nngp", "ntk")

HEATMAP_CAPTION = """**Kernels on the training inputs.** The NNGP
K(x, x′) = E[f(x) f(x′)] at initialisation (left) and the NTK Θ(x, x′) = E[∇θf(x) · ∇θf(x′)]
(right), in closed form for the current architecture and data, the points sorted by x,
angle or class. A bright band along the diagonal shows how far the network generalises
from a point; blocks show separable classes."""


class KernelHeatmapsView(pn.viewable.Viewer):
    """Two heatmaps, Bokeh images whose data a new closed form writes in place."""

    session = param.ClassSelector(class_=Session)
    slug = "kernels"

    def __init__(self, **params):
        super().__init__(**params)
        self._glyphs = Glyphs()
        self.maps: kernel_views.Heatmaps | None = None
        self._figures = [self._make_figure(name) for name in KERNELS]
        self.session.param.watch(self._on_result, "closed_form")
        self._on_result()

    def _on_result(self, *events):
        maps = kernel_views.heatmaps(self.session)  # the closed form's kernels: a cache hit
        if maps is None:
            return
        self.maps = maps
        for name in KERNELS:
            values = getattr(maps, name)
            n = len(values)
            self._glyphs.patch({f"kernel_{name}": {"image": [values], "x": [-0.5], "y": [-0.5],
                                                   "dw": [n], "dh": [n]}})
            finite = values[np.isfinite(values)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            self._glyphs.set(f"kernel_{name}_colors", low=lo, high=hi if hi > lo else lo + 1)
            for axis in ("x", "y"):
                self._glyphs.set(f"kernel_{name}_{axis}_range", start=-0.5, end=n - 0.5)
                self._glyphs.set(f"kernel_{name}_{axis}_axis", axis_label=maps.axis_label)

    def _make_figure(self, name):
        """An empty heatmap with its colour bar (``_on_result`` writes the kernel)."""
        fig = figure(f"{name.upper()} of the training inputs", "training point",
                     "training point", (-0.5, 0.5), x_range=(-0.5, 0.5), height=360)
        fig.grid.visible = False
        add = self._glyphs.add
        colors = add(f"kernel_{name}_colors", LinearColorMapper(palette=Viridis256, low=0, high=1))
        add(f"kernel_{name}", fig.image(image="image", x="x", y="y", dw="dw", dh="dh",
                                        color_mapper=colors,
                                        source=source(image=[], x=[], y=[], dw=[], dh=[])))
        fig.add_layout(ColorBar(color_mapper=colors, title=name.upper()), "right")
        add(f"kernel_{name}_x_range", fig.x_range)
        add(f"kernel_{name}_y_range", fig.y_range)
        add(f"kernel_{name}_x_axis", fig.xaxis[0])
        add(f"kernel_{name}_y_axis", fig.yaxis[0])
        return fig

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

    def __panel__(self):
        panes = [pn.pane.Bokeh(fig, sizing_mode="stretch_width", height=370)
                 for fig in self._figures]
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
