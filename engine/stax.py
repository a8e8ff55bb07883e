"""neural-tangents-style constructors: each returns ``(init_fn, apply_fn, kernel_fn)``.

Port code written for ``neural_tangents.stax`` by changing the import to ``engine.stax``.
"""
from __future__ import annotations

import functools

from .layers import activations, combinators, dense
from .network import Network, as_network


def _network(constructor):
    @functools.wraps(constructor)
    def make(*args, **kwargs):
        return Network(constructor(*args, **kwargs))
    return make


def _combinator(constructor):
    @functools.wraps(constructor)
    def make(*layers):
        return Network(constructor(*(as_network(layer) for layer in layers)))
    return make


Dense = _network(dense.Dense)
Relu = _network(activations.Relu)
LeakyRelu = _network(activations.LeakyRelu)
Abs = _network(activations.Abs)
ABRelu = _network(activations.ABRelu)
Erf = _network(activations.Erf)
FanOut = _network(combinators.FanOut)
FanInSum = _network(combinators.FanInSum)
Identity = _network(combinators.Identity)
serial = _combinator(combinators.serial)
parallel = _combinator(combinators.parallel)

#: every single-layer constructor by its name in specs (combinators are handled by spec.py)
LAYERS = {
    "Dense": Dense, "Relu": Relu, "LeakyRelu": LeakyRelu, "Abs": Abs, "ABRelu": ABRelu,
    "Erf": Erf, "FanOut": FanOut, "FanInSum": FanInSum, "Identity": Identity,
}
