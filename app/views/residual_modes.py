"""The training residual along the NTK's eigenvectors: finite networks beside the closed form."""
from __future__ import annotations

import json

import holoviews as hv
import numpy as np
import panel as pn

from ..jobs import convergence, residual_jobs
from . import snippets
from .overlays import overlay
from .plotting import Glyphs, x_dim, y_dims
from .sweep_view import SweepView

CAPTION = """**The residual along the NTK's eigenvectors** (Jacot, Gabriel & Hongler 2018, §5
and Fig. 2). Write the analytic NTK on the training inputs X (at most 64) as
Θ = Σᵢ λᵢ vᵢ vᵢᵀ, largest λ first. Gradient descent on the linearised network maps the train
residual r = f(X) − Y along each eigenvector on its own: vᵢᵀ rₜ = (1 − η λᵢ/|Y|)ᵗ vᵢᵀ r₀
(dashed), so large-eigenvalue directions are learnt first. Solid lines with dots: the same
ratio |vᵢᵀ rₜ| / |vᵢᵀ r₀| for finite networks of the sidebar's width and ensemble size trained
by real gradient descent (mean |vᵢᵀ rₜ| over networks and outputs over its mean at t = 0), up
to this tab's training steps; values below 10⁻⁶ are drawn at 10⁻⁶. **Look for:** each solid
line follows its dashed line of the same colour and falls at its own time, the largest λ
first, until it levels off where the slower directions leak in (a finite network's kernel
differs from Θ by O(n^(−½))): that floor drops as the width grows, and at a narrow width the
lines part from the start."""

#: eigen-directions shown, by rank of their eigenvalue (those beyond the data's are empty)
RANKS = (1, 2, 4, 8, 16)
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b")
#: the lowest ratio drawn (float32 training leaves the residual near 1e-7 of its start)
RATIO_FLOOR = 1e-6


def legend_label(rank: int, eigenvalues) -> str:
    """The legend entry of eigen-direction ``rank``: its eigenvalue, or that there is none."""
    if eigenvalues is None or rank > len(eigenvalues):
        return f"v{rank}: (fewer directions)"
    return f"v{rank}: λ = {eigenvalues[rank - 1]:.3g}"


def series(result, rank: int) -> dict:
    """Direction ``rank``'s curves at t > 0 (log axis): finite networks and closed form."""
    empty = np.zeros(0)
    if result is None or rank > len(result.eigenvalues):
        return {"t": empty, "finite": empty, "theory": empty}
    keep = result.steps > 0
    finite = result.magnitude[keep, rank - 1]
    shown = np.isfinite(finite)  # 0/0: a direction the networks start without
    return {"t": result.steps[keep].astype(float),
            "finite": np.where(shown, np.maximum(finite, RATIO_FLOOR), np.nan),
            "theory": np.maximum(np.abs(result.predicted_discrete[keep, rank - 1]), RATIO_FLOOR)}


class ResidualModesView(SweepView):
    """One log-log plot of the residual's components; computed in the background, cached."""

    slug = "residual-modes"
    tab = "convergence"
    label = "Training networks and projecting their residuals on the NTK's eigenvectors"
    cache = residual_jobs.RESIDUALS
    WATCHED = [("sweep", ["steps"]), ("architecture", ["width"]),
               ("finite", ["ensemble_size", "network_seed"])]

    def __init__(self, **params):
        self._glyphs = Glyphs()
        self._pipe = hv.streams.Pipe(data=None)
        super().__init__(**params)

    def key(self):
        s = self.session
        if len(s.closed_form.data.in_shape) != 1:
            self.reason = ("The residual modes are computed on vector inputs (1-D or 2-D "
                           "data), as the spectrum above.")
            return None
        return self._sweep_key() + (int(s.architecture.width), int(s.finite.ensemble_size),
                                    int(s.finite.network_seed), convergence.learning_rate(s),
                                    int(s.sweep.steps))

    compute = staticmethod(residual_jobs.compute_residual_modes)  # pickles: Dask worker

    def show(self, result) -> None:
        self._pipe.send(result)

    # ----------------------------------------------------------------- export

    def export_table(self) -> dict:
        """Long format: direction (rank), eigenvalue, t, curve (finite | closed_form), value."""
        rows = {name: [] for name in ("direction", "eigenvalue", "t", "curve", "value")}
        r = self.result
        if r is None:
            return rows
        for i, eigenvalue in enumerate(r.eigenvalues):
            for curve, values in (("finite", r.magnitude[:, i]),
                                  ("closed_form", np.abs(r.predicted_discrete[:, i]))):
                for t, value in zip(r.steps, values):
                    for column, v in zip(rows, (i + 1, float(eigenvalue), int(t), curve,
                                                float(value))):
                        rows[column].append(v)
        return rows

    def export_python(self) -> str:
        """A script recomputing the figure: ``r.magnitude`` (finite) and
        ``r.predicted_discrete`` (closed form), (t, direction)."""
        key = self.key() if self.session.closed_form is not None else None
        if key is None:
            return ""
        spec_json, data_key, _, width, size, seed, learning_rate, max_steps = key
        points = convergence.MAX_POINTS
        return (snippets.HEADER + snippets.dataset(data_key) +
                f"spec = {snippets.literal(json.loads(spec_json))}\n"
                f"steps = engine.log_step_grid({max_steps}, {residual_jobs.STEP_POINTS})\n"
                f"r = engine.residual_modes(spec, data.x_train[:{points}], "
                f"data.y_train[:{points}], width={width},\n"
                f"    ensemble_size={size}, learning_rate={learning_rate!r}, steps=steps, "
                f"seed={seed}, float32=True)\n"
                "finite = r.magnitude                            # (t, direction)\n"
                "closed_form = np.abs(r.predicted_discrete)      # (t, direction)\n"
                "print(r.eigenvalues[:4], finite[-1, :4], closed_form[-1, :4])\n")

    # ----------------------------------------------------------------- elements

    def _legend_hook(self, plot, element):
        """Legend entries name each direction's eigenvalue (a legend keeps the labels of its
        first render, so they are written on every update)."""
        legend = plot.state.legend
        data = self._pipe.data
        if not legend:
            return
        eigenvalues = None if data is None else data.eigenvalues
        rank_of = dict(zip(PALETTE, RANKS))  # the items are not in the elements' order
        for item in legend[0].items:
            colors = {getattr(r.glyph, "line_color", None) for r in item.renderers}
            ranks = [rank_of[c] for c in colors if c in rank_of]
            if ranks:
                item.label = {"value": legend_label(ranks[0], eigenvalues)}

    def _plot(self, data):
        t_dim, y_dim = x_dim("training step t"), y_dims("|vᵢᵀ rₜ| / |vᵢᵀ r₀|")
        elements = []
        for rank, color in zip(RANKS, PALETTE):
            s = series(data, rank)
            label = legend_label(rank, None if data is None else data.eigenvalues)
            name = f"residual_modes_{{}}_{rank}"
            elements += [
                hv.Curve((s["t"], s["theory"]), t_dim, y_dim).opts(
                    color=color, line_dash="dashed", line_width=1.5,
                    hooks=[self._glyphs.hook(name.format("theory"))]),
                hv.Curve((s["t"], s["finite"]), t_dim, y_dim).opts(
                    color=color, line_width=2.5, hooks=[self._glyphs.hook(name.format("finite"))]),
                # the legend entry: data that never changes, so its renderer is never
                # replaced (a legend keeps the renderers of its first render)
                hv.Curve(([np.nan], [np.nan]), t_dim, y_dim, label=label).opts(
                    color=color, line_width=2.5),
                hv.Scatter((s["t"], s["finite"]), t_dim, y_dim).opts(
                    color=color, size=6, hooks=[self._glyphs.hook(name.format("points"))]),
            ]
        title = "residual along the NTK's eigenvectors"
        if data is not None:
            title += (f": {data.projections.shape[0]} networks of width {data.width}, "
                      f"η = {data.learning_rate:.3g}")
        return overlay(elements, logx=True, logy=True, responsive=True, height=380,
                       toolbar="above", legend_position="bottom_left", title=title,
                       hooks=[self._legend_hook])

    def __panel__(self):
        plot = pn.pane.HoloViews(hv.DynamicMap(self._plot, streams=[self._pipe]),
                                 sizing_mode="stretch_width", height=390, linked_axes=False)
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}),
                         self.job_bar(), self._notice, plot, sizing_mode="stretch_width",
                         css_classes=["residual-modes"])
