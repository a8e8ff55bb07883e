"""What a user sets: the architecture, the data, the training, the finite ensembles.

These parameters are the whole state of a view (app/state/url.py puts them in the URL); every
result is derived from them in app/state/session.py. Names follow the engine and the literature
(design.md §3): spec, width, learning_rate, diag_reg, t.
"""
from __future__ import annotations

import param

import engine
from engine import DATASETS

from . import stack
from .limits import Limits
from .presets import CUSTOM, DEFAULT, PRESETS

#: training times on the slider: 0, then 10 per decade up to 1e5 steps, as whole steps
T_GRID = sorted({0} | {int(round(10 ** (k / 10))) for k in range(51)})
#: widths on the (log-scale) width slider: powers of 2 and the midpoints 1.5 * 2^k
WIDTHS = sorted({2 ** k for k in range(4, 13)} | {3 * 2 ** k for k in range(3, 11)})
DEFAULT_WIDTH = 128
#: mode -> its label in the UI
MODES = {"ntk": "NTK gradient descent", "nngp": "NNGP readout-only",
         "posterior": "Bayesian posterior (NNGP, t = inf)"}


class Architecture(param.Parameterized):
    """The layer stack (an engine spec) and the width of the finite networks."""

    spec = param.List(default=engine.with_width(PRESETS[DEFAULT].spec, DEFAULT_WIDTH), doc="""
        The engine spec: a JSON list of [name, {arguments}] layers.""")
    width = param.Selector(default=DEFAULT_WIDTH, objects=WIDTHS, doc="""
        Width of every hidden layer of the finite networks; the closed form is width -> inf.""")
    preset = param.String(default=DEFAULT, doc="""
        The preset the stack is (loaded by the editor, a lesson or a preset call, at any
        width), or CUSTOM once the stack is no preset's; the editor's preset menu shows it.""")

    def __init__(self, limits: Limits | None = None, **params):
        super().__init__(**params)
        if limits is not None:
            self.param.width.objects = [w for w in WIDTHS if w <= limits.max_width]
        self._width_watcher = self.param.watch(self._apply_width, ["width", "spec"])
        self.param.watch(self._name_preset, ["spec", "preset"])

    def _name_preset(self, *events) -> None:
        """An edited stack, or one from a link or a lesson step, is no longer its preset."""
        preset = PRESETS.get(self.preset)
        if preset is not None and stack.canonical(self.spec) != stack.canonical(
                engine.with_width(preset.spec, self.width)):
            self.preset = CUSTOM

    def _apply_width(self, *events):
        """Moving the width slider sets every hidden layer to that width.

        A spec that arrives together with a width (a URL, a preset) keeps its own widths.
        """
        if any(e.name == "spec" for e in events) or not stack.is_spec_shaped(self.spec):
            return
        self.spec = engine.with_width(self.spec, self.width)

    @property
    def items(self) -> list:
        """The stack as the editor shows it (residual blocks folded)."""
        return stack.fold(self.spec) if stack.is_spec_shaped(self.spec) else []

    def edit(self, items: list) -> None:
        """Replace the stack with edited editor items."""
        self.spec = stack.unfold(items)

    def load_preset(self, name: str, width: int = DEFAULT_WIDTH) -> None:
        """The preset's stack with every hidden layer at ``width`` (the slider set to it)."""
        self.param.update(width=width, spec=engine.with_width(PRESETS[name].spec, width),
                          preset=name)


class Data(param.Parameterized):
    """Which dataset, how many points, how noisy; ``regenerate`` draws a new sample."""

    dataset = param.Selector(default="sin", objects=list(DATASETS), doc="""
        A built-in dataset of engine.data.""")
    n_train = param.Integer(default=10, bounds=(1, 1000), doc="Training points.")
    n_test = param.Integer(default=200, bounds=(1, 2000), doc="""
        Test points (a grid for 1-D regression).""")
    noise = param.Number(default=0.1, bounds=(0.0, 2.0), doc="""
        Std of the Gaussian noise on the training targets (regression).""")
    seed = param.Integer(default=0, bounds=(0, engine.MAX_SEED), doc="Random seed of the sample.")
    regenerate = param.Action(lambda self: self.param.update(seed=self.seed + 1),
                              label="New sample", doc="Draw a new sample (seed + 1).")

    def __init__(self, limits: Limits | None = None, **params):
        super().__init__(**params)
        if limits is not None:
            self.param.n_train.bounds = (1, limits.max_train)
            self.param.n_test.bounds = (1, limits.max_test)

    @property
    def key(self) -> tuple:
        """Hashable (name, ((parameter, value), ...)) of the dataset's own parameters."""
        accepted = DATASETS[self.dataset].defaults
        values = {k: getattr(self, k) for k in ("n_train", "n_test", "noise", "seed")
                  if k in accepted}
        return self.dataset, tuple(sorted(values.items()))


class Training(param.Parameterized):
    """How the networks learn, and the time t at which they are shown."""

    mode = param.Selector(default="ntk", objects=list(MODES), doc="""
        ntk: all layers trained by gradient descent; nngp: only the readout layer;
        posterior: the exact Bayesian posterior of the NNGP (no time).""")
    t = param.Selector(default=1000, objects=T_GRID, doc="Training time: gradient-descent steps.")
    learning_rate = param.Number(default=None, allow_None=True, bounds=(0.0, None),
                                 inclusive_bounds=(False, True), doc="""
        Gradient-descent step size; None (the default policy) = half the stable maximum of
        the network. A value at or above the maximum is kept: the views show the divergence.""")
    diag_reg = param.Number(default=1e-4, bounds=(0.0, 1.0), doc="""
        Diagonal regularization, relative to the mean diagonal of the train kernel.""")


class Finite(param.Parameterized):
    """The finite ensembles trained with real gradient descent next to the closed form."""

    ensemble_size = param.Integer(default=8, bounds=(1, 32), doc="Networks in the ensemble.")
    network_seed = param.Integer(default=0, bounds=(0, engine.MAX_SEED),
                                 doc="Seed of their initialisation.")
    show = param.Boolean(default=True, doc="Train and show finite ensembles.")

    def __init__(self, limits: Limits | None = None, **params):
        super().__init__(**params)
        if limits is not None:
            self.param.ensemble_size.bounds = (1, limits.max_ensemble_size)
