"""The layer types the stack editor offers, and each one's arguments as a param form.

Types and arguments come from the engine (``engine.SPEC_LAYERS``, every layer a JSON
spec may name, and their constructors' signatures), so a new engine layer shows up here
without app changes; each argument's tooltip is its line under ``Args:`` in the engine's
docstring. This module only adds what a signature cannot say: which layers the editor
leaves out and why, and a line of help per layer (app/state/layer_help.py), starting values for
required arguments, the choices of string arguments, which arguments a form cannot hold.
"""
from __future__ import annotations

import functools
import inspect
import re

import param

import engine

from .layer_help import HIDDEN, help_text
from .stack import RESIDUAL

CHOICES = {"parameterization": ["ntk", "standard"], "padding": ["VALID", "SAME", "CIRCULAR"],
           "attention_mechanism": ["SOFTMAX", "IDENTITY", "ABS", "RELU"],
           "pos_emb_type": ["NONE", "SUM", "CONCAT"],
           # the methods whose kernel is known (others work in apply_fn only)
           "method": ["linear", "nearest"]}
#: engine arguments that are implementation switches or the data's layout (the dashboard's
#: data are (batch, spatial..., channels); JSON specs keep the defaults), not the model
INTERNAL_ARGS = {"do_stabilize", "batch_axis", "channel_axis", "batch_axis_out",
                 "dimension_numbers", "precision"}
#: arguments a form cannot hold (Python functions, layer entries, an integer or a list, an
#: argument that only matters with a function, the standard parameterization's width
#: scalings s); a spec's value is kept as it is
FORM_SKIPS = {"pos_emb_decay_fn", "pos_emb_p_norm", "to_dense", "activation",
              "aggregate_axis", "s"}
#: starting values when a layer is added (required arguments have no default)
STARTING = {
    "Dense": {"out_dim": 512, "W_std": 1.5, "b_std": 0.05},
    "Conv": {"out_chan": 64, "filter_shape": [3, 3], "padding": "SAME", "W_std": 1.5,
             "b_std": 0.05},
    "ConvTranspose": {"out_chan": 64, "filter_shape": [3, 3], "padding": "SAME", "W_std": 1.5,
                      "b_std": 0.05},
    "ConvLocal": {"out_chan": 64, "filter_shape": [3, 3], "padding": "SAME", "W_std": 1.5,
                  "b_std": 0.05},
    "AvgPool": {"window_shape": [2, 2], "strides": [2, 2]},
    "SumPool": {"window_shape": [2, 2], "strides": [2, 2]},
    "GlobalSelfAttention": {"n_chan_out": 64, "n_chan_key": 64, "n_chan_val": 64,
                            "n_heads": 4},
    "ImageResize": {"shape": [-1, 4, 4, -1], "method": "linear"},
    "Index": {"idx": "..."},
    "ABRelu": {"a": -0.5, "b": 1.0},
    "LeakyRelu": {"alpha": 0.1},
    "RectifiedMonomial": {"degree": 1},
    "Monomial": {"degree": 2},
    "Hermite": {"degree": 2},
    "Polynomial": {"coef": [0.0, 1.0, 0.5]},
}
LABELS = {"out_dim": "width", "out_chan": "channels (width)", "W_std": "W_std", "b_std": "b_std",
          "idx": "index"}
#: list-valued arguments are typed as comma-separated numbers, e.g. "3, 3", of this type
TUPLE_ARGS = {"filter_shape": int, "strides": int, "window_shape": int, "coef": float,
              "shape": int}
TUPLE_EXAMPLES = {"shape": "-1, 4, 4, -1", "coef": "0, 1, 0.5"}
#: tooltips where the editor's form differs from the engine's Python argument
DOCS = {"idx": "NumPy index text over all axes, batch first: integers, start:stop:step and "
               "one ...; e.g. ..., 1:7, 1:7, : (the batch and channel entries stay ':').",
        "method": "'linear' or 'nearest', the methods whose kernel is known."}
#: whole-number arguments whose default (None) does not say so
INTEGER_ARGS = {"out_dim", "out_chan", "num", "n_chan_pos_emb"}


def layer_names() -> list[str]:
    """The layer types the editor can add, in the engine's order, plus the residual block."""
    return [n for n in engine.SPEC_LAYERS if n not in HIDDEN] + [RESIDUAL]


def is_layer(name: str) -> bool:
    """A single engine layer (not a combinator, not the residual block)."""
    return name in engine.SPEC_LAYERS


def _signature(name: str) -> dict:
    constructor = engine.SPEC_LAYERS[name]
    return {p.name: p.default for p in inspect.signature(constructor).parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and p.name not in INTERNAL_ARGS | FORM_SKIPS}


@functools.cache
def argument_docs(name: str) -> dict:
    """Each argument's text under ``Args:`` in the docstring of layer ``name``'s constructor
    ("W_key_std, W_query_std: ..." gives both the text)."""
    doc = inspect.getdoc(engine.SPEC_LAYERS[name]) or ""
    lines = doc.split("Args:", 1)[1].splitlines()[1:] if "Args:" in doc else []
    docs, names = {}, []
    for line in lines:
        entry = re.match(r"  (\w+(?:, \w+)*): ?(.*)$", line)
        if entry:
            names = entry.group(1).split(", ")
            docs.update({n: entry.group(2) for n in names})
        elif line.startswith("    ") and names:
            docs.update({n: f"{docs[n]} {line.strip()}" for n in names})
        else:
            break
    return docs


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
        example = TUPLE_EXAMPLES.get(arg, "3, 3" if kind is int else "0, 1, 0.5")
        kinds = "integers" if kind is int else "numbers"
        raise ValueError(f"{arg}={text!r}: expected {kinds} separated by commas, "
                         f"e.g. {example}") from None


def _parameter(arg: str, default, doc=None):
    label = LABELS.get(arg, arg)
    if arg in CHOICES:
        return param.Selector(default=default, objects=CHOICES[arg], label=label, doc=doc)
    if arg in TUPLE_ARGS:
        example = TUPLE_EXAMPLES.get(arg, "3, 3")
        return param.String(default=tuple_text(default), label=label,
                            doc=f"{doc + ' ' if doc else ''}Numbers separated by commas, "
                                f"e.g. {example}")
    if isinstance(default, bool):
        return param.Boolean(default=default, label=label, doc=doc)
    if isinstance(default, int) or arg in INTEGER_ARGS:
        return param.Integer(default=default, label=label, allow_None=True, doc=doc)
    if default is None or isinstance(default, float):
        return param.Number(default=default, label=label, allow_None=True, doc=doc)
    return param.String(default=str(default), label=label, doc=doc)


@functools.cache
def form_class(name: str) -> type[param.Parameterized]:
    """A Parameterized class with one parameter per argument of layer ``name`` (its doc the
    engine's text for the argument: the widget's tooltip); the class doc is the help line."""
    docs = argument_docs(name)
    params = {arg: _parameter(arg, default, DOCS.get(arg, docs.get(arg)))
              for arg, default in starting_arguments(name).items()}
    return type(f"{name}Form", (param.Parameterized,), {"__doc__": help_text(name), **params})


def form_values(name: str, kwargs: dict) -> dict:
    """Spec arguments -> form parameter values."""
    return {k: tuple_text(v) if k in TUPLE_ARGS else v for k, v in kwargs.items()}


def spec_arguments(name: str, values: dict) -> dict:
    """Form parameter values -> spec arguments (a ValueError names a malformed tuple)."""
    return {k: parse_tuple(k, v) if k in TUPLE_ARGS else v for k, v in values.items()}
