"""Signal propagation: the order-to-chaos phase diagram of the stack's activation, clickable,
beside the correlation map iterated over depth and the stack's NNGP/NTK correlations.

The diagram (log10 chi_1 over W_std x b_std, one computation per activation) and the curves
(for the stack's own W_std, b_std) are two jobs of the server's job service, cached
server-wide; this module only draws what app/jobs/theory_jobs.py computed. A click on the
diagram sets the stack's hidden W_std and b_std through the editor's checks
(app/state/theory_settings.py ``set_weights``).
"""
from __future__ import annotations

import functools
import math

import holoviews as hv
import numpy as np
import panel as pn

from ..jobs import theory_jobs
from ..jobs.background import Job
from ..jobs.service import INTERACTIVE
from ..state.theory_settings import set_weights
from .checked_input import checked_input
from .job_bar import JobBar
from .literal import literal
from .overlays import nonempty_paths, overlay
from .plotting import COLORS, named, x_dim, y_dims
from .session_view import WAIT, SessionView

SLUG = "signal-propagation"
CAPTION = """**Signal propagation** (Poole et al. 2016; Schoenholz et al. 2017). Left: the
order-to-chaos phase diagram of the stack's activation after Dense(W_std, b_std): colour is
log₁₀ χ₁, the slope of the correlation map at c = 1 (blue: ordered, nearby inputs merge;
red: chaotic, they separate), the black line χ₁ = 1, the dot the stack's hidden layers.
**Click the diagram** to give the hidden Dense layers that W_std and b_std. Middle: the
correlation map c → c′ iterated from several starting correlations towards its fixed point c*.
Right: the correlation of the NNGP and NTK of two inputs after each Dense layer: they forget
the inputs' angle over about ξ_c layers (the trainable depth scale), slowly near χ₁ = 1."""
MAP_COLORS = ("#9467bd", "#1f77b4", "#2ca02c", "#ff7f0e", "#d62728")
NO_BLOCK = ("The phase diagram needs a stack that starts with Dense followed by an "
            "activation (e.g. the Cookbook Erf or ReLU presets).")


class SignalPropagationView(SessionView):
    """The phase diagram is the view's job (``job``, ``result``); the curves for the stack's
    own weights are a second, quicker one (``curves_job``, ``curves``)."""

    slug = SLUG
    label = "Phase diagram (chi_1 on the grid)"
    cache = theory_jobs.PHASE_DIAGRAMS
    WATCHED = [("", ["closed_form"]), ("signal", ["depth", "input_correlation"])]

    def __init__(self, **params):
        self.curves_job = Job(lane=INTERACTIVE)
        self.curves = self.block = None
        self._click_notice = pn.pane.Alert("", alert_type="warning", visible=False,
                                           css_classes=[f"{SLUG}-click-notice"])
        self._diagram_pipe = hv.streams.Pipe(data=None)
        self._curves_pipe = hv.streams.Pipe(data=None)
        super().__init__(**params)

    @property
    def settings(self):
        """The view's settings (in the URL: app/state/url.py)."""
        return self.session.signal

    @property
    def diagram_job(self):
        return self.job

    @property
    def diagram(self):
        return self.result

    # ------------------------------------------------------------- work

    def request(self):
        s = self.session
        if s.closed_form is None:
            return WAIT
        self.block = theory_jobs.block_of(s.closed_form.request.spec)  # the validated spec
        self.reason = "" if self.block is not None else NO_BLOCK
        return None if self.block is None else self.key()

    def key(self) -> tuple:
        return (self.block.activation,)

    compute = staticmethod(theory_jobs.compute_phase_diagram)

    def _start(self, *events) -> None:
        super()._start(*events)  # the diagram
        if not self.shown() or self.session.closed_form is None:
            return
        if self.block is None:
            self.curves_job.cancel(status="")
            return
        curves = (self.block, self.settings.depth, float(self.settings.input_correlation))
        self.curves_job.start(theory_jobs.PROPAGATION_CURVES, curves,
                              functools.partial(theory_jobs.compute_curves, curves),
                              self._deliver_curves, label="Correlations over depth")

    def show(self, result) -> None:
        self._diagram_pipe.send((result, self.block))

    def _deliver_curves(self, result) -> None:
        self.curves = result
        self._curves_pipe.send((result, self.block))

    def _resend(self) -> None:
        super()._resend()
        if self.curves is not None:
            self._curves_pipe.send((self.curves, self.block))

    def click(self, x=None, y=None) -> None:
        """A click on the diagram at (W_std, b_std) = (x, y) sets the stack's hidden layers."""
        if x is None or y is None or self.block is None:
            return
        refused = set_weights(self.session, max(float(x), 0.0), max(float(y), 0.0))
        self._click_notice.param.update(object=literal(refused), visible=bool(refused))

    # ------------------------------------------------------------- elements

    def _diagram_elements(self, data):
        w_dim, b_dim = x_dim("W_std"), y_dims("b_std")[0]
        value = hv.Dimension("z", label="log10 χ₁", range=(-1, 1))
        grid = (np.array([0.2, 3.0]), np.array([0.0, 1.0]), np.full((2, 2), np.nan))
        line, here, title = ([np.nan], [np.nan]), ([np.nan], [np.nan]), "Order to chaos"
        if data is not None:
            diagram, block = data
            grid = (diagram.w_std, diagram.b_std, diagram.log10_chi_1)
            line = (diagram.critical_w_std, diagram.b_std)
            if block is not None:
                here = ([block.w_std], [block.b_std])
            title = (f"log10 χ₁ of {block.activation[0] if block else ''}: critical W_std² = "
                     f"{diagram.reference_w_std ** 2:.3f} at b_std² = 0.05")
        return overlay([
            hv.QuadMesh(grid, [w_dim, b_dim], value).opts(
                cmap="RdBu_r", clim=(-1, 1), colorbar=True, tools=["hover"],
                nonselection_alpha=1.0, selection_alpha=1.0,  # a click selects nothing
                hooks=[named("sp_phase")]),
            hv.Curve(line, w_dim, b_dim).opts(color="black", line_width=3,
                                              hooks=[named("sp_critical")]),
            hv.Scatter(here, w_dim, b_dim).opts(color=COLORS["marker"], size=14, marker="circle",
                                                line_color="white", hooks=[named("sp_stack")]),
        ], responsive=True, height=380, title=title, toolbar="above", show_legend=False)

    def _map_elements(self, data):
        depth_dim, c_dim = x_dim("layer l"), y_dims("correlation c_l", range=(-1, 1))[0]
        paths, star, title = [], [np.nan], "Correlation map iterated over depth"
        if data is not None:
            curves, _ = data
            if curves.map_curves is not None:
                paths = [(curves.map_depth, row) for row in curves.map_curves]
                star = [curves.propagation.c_star]
                title += f": c* = {curves.propagation.c_star:.3f}"
            else:
                title += ": no fixed length q* (the lengths grow without bound)"
        return overlay([
            hv.Path(nonempty_paths(paths), [depth_dim, c_dim]).opts(
                color=COLORS["closed"], line_width=2, hooks=[named("sp_map")]),
            hv.HLine(star[0]).opts(color=COLORS["target"], line_dash="dashed"),
        ], responsive=True, height=380, title=title, toolbar="above", show_legend=False)

    def _kernel_elements(self, data):
        depth_dim, c_dim = x_dim("Dense layers"), y_dims("kernel correlation K₁₂ / √(K₁₁K₂₂)")[0]
        nngp = ntk = ([np.nan], [np.nan])
        xi, title = np.nan, "NNGP / NTK of two inputs over depth"
        if data is not None:
            curves, _ = data
            nngp, ntk = (curves.kernel_depth, curves.nngp), (curves.kernel_depth, curves.ntk)
            p = curves.propagation
            xi = p.xi_c if math.isfinite(p.xi_c) and p.xi_c <= curves.kernel_depth[-1] else np.nan
            title = (f"χ₁ = {p.chi_1:.3f}, ξ_c = {p.xi_c:.1f} layers (dotted); "
                     f"critical W_std = {curves.critical_w_std:.3f}")
        return overlay([
            hv.Curve(nngp, depth_dim, c_dim, label="NNGP").opts(
                color=COLORS["closed"], line_width=2.5, hooks=[named("sp_nngp")]),
            hv.Curve(ntk, depth_dim, c_dim, label="NTK").opts(
                color=COLORS["finite"], line_width=2.5, hooks=[named("sp_ntk")]),
            hv.VLine(xi).opts(color="black", line_dash="dotted", line_width=2),
        ], responsive=True, height=380, title=title, toolbar="above",
            legend_position="bottom_left")

    def __panel__(self):
        tap = hv.streams.Tap(x=None, y=None)  # a stream of the DynamicMap: linked to its plot
        diagram = hv.DynamicMap(lambda data, x, y: self._diagram_elements(data),
                                streams=[self._diagram_pipe, tap])
        tap.add_subscriber(lambda x, y: self.click(x, y))
        panes = [pn.pane.HoloViews(diagram, sizing_mode="stretch_width", height=390,
                                   css_classes=[f"{SLUG}-diagram"], linked_axes=False)]
        panes += [pn.pane.HoloViews(hv.DynamicMap(fn, streams=[self._curves_pipe]),
                                    sizing_mode="stretch_width", height=390, linked_axes=False)
                  for fn in (self._map_elements, self._kernel_elements)]
        boxes = pn.Row(
            checked_input(self.settings, "depth", pn.widgets.IntInput, "Depth (layers)",
                          css_classes=[f"{SLUG}-depth"]),
            checked_input(self.settings, "input_correlation", pn.widgets.FloatInput,
                          "Correlation of the two inputs", css_classes=[f"{SLUG}-correlation"]),
            sizing_mode="stretch_width")
        return pn.Column(pn.pane.Markdown(CAPTION, styles={"font-size": "0.9em"}), boxes,
                         self.job_bar(),
                         JobBar(job=self.curves_job, css_class=f"{SLUG}-curves-job"),
                         self._notice, self._click_notice, panes[0],
                         pn.Row(*panes[1:], sizing_mode="stretch_width"),
                         sizing_mode="stretch_width")
