"""Convergence with width: the empirical NTK's spectrum, distance to the limit, motion."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

from ..jobs import convergence
from . import snippets
from .overlays import WIDTH, overlay, width_colors
from .plotting import COLORS, LOG_FLOOR, Glyphs, x_dim, y_dims
from .sweep_view import SweepView

CAPTION = """**Convergence with width.** Left: eigenvalues of the empirical NTK
Θ̂ = ∇θf(X) ∇θf(X)ᵀ on the training inputs X (at most 64) of finite networks at initialisation (dots, coloured by width, several
seeds) beside the analytic NTK's (black). Middle and right: the relative distance
‖Θ̂ − Θ‖_F / ‖Θ‖_F at initialisation, and how far Θ̂ moves in *t* steps of gradient descent,
‖Θ̂ₜ − Θ̂₀‖_F / ‖Θ̂₀‖_F, against width on log-log axes with their fitted slopes. Both should
fall like n^(−½) (dashed): wide networks start at the limit kernel and keep it while they
train (lazy training)."""

THEORY_SLOPE = -0.5


class SpectrumView(SweepView):
    """Three plots of one sweep; computed in the background, cached server-wide."""

    slug = "convergence"
    label = "Sweeping widths (empirical NTKs, then training)"
    cache = convergence.SPECTRA

    def __init__(self, **params):
        self._glyphs = Glyphs()
        self._pipe = hv.streams.Pipe(data=None)
        super().__init__(**params)

    def key(self):
        s = self.session
        data = s.closed_form.data
        if len(data.in_shape) != 1:
            self.reason = ("The width sweeps run on vector inputs (1-D or 2-D data): images "
                           "would need the Jacobian of a CNN per width and seed.")
            return None
        return self._sweep_key() + (s.sweep.sorted_widths, s.sweep.seeds,
                                    convergence.learning_rate(s), s.sweep.steps)

    compute = staticmethod(convergence.compute_convergence)  # pickles: runs in a Dask worker
    # one task per width (app/jobs/service.py Pieces)
    work = staticmethod(convergence.convergence_pieces)

    def show(self, result) -> None:
        self._pipe.send(result)

    # ----------------------------------------------------------------- export

    def export_table(self) -> dict:
        """Long format: quantity, width (0 = analytic), seed, index, value."""
        rows = {"quantity": [], "width": [], "seed": [], "index": [], "value": []}
        if self.result is None:
            return rows
        spectrum, change = self.result.spectrum, self.result.change

        def add(quantity, width, seed, values):
            for i, v in enumerate(np.ravel(values)):
                for column, value in zip(rows, (quantity, int(width), seed, i, float(v))):
                    rows[column].append(value)
        for w, width in enumerate(spectrum.widths):
            add("analytic_eigenvalue", width, -1, spectrum.analytic_eigenvalues[w])
            for s, seed in enumerate(spectrum.seeds):
                add("eigenvalue", width, int(seed), spectrum.eigenvalues[w, s])
                add("distance", width, int(seed), spectrum.distance[w, s])
                add("relative_change", width, int(seed), change.relative_change[w, s])
        return rows

    def export_python(self) -> str:
        key = self.key() if self.session.closed_form is not None else None
        return "" if key is None else snippets.convergence(self.session.architecture.spec, key)

    # ----------------------------------------------------------------- elements

    def _eigen_elements(self, data):
        index_dim, value_dim = x_dim("eigenvalue index"), y_dims("eigenvalue of the NTK")[0]
        points, analytic = ([np.nan],) * 3, (np.zeros(0), np.zeros(0))
        widths = self.session.sweep.sorted_widths
        if data is not None:
            s = data.spectrum
            values = np.maximum(s.eigenvalues, LOG_FLOOR)  # (W, S, N)
            index = np.broadcast_to(np.arange(1, values.shape[2] + 1), values.shape)
            spread = 0.4 * (np.arange(len(s.widths)) / max(len(s.widths) - 1, 1) - 0.5)
            widths = s.widths
            width_of = np.broadcast_to(s.widths[:, None, None], values.shape).astype(float)
            points = ((index + spread[:, None, None]).ravel(), values.ravel(), width_of.ravel())
            analytic = (np.arange(1, values.shape[2] + 1),
                        np.maximum(s.analytic_eigenvalues[0], LOG_FLOOR))
        return overlay([
            hv.Scatter(points, index_dim, [value_dim, WIDTH]).opts(
                size=6, alpha=0.8, hooks=[self._glyphs.hook("spec_eigen")], **width_colors(widths)),
            hv.Curve(analytic, index_dim, value_dim).opts(
                color=COLORS["train"], line_width=2, hooks=[self._glyphs.hook("spec_analytic")]),
        ], logy=True, responsive=True, height=360, toolbar="above",
            title="NTK eigenvalues: empirical (dots) vs analytic (line)", show_legend=False)

    def _versus_width(self, data, quantity, title, prefix):
        width_dim, value_dim = x_dim("width n"), y_dims(title)
        widths = values = means = mean_widths = reference = np.zeros(0)
        slope = float("nan")
        if data is not None:
            sweep = data.spectrum if quantity == "distance" else data.change
            table = getattr(sweep, quantity)
            widths = np.repeat(sweep.widths, table.shape[1]).astype(float)
            values, means, slope = table.ravel(), table.mean(axis=1), sweep.slope
            mean_widths = sweep.widths.astype(float)
            reference = means[0] * (mean_widths / mean_widths[0]) ** THEORY_SLOPE
        return overlay([
            hv.Curve((mean_widths, reference), width_dim, value_dim).opts(
                color=COLORS["target"], line_dash="dashed",
                hooks=[self._glyphs.hook(f"{prefix}_theory")]),
            hv.Scatter((widths, values), width_dim, value_dim).opts(
                color=COLORS["closed"], size=6, alpha=0.6, hooks=[self._glyphs.hook(prefix)]),
            hv.Curve((mean_widths, means), width_dim, value_dim).opts(
                color=COLORS["closed"], line_width=2.5,
                hooks=[self._glyphs.hook(f"{prefix}_mean")]),
        ], logx=True, logy=True, responsive=True, height=360, toolbar="above",
            show_legend=False, title=f"{title}: slope {slope:.2f} (theory −½, dashed)")

    def _distance_elements(self, data):
        return self._versus_width(data, "distance", "‖Θ̂ − Θ‖ / ‖Θ‖ at init", "spec_distance")

    def _change_elements(self, data):
        return self._versus_width(data, "relative_change", "‖Θ̂ₜ − Θ̂₀‖ / ‖Θ̂₀‖ in training",
                                  "spec_change")

    def __panel__(self):
        eigen, distance, change = (
            pn.pane.HoloViews(hv.DynamicMap(fn, streams=[self._pipe]),
                              sizing_mode="stretch_width", height=370)
            for fn in (self._eigen_elements, self._distance_elements, self._change_elements))
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}),
                         self.settings("widths", "seeds", "steps"), self.job_bar(),
                         self._notice, eigen,
                         pn.Row(distance, change, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")
