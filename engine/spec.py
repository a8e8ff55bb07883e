"""JSON-able architecture specs: a list of ``[name, {arguments}]`` pairs.

    spec = [["Dense", {"out_dim": 512, "W_std": 1.5, "b_std": 0.05}], ["Erf", {}],
            ["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.05}]]
    init_fn, apply_fn, kernel_fn = build(spec)

Names are those of ``engine.stax`` (the list: ``engine.spec_layers.LAYERS``, with the JSON
forms of Index's idx and Rnn's activation); combinators nest as ``["serial", {"layers":
[...]}]`` and ``["parallel", {"branches": [[...], [...]]}]``. All validation of user specs
lives here and in the constructors it calls: every error is a ValueError naming the position
("layer 2 > branch 0 > layer 1 (Dense)") and the problem. The spec's size is checked
first against ``SpecLimits`` (engine/spec_limits.py), so nothing beyond a limit is built.
"""
from __future__ import annotations

import inspect

from . import stax
from .network import Network
from .spec_layers import LAYERS, json_arguments
from .checks import quote
from .spec_limits import SpecLimits, check_spec


def build(spec, limits: SpecLimits = SpecLimits()) -> Network:
    """The network (init_fn, apply_fn, kernel_fn) described by ``spec``, within ``limits``."""
    check_spec(spec, limits)
    return Network(_serial(spec, ""))


def _serial(items, where):
    if not isinstance(items, (list, tuple)) or not items:
        raise ValueError(f"{where or 'spec'}: expected a non-empty list of [name, {{arguments}}] "
                         f"layers; got {quote(items)}")
    layers = [_layer(item, f"{where}layer {i}") for i, item in enumerate(items)]
    return stax.serial(*layers).layer


def _layer(item, where):
    if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)
            and isinstance(item[1], dict)):
        raise ValueError(f"{where}: expected [name, {{arguments}}]; got {quote(item)}")
    name, kwargs = item
    if name == "serial":
        _check_arguments(where, name, kwargs, {"layers"})
        return _serial(kwargs["layers"], f"{where} > ")
    if name == "parallel":
        _check_arguments(where, name, kwargs, {"branches"})
        branches = kwargs["branches"]
        if not isinstance(branches, (list, tuple)) or not branches:
            raise ValueError(f"{where} (parallel): branches must be a non-empty list of layer lists")
        return stax.parallel(*(_serial(b, f"{where} > branch {i} > ")
                               for i, b in enumerate(branches))).layer
    constructor = LAYERS.get(name)
    if constructor is None:
        raise ValueError(f"{where}: unknown layer {quote(name)}; expected one of "
                         f"{sorted(LAYERS) + ['parallel', 'serial']}")
    parameters = inspect.signature(constructor).parameters
    _check_arguments(where, name, kwargs, set(parameters))
    missing = [p for p, v in parameters.items() if v.default is v.empty and p not in kwargs]
    if missing:
        raise ValueError(f"{where} ({name}): missing argument {missing[0]!r}")
    kwargs = json_arguments(name, kwargs, where, _layer)
    try:
        return constructor(**{k: _hashable(v) for k, v in kwargs.items()}).layer
    except (ValueError, TypeError, OverflowError) as err:  # e.g. an unhashable argument
        raise ValueError(f"{where} ({name}): {err}") from None


def _check_arguments(where, name, kwargs, accepted):
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(f"{where} ({name}): unknown argument {quote(unknown[0])}; "
                         f"{name} accepts {sorted(accepted)}")
    if name in ("serial", "parallel") and not accepted <= set(kwargs):
        raise ValueError(f"{where} ({name}): missing argument {sorted(accepted)[0]!r}")


def _hashable(value):
    """JSON lists become tuples so layers can be hashed (and compiled once)."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value
