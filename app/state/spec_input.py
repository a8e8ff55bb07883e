"""Specs from untrusted text (a link's ``spec=``, the JSON box): read, bounded, checked.

The text is read as JSON, never run. Its length and nesting are measured before it is
parsed (20,000 ``[`` overflow the JSON reader's stack), and the spec is checked against the
server's limits (``engine.check_spec``) before it reaches the session, so a spec beyond a
limit is refused with a message and never half-built.
"""
from __future__ import annotations

import json

import engine

from .limits import Limits

#: characters of spec text read at all (a spec within the default limits needs a few thousand)
MAX_CHARACTERS = 100_000
#: JSON nesting per combinator level: an entry, its arguments, a list of branches, a branch
LEVELS_PER_COMBINATOR = 4


def nesting(text: str) -> int:
    """How deep ``[`` and ``{`` nest in ``text`` (outside strings), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            escaped, in_string = (False, True) if escaped else (char == "\\", char != '"')
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def max_nesting(limits: Limits) -> int:
    """The deepest JSON a spec within ``limits`` needs (the top list, a layer, an argument list)."""
    return LEVELS_PER_COMBINATOR * (limits.max_depth + 1) + 1


def check_text(text: str, limits: Limits) -> None:
    """Refuse spec text too long or too deeply nested to be read at all (a ValueError)."""
    if len(text) > MAX_CHARACTERS:
        raise ValueError(f"the spec text has {len(text):,} characters; at most "
                         f"{MAX_CHARACTERS:,} are read")
    depth, deepest = nesting(text), max_nesting(limits)
    if depth > deepest:
        raise ValueError(f"the spec text nests lists and objects {depth:,} deep; a spec within "
                         f"{limits.describe('max_depth')} nests at most {deepest} deep")


def parse(text: str, limits: Limits):
    """The JSON value of ``text`` if it is within the limits; else a ValueError saying why."""
    check_text(text, limits)
    try:
        spec = json.loads(text)
    except (ValueError, RecursionError) as err:  # e.g. an integer of more than 4300 digits
        raise ValueError(str(err)) from None
    check(spec, limits)
    return spec


def check(spec, limits: Limits) -> None:
    """Refuse a spec beyond the server's limits (the engine's message and how to raise it)."""
    try:
        engine.check_spec(spec, limits.spec_limits())
    except ValueError as err:
        names = [n for n in limits.param if n.startswith("max_") and f"{n} =" in str(err)]
        raise ValueError(f"{err}" + (f" (set IWE_{names[0].upper()} or --"
                                     f"{names[0].replace('_', '-')} when starting the server)"
                                     if names else "")) from None
