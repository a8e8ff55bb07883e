"""Recurrent networks: the NTKs and predictions of an RNN, an FC and a CNN on sequences."""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

import engine

from ..jobs import recurrent_jobs
from ..state.analysis_settings import SequenceSettings
from .checked_input import checked_input
from .overlays import overlay
from .plotting import COLORS, Glyphs, x_dim, y_dims
from .sweep_view import SweepView

CAPTION = """**Recurrent networks at infinite width** (Yang 2019; Alemohammad et al. 2021).
The task: continue a noisy sine wave, each input a window of *T* samples, the target the
next value. Three networks read the window: a recurrent one (**RNN**, the same weights at
every time step, its last hidden state read out), a fully connected one (**FC**, the window
flattened) and a convolutional one (**CNN**, filters of 3 steps). Top: each one's NTK on the
training windows (closed form; the RNN's by its recursion over pairs of time steps). Bottom:
the infinite ensemble's prediction on test windows after training to convergence, against
the true continuation, with each one's test loss ½ mean (f − y)² in the title."""

MODEL_COLORS = {"RNN": COLORS["finite"], "FC": COLORS["closed"], "CNN": COLORS["marker"]}


class RecurrentView(SweepView):
    """Three NTK heatmaps and one prediction plot, computed in the background."""

    slug = "recurrent"
    label = "Kernels of the RNN, FC and CNN"
    cache = recurrent_jobs.SEQUENCE_COMPARISONS
    WATCHED: list = []

    def __init__(self, **params):
        self._glyphs = Glyphs()
        self._pipe = hv.streams.Pipe(data=None)
        self.sequences = params["session"].sequences  # in the URL (app/state/url.py)
        super().__init__(**params)
        self.sequences.param.watch(self._start, list(SequenceSettings.param)[1:])

    def key(self):
        return self.sequences.key

    compute = staticmethod(recurrent_jobs.compute_sequences)  # pickles: runs in a Dask worker

    def show(self, result) -> None:
        self._pipe.send(result)

    def export_table(self) -> dict:
        """Long format: model, quantity ('ntk', 'prediction', 'target'), row, column, value."""
        rows = {name: [] for name in ("model", "quantity", "row", "column", "value")}
        r = self.result
        if r is None:
            return rows

        def add(model, quantity, i, j, value):
            for column, v in zip(rows, (model, quantity, int(i), int(j), float(value))):
                rows[column].append(v)
        for m, model in enumerate(r.models):
            for (i, j), v in np.ndenumerate(r.ntk_train[m]):
                add(model, "ntk", i, j, v)
            for i, v in enumerate(r.predictions[m]):
                add(model, "prediction", i, 0, v)
        for i, v in enumerate(r.y_test):
            add("", "target", i, 0, v)
        return rows

    def export_python(self) -> str:
        n_train, length, noise, w_std = self.sequences.key
        return (
            "import jax\njax.config.update('jax_enable_x64', True)\nimport engine\n\n"
            f"data = engine.sine_sequences(n_train={n_train}, n_test={recurrent_jobs.N_TEST}, "
            f"length={length}, noise={noise!r})\n"
            "c = engine.compare_sequence_models(data.x_train, data.y_train, data.x_test, "
            f"data.y_test,\n    w_std={w_std!r}, b_std={recurrent_jobs.B_STD!r}, "
            f"diag_reg={recurrent_jobs.DIAG_REG!r})\n"
            "print(dict(zip(c.models, c.test_loss)))  # ntk_train (model, N, N), predictions\n")

    # ----------------------------------------------------------------- elements

    def _heatmap(self, data, m: int, model: str):
        values = np.zeros((1, 1)) if data is None else data.ntk_train[m]
        index = np.arange(len(values))
        dims = [hv.Dimension("x", label="training window"),
                hv.Dimension("y", label="training window")]
        return hv.Image((index, index, values), dims, hv.Dimension("k", label="NTK")).opts(
            cmap="viridis", colorbar=True, responsive=True, height=300, framewise=True,
            title=f"NTK of the {model}", toolbar="above",
            hooks=[self._glyphs.hook(f"rnn_ntk_{model.lower()}")])

    def _predictions(self, data):
        xd, yd = x_dim("true next value"), y_dims("predicted next value")
        elements = [hv.Curve(([-1.0, 1.0], [-1.0, 1.0]), xd, yd, label="exact").opts(
            color=COLORS["target"], line_dash="dashed", hooks=[self._glyphs.hook("rnn_exact")])]
        losses = []
        for m, model in enumerate(engine.SEQUENCE_MODELS):
            xs = ys = np.zeros(0)
            if data is not None:
                xs, ys = data.y_test, data.predictions[m]
                losses.append(f"{model} {data.test_loss[m]:.4f}")
            # labels stay fixed: a changed label would make HoloViews draw new glyphs
            elements.append(hv.Scatter((xs, ys), xd, yd, label=model).opts(
                color=MODEL_COLORS[model], size=5, alpha=0.7,
                hooks=[self._glyphs.hook(f"rnn_pred_{model.lower()}")]))
        title = "Test predictions of the infinite ensembles (t = ∞)"
        return overlay(elements, responsive=True, height=360, toolbar="above",
                       legend_position="top_left",
                       title=f"{title}: test loss {', '.join(losses)}" if losses else title)

    def __panel__(self):
        models = engine.SEQUENCE_MODELS
        maps = [pn.pane.HoloViews(hv.DynamicMap(lambda data, m=m, n=n: self._heatmap(data, m, n),
                                                streams=[self._pipe]),
                                  sizing_mode="stretch_width", height=310, linked_axes=False)
                for m, n in enumerate(models)]
        predictions = pn.pane.HoloViews(hv.DynamicMap(self._predictions, streams=[self._pipe]),
                                        sizing_mode="stretch_width", height=370,
                                        linked_axes=False)  # own ranges: axes named alike
        boxes = [checked_input(self.sequences, "n_train", pn.widgets.IntInput, "Training windows",
                               css_classes=["recurrent-n_train"]),
                 checked_input(self.sequences, "length", pn.widgets.IntInput, "Steps T",
                               css_classes=["recurrent-length"]),
                 pn.widgets.FloatInput.from_param(self.sequences.param.noise, name="Input noise",
                                                  css_classes=["recurrent-noise"]),
                 pn.widgets.FloatInput.from_param(self.sequences.param.w_std, name="W_std",
                                                  css_classes=["recurrent-w_std"])]
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}),
                         pn.Row(*boxes, sizing_mode="stretch_width"), self.job_bar(),
                         self._notice, pn.Row(*maps, sizing_mode="stretch_width"), predictions,
                         sizing_mode="stretch_width")
