"""A lesson: a short sequence of steps, each a state of the app and what to look at.

A ``Step`` names the settings it sets (a preset or its own spec, the finite width, the
sweep widths, t, the tab), the one or two controls to move (their CSS classes, outlined in
the page) and two or three sentences of what to look for, with the paper whose figure it
reproduces. ``apply_step`` sets that state through the session's own validated paths (the
same as a preset or a link), so a step can never make a state the controls could not.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import engine

from ..state.analysis_settings import ImageExperiment, Sweep
from ..state.presets import PRESETS
from ..state.settings import DEFAULT_WIDTH, T_GRID, Data, Training


@dataclass(frozen=True)
class Step:
    title: str
    text: str                    # what to look for (markdown we wrote, never user text)
    cite: str                    # the paper the figure comes from
    view: str                    # the tab (app/state/analysis_settings.py TAB_SLUGS)
    highlight: tuple = ()        # CSS classes of the controls to move
    preset: str | None = None    # a preset of app/state/presets.py ...
    spec: tuple | None = None    # ... or a spec of its own (JSON list as a tuple of layers)
    data: tuple = ()             # data settings over the defaults: ((name, value), ...)
    width: int = DEFAULT_WIDTH   # width of the finite networks
    widths: tuple | None = None  # widths of the sweeps (Convergence, Kernels, Distribution);
    #                              None: the default sweep
    t: int = Training.param.t.default  # training time (a slider position of T_GRID)
    seeds: int = Sweep.param.seeds.default      # networks per width (NTK sweeps)
    steps: int = Sweep.param.steps.default      # training steps of the kernel-motion sweeps
    samples: int = Sweep.param.samples.default  # networks per width (output distribution)
    images_max_train: int = ImageExperiment.param.max_train.default  # Images tab
    show_finite: bool = True     # train the finite ensembles

    def __post_init__(self):
        if (self.preset is None) == (self.spec is None):
            raise ValueError(f"Step({self.title!r}): give exactly one of preset and spec, "
                             f"got preset={self.preset!r}, spec={self.spec!r}")
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(f"Step({self.title!r}): preset must be one of {list(PRESETS)}, "
                             f"got {self.preset!r}")
        if self.t not in T_GRID:
            raise ValueError(f"Step({self.title!r}): t must be a slider position "
                             f"(one of {T_GRID[:4]} ... {T_GRID[-1]}), got {self.t!r}")


@dataclass(frozen=True)
class Lesson:
    name: str        # in the URL: ?lesson=NAME
    title: str
    steps: tuple = field(default_factory=tuple)

    def __post_init__(self):
        if not self.steps:
            raise ValueError(f"Lesson({self.name!r}): steps must not be empty, got {self.steps!r}")

    def step(self, number: int) -> Step:
        """Step ``number`` (1-based)."""
        if not 1 <= number <= len(self.steps):
            raise ValueError(f"step must be between 1 and {len(self.steps)} in lesson "
                             f"{self.name!r}, got {number!r}")
        return self.steps[number - 1]


def spec_list(spec) -> list:
    """A step's spec (tuples, so the step is hashable) as the engine's JSON list."""
    return [[name, dict(arguments)] for name, arguments in spec]


def apply_step(session, step: Step) -> None:
    """Set the session to ``step``'s state (one derivation of the results at the end)."""
    with session.one_update():
        if step.preset is not None:
            session.load_preset(step.preset)
            session.architecture.load_preset(step.preset, step.width)  # the step's width
        else:
            _load_spec(session, spec_list(step.spec), dict(step.data), step.width)
        if step.data and step.preset is not None:
            session.data.param.update(**dict(step.data))
        widths = step.widths if step.widths is not None else Sweep.param.widths.default
        # a server with a lower max_width shows its widest in place of a wider one (the
        # narrow-against-wide contrast of a step survives)
        allowed = session.sweep.param.widths.objects
        session.sweep.widths = sorted({w if w in allowed else allowed[-1] for w in widths})
        session.sweep.param.update(seeds=step.seeds, steps=step.steps, samples=step.samples)
        session.images.max_train = step.images_max_train
        session.training.t = step.t
        session.training.mode = "ntk"
        session.finite.show = step.show_finite
        session.selection.view = step.view


def _load_spec(session, spec: list, data: dict, width: int) -> None:
    """As Session.load_preset, for a spec that is not a preset."""
    defaults = {k: p.default for k, p in Data.param.objects().items()
                if k in ("dataset", "n_train", "n_test", "noise", "seed")}
    session.data.param.update(**{**defaults, **data})
    session.training.param.update(learning_rate=None, diag_reg=Training.param.diag_reg.default)
    session.architecture.param.update(width=width, spec=engine.with_width(spec, width))
