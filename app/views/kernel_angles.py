"""Kernels along the unit circle (Jacot et al. 2018, Fig. 1): the limit and finite networks."""
from __future__ import annotations

import numpy as np
import panel as pn

from ..jobs import convergence
from . import snippets
from .plotting import ANGLE_LABEL, COLORS, Glyphs, figure, source
from .sweep_view import SweepView

ANGLE_CAPTION = """**Along the unit circle** (Jacot et al. 2018, Fig. 1):
Θ(x₀, x(γ)) and K(x₀, x(γ)) for x₀ = (1, 0), x(γ) = (cos γ, sin γ): the limit (black) and
finite networks at the narrowest (red) and widest (blue) sweep width, several seeds, at
initialisation (solid) and after gradient descent (dashed) on the points marked ▲ (the
current 2-D data, else Jacot's f(x) = x₁x₂ at four points). The wide networks lie on the
limit and hardly move in training; the narrow ones scatter and drift."""

NARROW, WIDE = "#d62728", "#1f77b4"
STATES = {"init": "solid", "trained": "dashed"}


class AngleKernelsView(SweepView):
    """Analytic and empirical kernels along the unit circle, at init and after training."""

    slug = "kernel-angles"
    tab = "kernels"
    label = "Empirical kernels along the circle (two widths, init and trained)"
    cache = convergence.ANGLE_CURVES

    def __init__(self, **params):
        self._glyphs = Glyphs()
        # Bokeh figures whose data a result writes in place: two HoloViews overlays took
        # ~1 s of the event loop when the tab was first shown (a lesson step)
        self._figures = [self._make_figure(kernel) for kernel in ("ntk", "nngp")]
        super().__init__(**params)

    def _train(self):
        s = self.session
        data_key = s.closed_form.request.data_key if s.closed_form else s.data.key
        return convergence.angle_training_set(data_key, (s.limits.max_train, s.limits.max_test))

    def key(self):
        s = self.session
        try:
            out = convergence.network(s.closed_form.request.spec).output_shape((2,)).dims
        except ValueError:
            out = None
        if out != (1,):
            self.reason = ("The curves along the unit circle need a network of 2-D vector "
                           "inputs with one output (Dense layers first, Dense(out_dim=1) last).")
            return None
        widths = s.sweep.sorted_widths
        # the learning rate follows from the spec and the training set: the job computes it
        return self._sweep_key() + ((widths[0], widths[-1]), s.sweep.seeds, s.sweep.steps)

    compute = staticmethod(convergence.compute_angles)  # pickles: runs in a Dask worker
    # one task per width (app/jobs/service.py Pieces)
    work = staticmethod(convergence.angle_pieces)

    def export_table(self) -> dict:
        """Long format: kernel (ntk/nngp), width (0 = analytic), seed, state, gamma, value."""
        rows = {"kernel": [], "width": [], "seed": [], "state": [], "gamma": [], "value": []}
        r = self.result
        if r is None:
            return rows

        def add(kernel, width, seed, state, values):
            for gamma, v in zip(r.angles, values):
                for column, value in zip(rows, (kernel, int(width), int(seed), state, gamma, v)):
                    rows[column].append(value)
        for kernel in ("ntk", "nngp"):
            add(kernel, 0, -1, "limit", getattr(r, kernel))
            for w, width in enumerate(r.widths):
                for i, seed in enumerate(r.seeds):
                    add(kernel, width, seed, "init", getattr(r, f"{kernel}_init")[w, i])
                    add(kernel, width, seed, "trained", getattr(r, f"{kernel}_trained")[w, i])
        return rows

    def export_python(self) -> str:
        key = self.key() if self.session.closed_form is not None else None
        if key is None:
            return ""
        train = self._train()
        code = (snippets.dataset(self.session.data.key) if train.name == self.session.data.dataset
                else "data = engine.make_dataset('unit_circle')   # Jacot et al.'s points\n")
        return snippets.angles(self.session.architecture.spec, key, code)

    def _make_figure(self, kernel: str):
        """One kernel's empty figure and its named glyphs (``show`` writes their data)."""
        fig = figure(f"{kernel.upper()} along the unit circle", ANGLE_LABEL,
                     f"{'Θ' if kernel == 'ntk' else 'K'}(x₀, x(γ))", (0.0, 1.0),
                     x_range=(-np.pi, np.pi), height=360)
        add = self._glyphs.add
        add(f"angle_{kernel}_title", fig.title)
        add(f"angle_{kernel}_y_range", fig.y_range)
        for size, color in (("narrow", NARROW), ("wide", WIDE)):
            for state, dash in STATES.items():
                add(f"angle_{kernel}_{size}_{state}", fig.multi_line(
                    "xs", "ys", source=source(xs=[], ys=[]), color=color, line_dash=dash,
                    alpha=0.55, line_width=1.2, legend_label=f"{size}est width"))
        add(f"angle_{kernel}", fig.line("x", "y", source=source(x=[], y=[]),
                                        color=COLORS["train"], line_width=3, legend_label="limit"))
        add(f"angle_{kernel}_train", fig.scatter(
            "x", "y", source=source(x=[], y=[]), color=COLORS["target"], marker="triangle",
            size=9, legend_label="training inputs"))
        fig.legend.location = "top_right"
        return fig

    def show(self, result) -> None:
        """Every glyph's data of the delivered curves, the widths in the titles, a vertical
        range that holds them all: written in place, no figure made again."""
        train = self._train()
        angles = np.arctan2(train.x_train[:, 1], train.x_train[:, 0])
        columns = {}
        for kernel in ("ntk", "nngp"):
            limit = getattr(result, kernel)
            values = [limit]
            for w, size in zip(range(len(result.widths)), ("narrow", "wide")):
                for state in STATES:
                    curves = list(getattr(result, f"{kernel}_{state}")[w])
                    values += curves
                    columns[f"angle_{kernel}_{size}_{state}"] = {
                        "xs": [result.angles] * len(curves), "ys": curves}
            columns[f"angle_{kernel}"] = {"x": result.angles, "y": limit}
            columns[f"angle_{kernel}_train"] = {"x": angles,
                                                "y": np.full(len(angles), np.nanmin(limit))}
            finite = np.concatenate([np.ravel(v) for v in values])
            finite = finite[np.isfinite(finite)]
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            pad = 0.05 * (hi - lo or 1.0)
            self._glyphs.set(f"angle_{kernel}_y_range", start=lo - pad, end=hi + pad)
            self._glyphs.set(f"angle_{kernel}_title", text=(
                f"{kernel.upper()} along the unit circle (widths {result.widths[0]} and "
                f"{result.widths[-1]})"))
        self._glyphs.patch(columns)

    def __panel__(self):
        panes = [pn.pane.Bokeh(fig, sizing_mode="stretch_width", height=370)
                 for fig in self._figures]
        return pn.Column(pn.pane.Markdown(ANGLE_CAPTION, styles={"font-size": "0.9em"}),
                         self.settings("widths", "seeds", "steps"), self.job_bar(), self._notice,
                         pn.Row(*panes, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")
