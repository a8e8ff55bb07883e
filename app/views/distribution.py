"""Output distribution at initialisation: finite widths against the NNGP Gaussian."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn
from scipy import stats

from ..jobs import convergence
from ..lessons import apply_step
from ..lessons.gaussian_process import LESSON as GAUSSIAN
from . import snippets
from .overlays import overlay, width_paths
from .plotting import COLORS, Glyphs, x_dim, y_dims
from .sweep_view import SweepView

CAPTION = """**Output distribution at initialisation.** Histograms of
f(x) at the first training input over many random initialisations, one colour per width,
against the NNGP Gaussian N(0, K(x, x)) (dashed): wide networks are Gaussian processes
(Neal 1996; Lee et al. 2018). Right: the Kolmogorov–Smirnov distance
sup |F̂(u) − Φ(u/√K(x, x))| per width, which falls with width until it reaches the sampling
floor ≈ 0.9/√networks (dotted). Bounded activations such as Erf are close to Gaussian
already at width 2; a ReLU net without biases (the button) is not."""
#: the button's state: the first lesson's last step (ReLU, no bias, widths 2 ... 1024)
NON_GAUSSIAN = GAUSSIAN.steps[-1]

BINS = 40


class DistributionView(SweepView):
    slug = "distribution"
    label = "Drawing networks at initialisation"
    cache = convergence.DISTRIBUTIONS
    WATCHED = [("sweep", ["widths", "samples"])]

    def __init__(self, **params):
        self._glyphs = Glyphs()
        self._pipe = hv.streams.Pipe(data=None)
        super().__init__(**params)

    def key(self):
        s = self.session
        return self._sweep_key() + (s.sweep.sorted_widths, s.sweep.samples)

    compute = staticmethod(convergence.compute_distribution)  # pickles: runs in a Dask worker
    # one task per width (app/jobs/service.py Pieces)
    work = staticmethod(convergence.distribution_pieces)

    def show(self, result) -> None:
        self._pipe.send(result)

    # ----------------------------------------------------------------- export

    def export_table(self) -> dict:
        rows = {"quantity": [], "width": [], "index": [], "value": []}
        result = self.result
        if result is None:
            return rows

        def add(quantity, width, values):
            for i, v in enumerate(np.ravel(values)):
                for column, value in zip(rows, (quantity, int(width), i, float(v))):
                    rows[column].append(value)
        for w, width in enumerate(result.widths):
            add("output", width, result.samples[w, :, 0])
            add("nngp_variance", width, result.nngp_variance[w, :1])
            add("ks_statistic", width, result.ks_statistic[w, :1])
        return rows

    def export_python(self) -> str:
        key = self.key() if self.session.closed_form is not None else None
        return "" if key is None else snippets.distribution(self.session.architecture.spec, key)

    # ----------------------------------------------------------------- elements

    def _histogram_elements(self, data):
        value, density = x_dim("f(x) at initialisation"), y_dims("density")[0]
        steps, gaussian = [], (np.zeros(0), np.zeros(0))
        if data is not None:
            outputs = data.samples[:, :, 0]
            edges = np.linspace(*np.percentile(outputs, [0.5, 99.5]), BINS + 1)
            for w, width in enumerate(data.widths):
                counts, _ = np.histogram(outputs[w], bins=edges, density=True)
                steps.append((np.repeat(edges, 2)[1:-1], np.repeat(counts, 2), width))
            u = np.linspace(edges[0], edges[-1], 200)
            gaussian = (u, stats.norm.pdf(u, scale=np.sqrt(data.nngp_variance[-1, 0])))
        return overlay([
            width_paths(steps, self.session.sweep.sorted_widths if data is None else data.widths,
                        value, density, self._glyphs.hook("dist_hist"), line_width=2),
            hv.Curve(gaussian, value, density).opts(
                color=COLORS["train"], line_dash="dashed", line_width=2.5,
                hooks=[self._glyphs.hook("dist_gaussian")]),
        ], responsive=True, height=380, toolbar="above", show_legend=False,
            title="f(x) at init by width; dashed: NNGP")

    def _ks_elements(self, data):
        width_dim, ks = x_dim("width n"), y_dims("KS distance to N(0, K(x, x))")
        widths = values = floor = np.zeros(0)
        if data is not None:
            widths, values = data.widths.astype(float), data.ks_statistic[:, 0]
            floor = np.full(len(widths), 0.9 / np.sqrt(data.samples.shape[1]))
        return overlay([
            hv.Curve((widths, floor), width_dim, ks).opts(color=COLORS["target"],
                                                          line_dash="dotted"),
            hv.Curve((widths, values), width_dim, ks).opts(color=COLORS["closed"], line_width=2),
            hv.Scatter((widths, values), width_dim, ks).opts(
                color=COLORS["closed"], size=8, hooks=[self._glyphs.hook("dist_ks")]),
        ], logx=True, logy=True, responsive=True, height=380, show_legend=False,
            title="KS distance to the Gaussian (dotted: floor)", toolbar="above")

    def show_non_gaussian(self, event=None) -> None:
        """Load a network whose narrow widths are visibly not Gaussian (and a wide sweep)."""
        apply_step(self.session, NON_GAUSSIAN)

    def __panel__(self):
        example = pn.widgets.Button(label="Show a non-Gaussian narrow net (ReLU, no bias)",
                                    width=360, css_classes=["distribution-example"],
                                    description="Loads a one-layer ReLU net without biases "
                                                "and widths 2 to 1024")
        example.on_click(self.show_non_gaussian)
        panes = [pn.pane.HoloViews(hv.DynamicMap(fn, streams=[self._pipe]),
                                   sizing_mode="stretch_width", height=390)
                 for fn in (self._histogram_elements, self._ks_elements)]
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}),
                         pn.Row(self.settings("widths", "samples"), example,
                                sizing_mode="stretch_width"),
                         self.job_bar(), self._notice,
                         pn.Row(*panes, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")
