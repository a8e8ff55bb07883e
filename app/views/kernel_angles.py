"""Kernels along the unit circle (Jacot et al. 2018, Fig. 1): the limit and finite networks."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

from ..jobs import convergence
from . import snippets
from .overlays import nonempty_paths, overlay
from .plotting import COLORS, Glyphs, x_dim, y_dims
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
        self._pipe = hv.streams.Pipe(data=None)
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

    def show(self, result) -> None:
        self._pipe.send((result, self._train()))

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

    def _elements(self, data, kernel):
        gamma = x_dim("angle γ of x = (cos γ, sin γ)")
        value = y_dims(f"{'Θ' if kernel == 'ntk' else 'K'}(x₀, x(γ))")[0]
        empty = (np.zeros(0), np.zeros(0))
        paths = {(size, state): [] for size in ("narrow", "wide") for state in STATES}
        limit, ticks, title = empty, empty, f"{kernel.upper()} along the unit circle"
        if data is not None:
            r, train = data
            for size, w in zip(("narrow", "wide"), range(len(r.widths))):
                for state in STATES:
                    paths[size, state] = [(r.angles, c) for c in getattr(r, f"{kernel}_{state}")[w]]
            limit = (r.angles, getattr(r, kernel))
            angles = np.arctan2(train.x_train[:, 1], train.x_train[:, 0])
            ticks = (angles, np.full(len(angles), np.nanmin(limit[1])))
            title += f" (widths {r.widths[0]} and {r.widths[-1]})"
        elements = [hv.Path(nonempty_paths(paths[size, state]), [gamma, value]).opts(
            color=NARROW if size == "narrow" else WIDE, line_dash=STATES[state], alpha=0.55,
            line_width=1.2, hooks=[self._glyphs.hook(f"angle_{kernel}_{size}_{state}")])
            for size, state in paths]
        elements += [
            hv.Curve(limit, gamma, value, label="limit").opts(
                color=COLORS["train"], line_width=3, hooks=[self._glyphs.hook(f"angle_{kernel}")]),
            hv.Scatter(ticks, gamma, value, label="training inputs").opts(
                color=COLORS["target"], marker="triangle", size=9)]
        return overlay(elements, responsive=True, height=360, title=title,
                       legend_position="top_right", toolbar="above")

    def __panel__(self):
        panes = [pn.pane.HoloViews(hv.DynamicMap(lambda data, k=kernel: self._elements(data, k),
                                                 streams=[self._pipe]),
                                   sizing_mode="stretch_width", height=370)
                 for kernel in ("ntk", "nngp")]
        return pn.Column(pn.pane.Markdown(ANGLE_CAPTION, styles={"font-size": "0.9em"}),
                         self.settings("widths", "seeds", "steps"), self.job_bar(), self._notice,
                         pn.Row(*panes, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")
