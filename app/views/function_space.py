"""Function space: what the networks compute, before, during and after training."""
from __future__ import annotations

import numpy as np
import panel as pn
import param

from ..state.session import Session
from .plotting import COLORS, Glyphs, band_patch, figure, is_function_plot, plot_inputs, source

CAPTION = """**Function space.** The training points (black), the target (grey, dashed), and
the infinite-width ensemble at training time *t*: its mean
μₜ(x) = Θ(x, X) Θ⁻¹(I − e^(−ηΘt/|Y|)) Y with a ±2 sd band (blue), next to finite networks of
the chosen width trained by real gradient descent (red: thin lines, their mean and ±2 sd).
At *t* = 0 the band is the prior and the thin lines are draws from it; as the width grows,
the red ensemble settles onto the blue band at every *t*."""

Y_LABEL = "f(x)"
#: what an empty figure says until the closed form arrives
WAITING = "*Computing the closed form…* (its progress is shown above the tabs)"
#: padding around the data and the prior band when fixing the vertical range
MARGIN = 0.08


#: the glyphs of the finite ensemble
FINITE_GLYPHS = ("fs_members", "fs_finite_mean", "fs_finite_band")
#: their columns with no ensemble shown
NO_FINITE = {"fs_members": {"xs": [], "ys": []}, "fs_finite_mean": {"x": [], "y": []},
             "fs_finite_band": {"x": [], "y": []}}


class FunctionSpaceView(pn.viewable.Viewer):
    """Training data, closed-form band at t, finite members and their band: one Bokeh
    figure whose data sources every change writes in place (plotting.figure)."""

    session = param.ClassSelector(class_=Session)

    def __init__(self, **params):
        super().__init__(**params)
        self._glyphs = Glyphs()
        self._axis, self._label = np.zeros(0), "x"
        self._notice = pn.pane.Alert("", alert_type="info", visible=False)
        # which step the red lines show when it is not t (training not there yet, step limit)
        self._finite_note = pn.pane.Markdown("", visible=False, css_classes=["fs-finite-note"],
                                             styles={"font-size": "0.85em", "color": "#a33"},
                                             margin=(0, 10))
        # the figure is made with the first closed form it can draw
        self._pane = pn.Column(pn.pane.Markdown(WAITING), sizing_mode="stretch_width",
                               height=430)
        self._figure = None
        self.session.param.watch(self._on_result, "closed_form")
        self.session.param.watch(self._on_finite, "finite_run")
        self.session.training.param.watch(self._on_time, "t")
        self._on_result()

    # ----------------------------------------------------------------- updates

    def _on_result(self, *events):
        result = self.session.closed_form
        shown = result is not None and is_function_plot(result.data)
        if result is None:
            why = "Computing the closed form (its progress is shown above)…"
        else:
            why = ("The function-space view draws one output over one input axis (1-D "
                   "regression, the unit circle); the loss view shows every dataset.")
        self._notice.param.update(visible=not shown, object="" if shown else why)
        self._pane.visible = shown
        if not shown:
            return
        data = result.data
        x_train, self._axis, self._label = plot_inputs(data)
        if self._figure is None:
            self._figure = self._make_figure()
            self._pane.objects = [pn.pane.Bokeh(self._figure, sizing_mode="stretch_width",
                                                height=430)]
        finite = self._finite_data()
        self._glyphs.patch({
            "fs_target": {"x": self._axis, "y": data.y_test[:, 0]},
            "fs_train": {"x": x_train, "y": data.y_train[:, 0]},
            **self._closed_columns(whole=True),
            **(NO_FINITE if finite is None else self._finite_columns(finite, whole=True))})
        lo, hi = self._vertical_range(result)
        self._glyphs.set("fs_y_range", start=lo, end=hi)
        self._glyphs.set("fs_x_axis", axis_label=self._label)

    def _vertical_range(self, result) -> tuple[float, float]:
        """Room for the data and the prior's ±2 sd band, so moving t never rescales."""
        prior = result.prior
        values = np.concatenate([result.data.y_train[:, 0], result.data.y_test[:, 0],
                                 prior.mean[:, 0] - 2 * prior.std, prior.mean[:, 0] + 2 * prior.std])
        lo, hi = float(values.min()), float(values.max())
        pad = MARGIN * (hi - lo or 1.0)
        return lo - pad, hi + pad

    def _closed_columns(self, whole: bool = False) -> dict:
        """The closed form's glyphs at t: the values, or ``whole`` with the axis too."""
        curves = self.session.closed_form.at(self.session.training.t)
        mean, std = curves.mean[:, 0], curves.std
        columns = {"fs_mean": {"y": mean}, "fs_band": band_patch(mean - 2 * std, mean + 2 * std)}
        if whole:
            columns["fs_mean"]["x"] = self._axis
            columns["fs_band"]["x"] = np.append(self._axis, self._axis[::-1])
        return columns

    def _finite_data(self):
        run = self.session.finite_run
        snapshot = None if run is None else run.at(self.session.training.t)
        if snapshot is None:
            return None
        return {"x": self._axis, "members": snapshot.members[:, :, 0],
                "mean": snapshot.mean[:, 0], "std": snapshot.std[:, 0]}

    def _show_finite_note(self) -> None:
        run, result = self.session.finite_run, self.session.closed_form
        shown = run is not None and result is not None and is_function_plot(result.data)
        text = run.shown_at(self.session.training.t) if shown else ""
        self._finite_note.param.update(object=text, visible=bool(text))

    def _on_finite(self, *events):
        """An ensemble delivered (a streamed part of its training, or a new one) or gone."""
        self._show_finite_note()
        if self.session.closed_form is None or not is_function_plot(self.session.closed_form.data):
            return
        finite = self._finite_data()
        self._glyphs.patch(NO_FINITE if finite is None else self._finite_columns(finite, whole=True))

    @staticmethod
    def _finite_columns(finite: dict, whole: bool = False) -> dict:
        """The finite glyphs' data-source columns: the values only (the time slider), or
        ``whole`` with the horizontal ones (a delivered ensemble, maybe of other members)."""
        x, members, mean, std = finite["x"], finite["members"], finite["mean"], finite["std"]
        columns = {"fs_members": {"ys": list(members)}, "fs_finite_mean": {"y": mean},
                   "fs_finite_band": band_patch(mean - 2 * std, mean + 2 * std)}
        if whole:
            columns["fs_members"]["xs"] = [x] * len(members)
            columns["fs_finite_mean"]["x"] = x
            columns["fs_finite_band"]["x"] = np.append(x, x[::-1])
        return columns

    def _on_time(self, *events):
        """The time slider: new values in the same columns (the lengths stay)."""
        self._show_finite_note()
        result = self.session.closed_form
        if result is None or not is_function_plot(result.data):
            return
        finite, closed = self._finite_data(), self._closed_columns()
        if finite is None:
            self._glyphs.patch(closed)
        elif not self._glyphs.patch({**closed, **self._finite_columns(finite)}):
            # the lines shown are not this ensemble's (none yet, or other members)
            self._glyphs.patch({**closed, **self._finite_columns(finite, whole=True)})

    # ----------------------------------------------------------------- figure

    def _make_figure(self):
        """The figure and its named glyphs, empty (``_on_result`` writes their data)."""
        fig = figure("Function space", self._label, Y_LABEL, (-1.5, 1.5))
        add = self._glyphs.add
        add("fs_x_axis", fig.xaxis[0])
        add("fs_y_range", fig.y_range)
        add("fs_band", fig.patch("x", "y", source=source(x=[], y=[]), color=COLORS["closed"],
                                 alpha=0.2, line_alpha=0))
        add("fs_mean", fig.line("x", "y", source=source(x=[], y=[]), color=COLORS["closed"],
                                line_width=2.5))
        add("fs_finite_band", fig.patch("x", "y", source=source(x=[], y=[]),
                                        color=COLORS["finite"], alpha=0.12, line_alpha=0))
        add("fs_members", fig.multi_line("xs", "ys", source=source(xs=[], ys=[]),
                                         color=COLORS["finite"], alpha=0.45, line_width=1))
        add("fs_finite_mean", fig.line("x", "y", source=source(x=[], y=[]),
                                       color=COLORS["finite"], line_width=2,
                                       line_dash="dotdash"))
        add("fs_target", fig.line("x", "y", source=source(x=[], y=[]), color=COLORS["target"],
                                  line_dash="dashed", line_width=1.5))
        add("fs_train", fig.scatter("x", "y", source=source(x=[], y=[]), color=COLORS["train"],
                                    size=7))
        return fig

    def __panel__(self):
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}),
                         self._notice, self._finite_note, self._pane,
                         sizing_mode="stretch_width")
