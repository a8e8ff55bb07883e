"""Random-matrix laws: Marchenko-Pastur and the semicircle against sampled eigenvalues, their
Kolmogorov distance against width, and the singular values of the stack's input-output
Jacobian against the free-probability prediction.

One job of the server's job service per (width, ratio, block, depth), cached server-wide
(app/jobs/theory_jobs.py); this module only draws.
"""
from __future__ import annotations

import holoviews as hv
import numpy as np
import panel as pn

from ..jobs import theory_jobs
from .literal import literal
from .overlays import overlay
from .plotting import COLORS, named, x_dim, y_dims
from .session_view import WAIT, SessionView

SLUG = "random-matrices"
CAPTION = """**Random-matrix laws** at initialisation (Tensor Programs recover them). Left:
eigenvalues of W Wᵀ / n for a (ratio·n) × n Gaussian W against Marchenko–Pastur; middle:
a symmetric Gaussian matrix (G + Gᵀ)/√(2n) against Wigner's semicircle; right: the
Kolmogorov distance sup |F_sample − F| of both against n (log-log): the histograms converge to
the laws as the width grows. Below: the squared singular values σ² of the input-output
Jacobian of the stack's [Dense, activation] block repeated *depth* times (width n, at most 512)
against free probability (Pennington et al. 2017): the curve is the density of log₁₀ σ² from
the product of the layers' S-transforms (Gaussian W Wᵀ and φ′(h)², h ~ N(0, q*)), the dashed
line its mean χ₁^depth; its variance is the mean² times depth·μ₂/μ₁² (μₖ = E φ′(h)²ᵏ at q*).
On the critical line χ₁ = 1 the mean stays 1 with depth."""
LAW_TITLES = {"marchenko_pastur": "Marchenko–Pastur", "semicircle": "Wigner semicircle"}
SHORT_TITLES = {"marchenko_pastur": "MP", "semicircle": "Semicircle"}  # narrow plots
LAW_COLORS = {"marchenko_pastur": COLORS["closed"], "semicircle": COLORS["test"]}


class RandomMatrixView(SessionView):
    slug = SLUG
    label = "Sampling random matrices"
    cache = theory_jobs.MATRICES
    WATCHED = [("", ["closed_form"]), ("matrices", ["width", "ratio", "depth"])]

    def __init__(self, **params):
        self._pipe = hv.streams.Pipe(data=None)
        self._numbers = pn.pane.Markdown("", css_classes=[f"{SLUG}-numbers"],
                                         styles={"font-size": "0.9em"})
        super().__init__(**params)

    @property
    def settings(self):
        """The view's settings (in the URL: app/state/url.py)."""
        return self.session.matrices

    def request(self):
        return WAIT if self.session.closed_form is None else self.key()

    def key(self) -> tuple:
        s, m = self.session, self.settings
        block = theory_jobs.block_of(s.closed_form.request.spec)
        return (m.width, round(float(m.ratio), 4), block, m.depth)

    compute = staticmethod(theory_jobs.compute_matrices)

    def show(self, result) -> None:
        self._pipe.send(result)
        self._numbers.object = self._numbers_text(result)

    # ------------------------------------------------------------- elements

    def _law_elements(self, data, name):
        value_dim = y_dims("density")[0]
        eigen = x_dim("eigenvalue λ")
        bars, curve = (np.array([0.0, 1.0]), np.array([np.nan])), ([np.nan], [np.nan])
        title = LAW_TITLES[name]
        if data is not None:
            title = SHORT_TITLES[name]
            fit = data.fits[name]
            bars, curve = (fit.edges, fit.histogram), (fit.x, fit.density)
            title += ((f", p/n {fit.ratio:g}" if name == "marchenko_pastur" else "")
                      + f": distance {data.mean_distance[name][-1]:.4f}")
        return overlay([
            hv.Histogram(bars, kdims=[eigen], vdims=[value_dim]).opts(
                color=LAW_COLORS[name], alpha=0.45, line_alpha=0.2, hooks=[named(f"rm_{name}_hist")]),
            hv.Curve(curve, eigen, value_dim, label="law").opts(
                color=COLORS["train"], line_width=2.5, hooks=[named(f"rm_{name}")]),
        ], responsive=True, height=340, title=title, toolbar="above", show_legend=False)

    def _distance_elements(self, data):
        width_dim = x_dim("width n")
        value_dim = y_dims("Kolmogorov distance to the law")[0]
        curves, ticks = {name: ([np.nan], [np.nan]) for name in LAW_TITLES}, None
        if data is not None:
            ticks = [int(w) for w in data.fits["semicircle"].widths]
            curves = {name: (data.fits[name].widths.astype(float), data.mean_distance[name])
                      for name in LAW_TITLES}
        elements = []
        for name, points in curves.items():
            elements += [
                hv.Curve(points, width_dim, value_dim, label=LAW_TITLES[name]).opts(
                    color=LAW_COLORS[name], line_width=2.5, hooks=[named(f"rm_distance_{name}")]),
                hv.Scatter(points, width_dim, value_dim).opts(color=LAW_COLORS[name], size=7)]
        return overlay(elements, logx=True, logy=True, responsive=True, height=340, xticks=ticks,
                       toolbar="above", title="Distance to the law falls with width",
                       legend_position="bottom_left")

    def _jacobian_elements(self, data):
        log_dim, value_dim = x_dim("log10 σ² (squared singular values of J)"), y_dims("density")[0]
        bars, mean, title = (np.array([0.0, 1.0]), np.array([np.nan])), np.nan, "Jacobian"
        curve = ([np.nan], [np.nan])
        if data is not None and data.jacobian is not None and data.jacobian.law is not None:
            j = data.jacobian
            bars, mean = (j.edges, j.histogram), np.log10(j.law.mean)
            title = f"Jacobian σ², {self.settings.depth} layers, χ₁ = {j.law.chi_1:.3f}"
            if j.curve.size:
                curve = (j.curve_x, j.curve)
        return overlay([
            hv.Histogram(bars, kdims=[log_dim], vdims=[value_dim]).opts(
                color=COLORS["prior"], alpha=0.5, line_alpha=0.2, hooks=[named("rm_jacobian")]),
            hv.Curve(curve, log_dim, value_dim, label="free probability").opts(
                color=COLORS["train"], line_width=2.5, hooks=[named("rm_jacobian_law")]),
            hv.VLine(mean).opts(color="black", line_dash="dashed", line_width=2),
        ], responsive=True, height=340, title=title, toolbar="above", show_legend=False)

    def _numbers_text(self, data) -> str:
        """The Jacobian's moments beside their prediction (a user's layer names are literal)."""
        j = data.jacobian
        if j is None:
            return literal("The Jacobian needs a stack starting with Dense and an activation.")
        if j.law is None:
            return literal(f"No Jacobian law here: {j.reason}")
        law = j.law
        text = (f"| σ² of J ({j.squares.size} values) | free probability | finite network |\n"
                f"|---|---|---|\n| mean (dashed) | {law.mean:.4g} | {j.mean:.4g} |\n"
                f"| variance | {law.variance:.4g} | {j.variance:.4g} |\n\n"
                f"q* = {law.q_star:.4g}, χ₁ = {law.chi_1:.4f}")
        text += (f"\n\nσ² < {j.floor:.1e} (float64 rounding, not drawn): "
                 f"{j.below_floor:.1%} of the finite network's")
        if j.curve_reason:
            return text + "\n\n" + literal(f"No density drawn: {j.curve_reason}")
        text += f", {j.law_below_floor:.1%} of the law"
        if j.zero_mass > 1e-9:
            text += (f" (φ′ = 0 with probability {j.zero_mass:.3g}: the law puts that mass at "
                     f"σ² = 0)")
        return text + "."

    def __panel__(self):
        m = self.settings
        width = pn.widgets.DiscreteSlider.from_param(m.param.width, name="Width n",
                                                     css_classes=[f"{SLUG}-width"])
        ratio = pn.widgets.FloatSlider.from_param(m.param.ratio, name="Aspect ratio p / n",
                                                  css_classes=[f"{SLUG}-ratio"])
        depth = pn.widgets.IntSlider.from_param(m.param.depth, name="Jacobian depth",
                                                css_classes=[f"{SLUG}-depth"])
        laws = [pn.pane.HoloViews(hv.DynamicMap(lambda data, n=name: self._law_elements(data, n),
                                                streams=[self._pipe]),
                                  sizing_mode="stretch_width", height=350, linked_axes=False)
                for name in LAW_TITLES]
        distance = pn.pane.HoloViews(hv.DynamicMap(self._distance_elements, streams=[self._pipe]),
                                     sizing_mode="stretch_width", height=350, linked_axes=False)
        jacobian = pn.pane.HoloViews(hv.DynamicMap(self._jacobian_elements, streams=[self._pipe]),
                                     sizing_mode="stretch_width", height=350, linked_axes=False)
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}),
                         pn.Row(width, ratio, depth, sizing_mode="stretch_width"),
                         self.job_bar(),
                         pn.Row(*laws, distance, sizing_mode="stretch_width"),
                         pn.Row(jacobian, self._numbers, sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")
