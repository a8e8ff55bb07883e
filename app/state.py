"""The session: the settings a user makes and the results derived from them.

One ``Session`` per browser tab is the single source of truth. It watches its settings
and starts work when they change (design.md §3: ``watch=True`` only to start work):
the closed form is looked up in the server-wide caches (app/results.py), the finite
ensembles train in the background (app/finite_jobs.py). An invalid setting keeps the
last valid result on screen and says what is wrong and where.
"""
from __future__ import annotations

import contextlib
import threading

import param

from . import results, stack
from .closed_form import ClosedForm
from .finite_jobs import FiniteEnsembles
from .limits import Limits
from .presets import PRESETS
from .settings import Architecture, Data, Finite, Training
from .analysis_settings import ImageExperiment, Sweep, ViewSelection  # the analysis views' settings

#: the default learning rate as a fraction of the stable maximum
SAFE_FRACTION = 0.5
CLOSED_FORM_INPUTS = ["architecture.spec", "data.dataset", "data.n_train", "data.n_test",
                      "data.noise", "data.seed", "training.mode", "training.learning_rate",
                      "training.diag_reg"]


def safe_learning_rate(maximum: float) -> float:
    """SAFE_FRACTION of the stable maximum, to 2 significant digits (a readable number)."""
    return float(f"{SAFE_FRACTION * maximum:.2g}")


class Session(param.Parameterized):
    architecture = param.ClassSelector(class_=Architecture, instantiate=False)
    data = param.ClassSelector(class_=Data, instantiate=False)
    training = param.ClassSelector(class_=Training, instantiate=False)
    finite = param.ClassSelector(class_=Finite, instantiate=False)
    limits = param.ClassSelector(class_=Limits, instantiate=False)
    # the analysis views (convergence, kernels, distribution, classification, images)
    selection = param.ClassSelector(class_=ViewSelection, instantiate=False)
    sweep = param.ClassSelector(class_=Sweep, instantiate=False)
    images = param.ClassSelector(class_=ImageExperiment, instantiate=False)

    closed_form = param.ClassSelector(class_=ClosedForm, default=None, doc="""
        The last valid closed-form result (kept while the settings are invalid).""")
    finite_run = param.Parameter(default=None, doc="""
        The finite ensemble of the current settings (app/finite_jobs.py), or None.""")
    stack_error = param.String(default="", doc="The engine's message about the layer stack.")
    error_path = param.Parameter(default=None, doc="""
        Editor path of the layer the stack error names.""")
    data_error = param.String(default="", doc="The engine's message about the data settings.")
    notice = param.String(default="", doc="Limits hit, refused requests, automatic changes.")

    def __init__(self, limits: Limits | None = None, **params):
        limits = limits or Limits()
        params.setdefault("architecture", Architecture(limits))
        params.setdefault("data", Data(limits))
        params.setdefault("training", Training())
        params.setdefault("finite", Finite(limits))
        params.setdefault("selection", ViewSelection())  # analysis views: 3 lines
        params.setdefault("sweep", Sweep(limits))
        params.setdefault("images", ImageExperiment())
        super().__init__(limits=limits, **params)
        self._lock = threading.RLock()
        self._settling = False
        self._update_closed_form()
        self.finite_ensembles = FiniteEnsembles(self)  # trains in the background
        self.finite_ensembles.update()

    # ---------------------------------------------------------------- actions

    def close(self) -> None:
        """Stop background work (the browser tab is gone)."""
        self.finite_ensembles.close()

    @contextlib.contextmanager
    def one_update(self):
        """Change several settings, then derive the results once."""
        settling, self._settling = self._settling, True
        try:
            yield
        finally:
            self._settling = settling
        if not settling:
            self._update_closed_form()

    def load_preset(self, name: str) -> None:
        """A preset's architecture with the data settings it was made for."""
        with self.one_update():
            self.data.param.update(**PRESETS[name].settings)
            self.architecture.load_preset(name)

    # ---------------------------------------------------------------- closed form

    @param.depends(*CLOSED_FORM_INPUTS, watch=True)
    def _update_closed_form(self) -> None:
        if self._settling:
            return
        with self._lock:
            self._compute_closed_form()

    def _compute_closed_form(self) -> None:
        data = self._dataset()
        net = self._network(data) if data is not None else None
        if net is None:
            return
        k = results.kernels(stack.kernel_key(self.architecture.spec), net, self.data.key, data)
        mode = self.training.mode
        maximum = results.max_learning_rate(k, data, mode)
        learning_rate = self._stable_learning_rate(maximum)
        key = (stack.kernel_key(self.architecture.spec), self.data.key)
        predictor = results.predictor(key, k, data, mode, learning_rate, self.training.diag_reg)
        losses = results.loss_curves(key + (mode, learning_rate, self.training.diag_reg),
                                     predictor)
        result = ClosedForm(data, mode, predictor, losses, learning_rate, maximum,
                            predictor.diag_reg)
        # The limit has no width: a width move (or another edit that leaves the kernels)
        # gives the same cached results, and keeping the object spares every view a redraw
        # (seconds for the whole page). The finite ensembles follow the spec themselves.
        if not result.same_as(self.closed_form):
            self.closed_form = result

    def _dataset(self):
        try:
            data = results.dataset(self.data.key, self.limits.max_train, self.limits.max_test)
        except ValueError as err:
            self.data_error = str(err)
            return None
        self.data_error = ""
        return data

    def _network(self, data):
        """The built network, or None with the engine's message and the layer it names."""
        spec = self.architecture.spec
        try:
            if not stack.is_spec_shaped(spec):
                raise ValueError(f"spec: expected a non-empty list of [name, {{arguments}}] "
                                 f"layers; got {spec!r}")
            net = results.network(stack.canonical(spec), spec)
            results.check_shapes(net, spec, data)
        except ValueError as err:
            self.param.update(stack_error=str(err),
                              error_path=stack.error_path(self.architecture.items, str(err)))
            return None
        self.param.update(stack_error="", error_path=None)
        return net

    def _stable_learning_rate(self, maximum: float) -> float:
        """The learning rate to use: the user's if stable, else a safe fraction of the maximum."""
        current = self.training.learning_rate
        if current is not None and current < maximum:
            return current
        safe = safe_learning_rate(maximum)
        if current is not None:
            self.notice = (f"learning_rate {current:g} is not below the stable maximum "
                           f"{maximum:.3g} of this network; it was set to {safe:g}.")
        self._settling = True  # this change is part of the current update
        try:
            self.training.learning_rate = safe
        finally:
            self._settling = False
        return safe
