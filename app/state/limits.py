"""Server-wide limits on what one request may ask for, configurable at start.

Set them with environment variables (``IWE_MAX_WIDTH=1024 panel serve app/main.py``) or
after ``--args`` (``panel serve app/main.py --args --max-width 1024``). The controls' ranges
follow the limits, and a refused request (e.g. from a URL) is reported, not applied.
"""
from __future__ import annotations

import argparse
import os

import param

import engine


class Limits(param.Parameterized):
    max_width = param.Integer(default=4096, bounds=(16, None), doc="widest hidden layer of a finite network")
    max_ensemble_size = param.Integer(default=32, bounds=(1, None), doc="networks in one finite ensemble")
    max_steps = param.Integer(default=10_000, bounds=(1, None), doc="gradient-descent steps of a finite ensemble")
    max_train = param.Integer(default=1000, bounds=(1, None), doc="training points")
    max_test = param.Integer(default=2000, bounds=(1, None), doc="test points")
    # the size of a spec (engine.SpecLimits; a hidden width is bounded by max_width)
    max_layers = param.Integer(default=engine.SpecLimits.max_layers, bounds=(1, None),
                               doc="layers of a spec, nested ones included")
    max_depth = param.Integer(default=engine.SpecLimits.max_depth, bounds=(1, None),
                              doc="serial/parallel combinators nested around a layer")
    max_fan_out = param.Integer(default=engine.SpecLimits.max_fan_out, bounds=(1, None),
                                doc="FanOut num and branches of one parallel")
    max_window = param.Integer(default=engine.SpecLimits.max_window, bounds=(1, None),
                               doc="each entry of a filter_shape, window_shape or strides")

    def spec_limits(self) -> engine.SpecLimits:
        """The engine's limits on a spec, from these."""
        return engine.SpecLimits(max_layers=self.max_layers, max_depth=self.max_depth,
                                 max_fan_out=self.max_fan_out, max_window=self.max_window,
                                 max_width=self.max_width)

    def describe(self, name: str) -> str:
        """E.g. "max_width = 4096 (set IWE_MAX_WIDTH or --max-width)"."""
        return (f"{name} = {getattr(self, name)} (set IWE_{name.upper()} or "
                f"--{name.replace('_', '-')} when starting the server)")


def from_environment(argv: list[str] | None = None, environ=None) -> Limits:
    """Limits from ``IWE_*`` variables, overridden by ``--max-*`` arguments."""
    environ = os.environ if environ is None else environ
    values = {name: int(environ[f"IWE_{name.upper()}"]) for name in _NAMES
              if f"IWE_{name.upper()}" in environ}
    parser = argparse.ArgumentParser(add_help=False)
    for name in _NAMES:
        parser.add_argument(f"--{name.replace('_', '-')}", type=int, dest=name)
    given, _ = parser.parse_known_args([] if argv is None else argv)
    values.update({k: v for k, v in vars(given).items() if v is not None})
    return Limits(**values)


_NAMES = [p for p in Limits.param if p != "name"]
