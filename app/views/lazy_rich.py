"""Lazy vs rich training: the NTK's motion and the test loss against alpha and against width."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

from ..jobs import convergence, lazy_rich_jobs
from .literal import literal
from .overlays import overlay
from .plotting import COLORS, Glyphs, x_dim, y_dims
from .sweep_view import SweepView

CAPTION = """**Lazy vs rich training: two routes to the kernel regime** (Chizat, Oyallon &
Bach 2019). Each finite network is trained through f_α = α (f(θ) − f(θ₀)) with learning
rate η / α²: its function moves at the same speed for every α while its parameters move
O(1/α). Top: how far the empirical NTK moves in *t* steps, ‖Θ̂ₜ − Θ̂₀‖_F / ‖Θ̂₀‖_F, on the
training inputs; bottom: the test loss after *t* steps. Left, against α at one narrow
width; right, against width at α = 1. Dots are networks (seeds), lines their mean; dashed,
the slopes −1 (α) and −½ (width); grey, the test loss of the infinite-width NTK prediction
at *t*. Large α or large width: the NTK stays put and the loss approaches the kernel's
(lazy); small α: the features move (rich)."""


def diverged_note(result) -> str:
    """What a user is told about runs whose training overflowed (they are not drawn)."""
    if not result.diverged:
        return ""
    runs = ", ".join(f"α = {alpha:g} at width {width} (seed {seed})"
                     for _, alpha, width, seed in result.diverged[:4])
    more = f" and {len(result.diverged) - 4} more" if len(result.diverged) > 4 else ""
    return literal(f"Training diverged for {runs}{more}: the step η/α² was too large for "
                   "these networks. They are left out of the plots and are NaN in the CSV; "
                   "choose larger α or a smaller learning rate.")


class LazyRichView(SweepView):
    """Four plots of one sweep; computed in the background, cached server-wide."""

    slug = "lazy-rich"
    tab = "lazy"
    label = "Training networks at each alpha and width"
    cache = lazy_rich_jobs.LAZY_RICH

    def __init__(self, **params):
        self._glyphs = Glyphs()
        self._pipe = hv.streams.Pipe(data=None)
        self.lazy = params["session"].lazy  # in the URL (app/state/url.py)
        self._diverged = pn.pane.Alert("", alert_type="warning", visible=False,
                                       css_classes=["lazy-rich-diverged"])
        super().__init__(**params)
        self.lazy.param.watch(self._start, ["alphas", "width"])

    def key(self):
        s = self.session
        request = s.closed_form.request
        if len(s.closed_form.data.in_shape) != 1:
            self.reason = ("Lazy vs rich training runs on vector inputs (1-D or 2-D data), "
                           "not on images.")
            return None
        if lazy_rich_jobs.inputs(request.data_key, (s.limits.max_train, s.limits.max_test)) \
                is None:
            self.reason = "The test loss needs data with test targets; choose other data."
            return None
        if not self.lazy.alphas:
            self.reason = "Choose at least one alpha."
            return None
        return self._sweep_key() + (self.lazy.sorted_alphas, int(self.lazy.width),
                                    s.sweep.sorted_widths, s.sweep.seeds,
                                    convergence.learning_rate(s), s.sweep.steps)

    compute = staticmethod(lazy_rich_jobs.compute_lazy_rich)  # pickles: runs in a Dask worker

    def show(self, result) -> None:
        self._diverged.param.update(object=diverged_note(result), visible=bool(result.diverged))
        self._pipe.send(result)

    # ----------------------------------------------------------------- export

    def export_table(self) -> dict:
        """Long format: sweep ('alpha' or 'width'), alpha, width, seed, quantity, value."""
        rows = {name: [] for name in ("sweep", "alpha", "width", "seed", "quantity", "value")}
        r = self.result
        if r is None:
            return rows

        def add(sweep, alpha, width, seed, quantity, value):
            for column, v in zip(rows, (sweep, float(alpha), int(width), int(seed), quantity,
                                        float(value))):
                rows[column].append(v)
        for s, seed in enumerate(r.seeds):
            for a, alpha in enumerate(r.alphas):
                add("alpha", alpha, r.width, seed, "relative_change", r.change_by_alpha[a, s])
                add("alpha", alpha, r.width, seed, "test_loss", r.test_loss_by_alpha[a, s])
            for w, width in enumerate(r.widths):
                add("width", r.alpha, width, seed, "relative_change", r.change_by_width[w, s])
                add("width", r.alpha, width, seed, "test_loss", r.test_loss_by_width[w, s])
        add("limit", float("inf"), 0, -1, "kernel_test_loss", r.kernel_test_loss)
        return rows

    def export_python(self) -> str:
        key = self.key() if self.session.closed_form is not None else None
        if key is None:
            return ""
        _, data_key, limits, alphas, width, widths, seeds, learning_rate, steps = key
        name, params = data_key
        spec = self.session.closed_form.request.spec
        return (
            "import jax\njax.config.update('jax_enable_x64', True)\nimport engine\n\n"
            f"data = engine.make_dataset({name!r}, max_train={limits[0]}, max_test={limits[1]}"
            f"{''.join(f', {k}={v!r}' for k, v in params)})\n"
            f"spec = {spec!r}\n"
            f"step = max(1, len(data.x_test) // {lazy_rich_jobs.MAX_TEST})\n"
            f"r = engine.lazy_rich(spec, data.x_train[:{lazy_rich_jobs.MAX_TRAIN}], "
            f"data.y_train[:{lazy_rich_jobs.MAX_TRAIN}],\n"
            f"    data.x_test[::step][:{lazy_rich_jobs.MAX_TEST}], "
            f"data.y_test[::step][:{lazy_rich_jobs.MAX_TEST}],\n"
            f"    alphas={list(alphas)}, widths={list(widths)}, width={width}, alpha=1.0,\n"
            f"    seeds=range({seeds}), learning_rate={learning_rate!r}, steps={steps})\n"
            "print(r.change_by_alpha, r.change_by_width, r.kernel_test_loss)  # (alpha|width, seed)\n")

    # ----------------------------------------------------------------- elements

    def _plot(self, data, sweep: str, quantity: str):
        """One panel: ``quantity`` ('change' or 'test_loss') against ``sweep`` ('alpha'/'width')."""
        prefix = f"lazy_{quantity}_{sweep}"
        label = "‖Θ̂ₜ − Θ̂₀‖ / ‖Θ̂₀‖" if quantity == "change" else "test loss"
        xd, yd = x_dim("output scale α" if sweep == "alpha" else "width n"), y_dims(label)
        xs = values = means = grid = reference = np.zeros(0)
        limit = np.zeros(0)
        if data is not None:
            grid = (data.alphas if sweep == "alpha" else data.widths).astype(float)
            table = getattr(data, f"{quantity}_by_{sweep}")
            xs, values = np.repeat(grid, table.shape[1]), table.ravel()
            means = table.mean(axis=1)
            if quantity == "change":
                reference = means[0] * (grid / grid[0]) ** (-1.0 if sweep == "alpha" else -0.5)
            else:
                limit = np.full(len(grid), data.kernel_test_loss)
        elements = [
            hv.Curve((grid[:len(reference)], reference), xd, yd).opts(
                color=COLORS["target"], line_dash="dashed",
                hooks=[self._glyphs.hook(f"{prefix}_theory")]),
            hv.Curve((grid[:len(limit)], limit), xd, yd).opts(
                color=COLORS["target"], line_width=2, hooks=[self._glyphs.hook(f"{prefix}_limit")]),
            hv.Scatter((xs, values), xd, yd).opts(
                color=COLORS["finite"] if sweep == "alpha" else COLORS["closed"], size=6,
                alpha=0.6, hooks=[self._glyphs.hook(prefix)]),
            hv.Curve((grid, means), xd, yd).opts(
                color=COLORS["finite"] if sweep == "alpha" else COLORS["closed"], line_width=2.5,
                hooks=[self._glyphs.hook(f"{prefix}_mean")]),
        ]
        where = f"at width {data.width}" if data is not None and sweep == "alpha" else \
            ("at α = 1" if sweep == "width" else "")
        what = "NTK motion" if quantity == "change" else "test loss"
        return overlay(elements, logx=True, logy=True, responsive=True, height=330,
                       toolbar="above", show_legend=False,
                       title=f"{what} against {'α' if sweep == 'alpha' else 'width'} {where}")

    def __panel__(self):
        panes = {(q, s): pn.pane.HoloViews(
            hv.DynamicMap(lambda data, q=q, s=s: self._plot(data, s, q), streams=[self._pipe]),
            sizing_mode="stretch_width", height=340, linked_axes=False)  # own ranges
            for q in ("change", "test_loss") for s in ("alpha", "width")}
        alphas = pn.widgets.MultiChoice.from_param(self.lazy.param.alphas, name="Output scales α",
                                                   css_classes=["lazy-rich-alphas"])
        width = pn.widgets.Select.from_param(self.lazy.param.width, name="Width of the α sweep",
                                             css_classes=["lazy-rich-width"])
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}),
                         pn.Row(alphas, width, sizing_mode="stretch_width"),
                         self.settings("widths", "seeds", "steps"), self.job_bar(),
                         self._notice, self._diverged,
                         pn.Row(panes["change", "alpha"], panes["change", "width"],
                                sizing_mode="stretch_width"),
                         pn.Row(panes["test_loss", "alpha"], panes["test_loss", "width"],
                                sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")

