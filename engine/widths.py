"""Width of a spec: the same architecture with every hidden layer made n units wide.

    with_width(spec, 512)                # hidden Dense out_dim / Conv* out_chan -> 512
    with_width(spec, 512, readout=512)   # the readout too (a wide copy for NNGP estimates)

The readout is the last weight layer on the way to the output: the last weight layer of the
top-level list, looking inside a trailing ``serial`` and into every branch of a trailing
``parallel`` (each branch ends in its own readout). Layers after it (activations, FanInSum)
do not change that. Every other weight layer (``WIDTH_ARGUMENT``) is hidden.
"""
from __future__ import annotations

from engine import checks

#: the argument that sets the number of output units of each weight layer
WIDTH_ARGUMENT = {"Dense": "out_dim", "Conv": "out_chan", "ConvTranspose": "out_chan",
                  "ConvLocal": "out_chan"}


def with_width(spec, width: int, readout: int | None = None) -> list:
    """A copy of ``spec`` whose hidden weight layers have ``width`` units.

    The readout keeps its size unless ``readout`` is given. Raises ValueError for a width
    that is not a positive integer.
    """
    checks.count("with_width", "width", width, maximum=None)
    if readout is not None:
        checks.count("with_width", "readout", readout, maximum=None)
    items, _ = _walk(spec, width, readout, pending=True)
    return items


def _walk(items, width, readout, pending):
    """(new items, readout still to be found) going from the output backwards."""
    if not isinstance(items, (list, tuple)):
        return items, pending  # malformed: engine.build names the problem
    out = []
    for item in reversed(items):
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[1], dict)):
            out.append(item)
            continue
        name, kwargs = item[0], dict(item[1])
        if name == "serial" and "layers" in kwargs:
            kwargs["layers"], pending = _walk(kwargs["layers"], width, readout, pending)
        elif name == "parallel" and isinstance(kwargs.get("branches"), (list, tuple)):
            walked = [_walk(branch, width, readout, pending) for branch in kwargs["branches"]]
            kwargs["branches"] = [branch for branch, _ in walked]
            pending = pending and all(still for _, still in walked)
        elif name in WIDTH_ARGUMENT:
            units = readout if pending else width
            if units is not None:
                kwargs[WIDTH_ARGUMENT[name]] = units
            pending = False
        out.append([name, kwargs])
    return out[::-1], pending
