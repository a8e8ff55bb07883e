"""The layer types the stack editor offers, and each one's arguments as a param form.

Types and arguments come from the engine's constructors (``engine.stax.LAYERS`` and their
signatures), so a new engine layer shows up here without app changes. This module only
adds what a signature cannot say: starting values for required arguments and the choices
of string arguments.
"""
from __future__ import annotations

import functools
import inspect

import param

from engine import stax

from .stack import RESIDUAL

#: layers the editor does not offer: a residual block builds the combinators, and the
#: Elementwise layers take Python functions, which a browser must never supply
HIDDEN = {"FanOut", "FanInSum", "Identity", "Elementwise", "ElementwiseNumerical"}
CHOICES = {"parameterization": ["ntk", "standard"], "padding": ["VALID", "SAME", "CIRCULAR"]}
#: engine arguments that are implementation switches, not part of the model
INTERNAL_ARGS = {"do_stabilize"}
#: starting values when a layer is added (required arguments have no default)
STARTING = {
    "Dense": {"out_dim": 512, "W_std": 1.5, "b_std": 0.05},
    "Conv": {"out_chan": 64, "filter_shape": [3, 3], "padding": "SAME", "W_std": 1.5,
             "b_std": 0.05},
    "AvgPool": {"window_shape": [2, 2], "strides": [2, 2]},
    "ABRelu": {"a": -0.5, "b": 1.0},
    "LeakyRelu": {"alpha": 0.1},
    "RectifiedMonomial": {"degree": 1},
    "Monomial": {"degree": 2},
    "Hermite": {"degree": 2},
    "Polynomial": {"coef": [0.0, 1.0, 0.5]},
}
LABELS = {"out_dim": "width", "out_chan": "channels (width)", "W_std": "W_std", "b_std": "b_std"}
#: list-valued arguments are typed as comma-separated numbers, e.g. "3, 3", of this type
TUPLE_ARGS = {"filter_shape": int, "strides": int, "window_shape": int, "coef": float}


def layer_names() -> list[str]:
    """The layer types the editor can add, in the engine's order, plus the residual block."""
    return [n for n in stax.LAYERS if n not in HIDDEN] + [RESIDUAL]


def is_layer(name: str) -> bool:
    """A single engine layer (not a combinator, not the residual block)."""
    return name in stax.LAYERS


def _signature(name: str) -> dict:
    constructor = stax.LAYERS[name]
    return {p.name: p.default for p in inspect.signature(constructor).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in INTERNAL_ARGS}


def starting_arguments(name: str) -> dict:
    """The arguments a newly added layer starts with."""
    if name == RESIDUAL:
        return {"layers": [["Dense", dict(STARTING["Dense"])], ["Relu", {}]]}
    args = {k: (None if v is inspect.Parameter.empty else v) for k, v in _signature(name).items()}
    args.update(STARTING.get(name, {}))
    return {k: list(v) if isinstance(v, tuple) else v for k, v in args.items()}


def tuple_text(value) -> str:
    return "" if value is None else ", ".join(str(v) for v in value)


def parse_tuple(arg: str, text: str):
    """"3, 3" -> [3, 3]; "" -> None. Only numbers are read; nothing is evaluated."""
    kind = TUPLE_ARGS.get(arg, int)
    parts = [p.strip() for p in text.strip("()[] ").split(",") if p.strip()]
    if not parts:
        return None
    try:
        return [kind(p) for p in parts]
    except ValueError:
        example = "3, 3" if kind is int else "0, 1, 0.5"
        kinds = "integers" if kind is int else "numbers"
        raise ValueError(f"{arg}={text!r}: expected {kinds} separated by commas, "
                         f"e.g. {example}") from None


def _parameter(arg: str, default):
    label = LABELS.get(arg, arg)
    if arg in CHOICES:
        return param.Selector(default=default, objects=CHOICES[arg], label=label)
    if arg in TUPLE_ARGS:
        example = "3, 3" if TUPLE_ARGS[arg] is int else "0, 1, 0.5"
        return param.String(default=tuple_text(default), label=label,
                            doc=f"Numbers separated by commas, e.g. {example}")
    if isinstance(default, bool):
        return param.Boolean(default=default, label=label)
    if isinstance(default, int) or arg in ("out_dim", "out_chan", "num"):
        return param.Integer(default=default, label=label, allow_None=True)
    if default is None or isinstance(default, float):
        return param.Number(default=default, label=label, allow_None=True)
    return param.String(default=str(default), label=label)


@functools.cache
def form_class(name: str) -> type[param.Parameterized]:
    """A Parameterized class with one parameter per argument of layer ``name``."""
    params = {arg: _parameter(arg, default) for arg, default in starting_arguments(name).items()}
    return type(f"{name}Form", (param.Parameterized,), params)


def form_values(name: str, kwargs: dict) -> dict:
    """Spec arguments -> form parameter values."""
    return {k: tuple_text(v) if k in TUPLE_ARGS else v for k, v in kwargs.items()}


def spec_arguments(name: str, values: dict) -> dict:
    """Form parameter values -> spec arguments (a ValueError names a malformed tuple)."""
    return {k: parse_tuple(k, v) if k in TUPLE_ARGS else v for k, v in values.items()}
