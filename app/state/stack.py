"""The layer stack as the editor sees it: engine specs with residual blocks folded.

An engine spec is a JSON list of ``[name, {arguments}]``. The editor shows a residual
block ``y = x + f(x)`` as one item ``["Residual", {"layers": f}]``, which unfolds to the
engine's ``FanOut(2) > parallel([f, [Identity]]) > FanInSum`` (design.md §2: the kernels
add). Positions are paths: ``(i,)`` for a top-level item, ``(i, j)`` for item j inside
residual block i. Every function here returns a new list; nothing is edited in place.
"""
from __future__ import annotations

import copy
import json
import re

import engine

RESIDUAL = "Residual"
WIDTH_ARGS = engine.WIDTH_ARGUMENT  # the width of each weight layer
_RESIDUAL_HEAD = ["FanOut", {"num": 2}]
_IDENTITY_BRANCH = [["Identity", {}]]


def canonical(spec) -> str:
    """The spec as compact JSON with sorted keys: a hashable cache key and URL value."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


# ------------------------------------------------------------- fold / unfold residuals

def fold(spec: list) -> list:
    """Editor items from an engine spec: each FanOut/parallel/FanInSum residual is one item."""
    items, i = [], 0
    while i < len(spec):
        inner = _residual_at(spec, i)
        if inner is None:
            items.append(copy.deepcopy(spec[i]))
            i += 1
        else:
            items.append([RESIDUAL, {"layers": fold(inner)}])
            i += 3
    return items


def unfold(items: list) -> list:
    """The engine spec of editor items."""
    spec = []
    for name, kwargs in items:
        if name == RESIDUAL:
            branches = [unfold(kwargs["layers"]), copy.deepcopy(_IDENTITY_BRANCH)]
            spec += [copy.deepcopy(_RESIDUAL_HEAD), ["parallel", {"branches": branches}],
                     ["FanInSum", {}]]
        else:
            spec.append(copy.deepcopy([name, kwargs]))
    return spec


def _residual_at(spec, i):
    """The inner layers if spec[i:i+3] is a residual block, else None."""
    window = spec[i:i + 3]
    if len(window) < 3 or not all(_is_entry(e) for e in window):
        return None
    head, body, tail = window
    branches = body[1].get("branches") if body[0] == "parallel" else None
    if (head != _RESIDUAL_HEAD or tail[0] != "FanInSum" or not isinstance(branches, list)
            or len(branches) != 2 or branches[1] != _IDENTITY_BRANCH
            or not isinstance(branches[0], list) or not branches[0]
            or not all(_is_entry(e) for e in branches[0])):
        return None
    return branches[0]


def _is_entry(entry) -> bool:
    return (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
            and isinstance(entry[1], dict))


def is_spec_shaped(spec) -> bool:
    """A non-empty list of [name, {arguments}] pairs (the engine checks the rest)."""
    return isinstance(spec, list) and bool(spec) and all(_is_entry(e) for e in spec)


# ------------------------------------------------------------- edits at a path

def _container(items: list, path: tuple) -> list:
    """The list that holds the item at ``path`` (path[:-1] walks into residual blocks)."""
    for i in path[:-1]:
        items = items[i][1]["layers"]
    return items


def get(items: list, path: tuple):
    return _container(items, path)[path[-1]]


def insert(items: list, path: tuple, entry) -> list:
    """A copy with ``entry`` inserted at ``path`` (path[-1] may equal the length: append)."""
    out = copy.deepcopy(items)
    _container(out, path).insert(path[-1], copy.deepcopy(entry))
    return out


def remove(items: list, path: tuple) -> list:
    """A copy without the item at ``path``; an emptied residual block goes too."""
    out = copy.deepcopy(items)
    _container(out, path).pop(path[-1])
    if len(path) > 1 and not _container(out, path):
        return remove(out, path[:-1])
    return out


def move(items: list, path: tuple, offset: int) -> list:
    """A copy with the item at ``path`` moved ``offset`` places within its list."""
    out = copy.deepcopy(items)
    siblings = _container(out, path)
    j = min(max(path[-1] + offset, 0), len(siblings) - 1)
    siblings.insert(j, siblings.pop(path[-1]))
    return out


def replace(items: list, path: tuple, entry) -> list:
    out = copy.deepcopy(items)
    _container(out, path)[path[-1]] = copy.deepcopy(entry)
    return out


def wrap_residual(items: list, path: tuple, count: int = 1) -> list:
    """A copy with ``count`` items from ``path`` on wrapped in one residual block."""
    out = copy.deepcopy(items)
    siblings, i = _container(out, path), path[-1]
    siblings[i:i + count] = [[RESIDUAL, {"layers": siblings[i:i + count]}]]
    return out


def unwrap(items: list, path: tuple) -> list:
    """A copy with the residual block at ``path`` replaced by its inner layers."""
    out = copy.deepcopy(items)
    siblings, i = _container(out, path), path[-1]
    siblings[i:i + 1] = siblings[i][1]["layers"]
    return out


# ------------------------------------------------------------- widths

def weight_paths(items: list, prefix=()) -> list[tuple]:
    paths = []
    for i, (name, kwargs) in enumerate(items):
        if name == RESIDUAL:
            paths += weight_paths(kwargs["layers"], prefix + (i,))
        elif name in WIDTH_ARGS:
            paths.append(prefix + (i,))
    return paths


def hidden_paths(items: list) -> list[tuple]:
    """Paths of the hidden weight layers: every weight layer but the last (the readout)."""
    return weight_paths(items)[:-1]


def kernel_key(spec: list) -> str:
    """A cache key of the infinite-width kernel of ``spec``.

    In the NTK parameterization the hidden widths drop out of the kernels (design.md §2),
    so they are left out of the key and moving the width slider reuses the kernels; the
    standard parameterization's NTK grows with the widths, so there they stay in.
    """
    if not is_spec_shaped(spec):
        return canonical(spec)
    items = fold(spec)
    weights = [get(items, p)[1] for p in weight_paths(items)]
    if any(w.get("parameterization", "ntk") != "ntk" for w in weights):
        return canonical(spec)
    return canonical(engine.with_width(spec, 1))


# ------------------------------------------------------------- error positions

_POSITION = re.compile(r"(layer|branch) (\d+)(?: \([^)]*\))?(?: > |: )")


def error_path(items: list, message: str) -> tuple | None:
    """The editor path of the item an engine error names, or None.

    Engine messages start with the position, e.g. "layer 2 (Dense): ..." or
    "layer 4 > branch 0 > layer 1 (Dense): ..." (spec positions, counted from 0).
    """
    tokens, pos = [], 0
    while (m := _POSITION.match(message, pos)) is not None:
        tokens.append((m.group(1), int(m.group(2))))
        pos = m.end()
    return _locate(items, tokens) if tokens and tokens[0][0] == "layer" else None


#: what the engine's residual plumbing says, in the editor's words
_RESIDUAL_SHAPES = re.compile(r"branches have different shapes \[(\(.*?\)), (\(.*?\))\]")


def editor_message(items: list, message: str) -> str:
    """The engine's message in the editor's terms: positions are the editor's (a residual
    block is one item, its layers numbered inside it), and an error at a block's plumbing
    (FanOut, parallel, FanInSum, which the editor shows as one block) names the block."""
    path = error_path(items, message)
    prefix = _PREFIX.match(message)
    if path is None or prefix is None:
        return message
    rest, position = message[prefix.end():], ".".join(map(str, path))
    name = get(items, path)[0]
    if name != RESIDUAL:
        return f"layer {position} ({name}): {rest}"
    shapes = _RESIDUAL_SHAPES.search(rest)
    if shapes:
        rest = (f"its layers turn an input of shape {shapes.group(2)} into {shapes.group(1)}; "
                f"y = x + f(x) needs f(x) shaped like x (keep the width and the spatial size "
                f"inside the block)")
    return f"Residual block {position}: {rest}"


_PREFIX = re.compile(r"(?:(?:layer|branch) \d+(?: \([^)]*\))?(?: > |: ))+")


def _locate(items: list, tokens: list) -> tuple | None:
    start = 0
    spec_index = tokens[0][1]
    for i, (name, kwargs) in enumerate(items):
        size = 3 if name == RESIDUAL else 1
        if start <= spec_index < start + size:
            rest = tokens[1:]
            if (name == RESIDUAL and spec_index == start + 1 and len(rest) >= 2
                    and rest[0] == ("branch", 0) and rest[1][0] == "layer"):
                inner = _locate(kwargs["layers"], rest[1:])
                return (i,) + inner if inner else (i,)
            return (i,)
        start += size
    return None
