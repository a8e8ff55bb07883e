"""The layers a JSON spec may name, and the JSON forms of arguments that are Python objects.

``engine.stax.LAYERS`` holds the first layers; the later ones (pooling by sums, dropout,
joins other than sums, kernel-only maps, indexing, the transposed and locally connected
convolutions, attention, graphs, resizing, recurrence) are added here by name. A few
arguments are Python objects in ``engine.stax``; in JSON they are:

- ``Index``'s ``idx``: NumPy index text, ``"..., 1:7, 1:7, :"`` for ``stax.Slice[..., 1:7,
  1:7, :]`` (integers, slices ``start:stop:step`` with integer or empty bounds, one ``...``).
  Only integers are read; nothing is evaluated.
- ``Rnn``'s ``activation``: a layer entry such as ``["Erf", {}]`` (null: ReLU).
- Functions (``GlobalSelfAttention``'s ``pos_emb_decay_fn``, ``Aggregate``'s ``to_dense``)
  cannot come from JSON: only null (the default) is accepted there.

Layout arguments (``batch_axis``, ``channel_axis``, ``batch_axis_out``,
``dimension_numbers``) keep their defaults in JSON: the specs describe networks for data laid
out as (batch, spatial..., channels).

``Aggregate`` reads its graph from ``kernel_fn(x1, x2, pattern=(P1, P2))`` and
``apply_fn(params, x, pattern=P)``: a JSON spec builds it, the caller gives the graphs.
"""
from __future__ import annotations

from typing import Callable

from . import stax
from .layers.recurrent import check_activation
from .checks import quote

#: stax layers not in ``stax.LAYERS`` that a JSON spec may name
ADDED = ("SumPool", "GlobalSumPool", "Dropout", "FanInConcat", "FanInProd", "ExpNormalized",
         "Index", "ConvTranspose", "ConvLocal", "GlobalSelfAttention", "Aggregate",
         "ImageResize", "Rnn")
#: every single layer a JSON spec may name (the combinators serial/parallel are spec.py's)
LAYERS = {**stax.LAYERS, **{name: getattr(stax, name) for name in ADDED}}
#: arguments that take a Python function, which JSON cannot give
FUNCTION_ARGUMENTS = {"GlobalSelfAttention": ("pos_emb_decay_fn",), "Aggregate": ("to_dense",)}
INDEX_EXAMPLE = "'..., 1:7, 1:7, :'"
#: layout arguments and their defaults: a JSON spec describes a network for the dashboard's
#: data, which are (batch, spatial..., channels); other layouts are for engine.stax in Python
LAYOUT_DEFAULTS = {"batch_axis": 0, "channel_axis": -1, "batch_axis_out": 0,
                   "dimension_numbers": None}


def json_arguments(name: str, kwargs: dict, where: str, build_entry: Callable) -> dict:
    """``kwargs`` of layer ``name`` at position ``where`` with the JSON forms turned into
    constructor arguments; a ValueError starts with the position, e.g. "layer 2 (Index): ".

    ``build_entry(entry, where)`` builds a nested layer entry (Rnn's activation).
    """
    kwargs = dict(kwargs)
    for arg, default in LAYOUT_DEFAULTS.items():
        if arg in kwargs and kwargs[arg] != default:
            raise ValueError(f"{where} ({name}): {name}({arg}={quote(kwargs[arg])}): a JSON "
                             f"spec describes inputs laid out as (batch, spatial..., "
                             f"channels); leave {arg} out (or {default!r}), or build the "
                             f"network with engine.stax.{name} from Python")
    for arg in FUNCTION_ARGUMENTS.get(name, ()):
        if kwargs.get(arg) is not None:
            raise ValueError(f"{where} ({name}): {name}({arg}={quote(kwargs[arg])}): {arg} "
                             f"takes a Python function, which a JSON spec cannot give; use "
                             f"null (the default) here, or engine.stax.{name} from Python")
    if name == "Index" and "idx" in kwargs:
        try:
            kwargs["idx"] = parse_index(kwargs["idx"])
        except ValueError as err:
            raise ValueError(f"{where} ({name}): {err}") from None
    if name == "Rnn" and kwargs.get("activation") is not None:
        kwargs["activation"] = _activation(kwargs["activation"], where, build_entry)
    return kwargs


def _activation(entry, where, build_entry):
    """Rnn's activation from its entry, refused (naming the entry) unless elementwise."""
    layer = build_entry(entry, f"{where} > activation")
    try:
        return check_activation(layer)
    except ValueError:
        raise ValueError(f"{where} (Rnn): Rnn(activation={quote(entry)}): activation must be "
                         "an elementwise activation entry such as [\"Erf\", {}]") from None


def parse_index(text):
    """NumPy index text -> the index: "..., 1:7, ::2, 0" -> (..., slice(1, 7), slice(None,
    None, 2), 0). A ValueError names idx and shows the expected form."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"Index(idx={quote(text)}): in a JSON spec idx is NumPy index text "
                         f"such as {INDEX_EXAMPLE}")
    entries = tuple(_index_entry(part.strip(), text) for part in text.split(","))
    return entries[0] if len(entries) == 1 else entries


def _index_entry(part: str, text: str):
    if part == "...":
        return Ellipsis
    bounds = part.split(":")
    try:
        if len(bounds) == 1:
            return int(bounds[0])
        if len(bounds) <= 3:
            return slice(*(int(b) if b.strip() else None for b in bounds))
    except ValueError:
        pass
    raise ValueError(f"Index(idx={quote(text)}): entry {quote(part)} is not an integer, a "
                     f"slice start:stop:step of integers or ...; expected text such as "
                     f"{INDEX_EXAMPLE}")
