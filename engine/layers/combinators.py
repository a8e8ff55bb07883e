"""Combinators: serial chains, parallel branches, FanOut / FanInSum, Identity.

Between FanOut(num) and FanInSum() the value is a tuple with one entry per branch;
``parallel`` applies its i-th branch to the i-th entry. FanInSum adds the branches:
for a residual block y = x + f(x) with f ending in a fresh weight layer the kernels add.
"""
from __future__ import annotations

import functools

import jax

from .layer import Layer, Shape, check_number, expect_single


def _position_error(i: int, layer: Layer, err: ValueError) -> ValueError:
    """Prefix the position; a message that starts with the layer's own name drops it."""
    message = str(err).removeprefix(f"{layer.name}: ")
    return ValueError(f"layer {i} ({layer.name}): {message}")


def serial(*layers: Layer) -> Layer:
    """Compose layers; errors name the position of the offending layer (from 0)."""
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise ValueError(f"serial: layer {i} must be a layer; got {layer!r}")

    def shape(s):
        for i, layer in enumerate(layers):
            try:
                s = layer.shape(s)
            except ValueError as err:
                raise _position_error(i, layer, err) from None
        return s

    def init(key, s):
        """A list with each layer's params; keys split one after another (as stax does)."""
        params = []
        for layer in layers:
            key, layer_key = jax.random.split(key)
            params.append(layer.init(layer_key, s))
            s = layer.shape(s)
        return params

    def apply(params, x):
        for p, layer in zip(params, layers):
            x = layer.apply(p, x)
        return x

    def kernel(k):
        return functools.reduce(lambda acc, layer: layer.kernel(acc), layers, k)

    return Layer(key=("serial",) + tuple(layers), shape=shape, kernel=kernel, apply=apply,
                 init=init, children=tuple(layers))


def parallel(*layers: Layer) -> Layer:
    """Apply the i-th layer to the i-th branch opened by FanOut."""
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise ValueError(f"parallel: branch {i} must be a layer; got {layer!r}")
    n = len(layers)

    def shape(s):
        if not isinstance(s, tuple) or len(s) != n:
            got = f"{len(s)} branches" if isinstance(s, tuple) else "a single input"
            raise ValueError(f"parallel with {n} branches needs FanOut({n}) before it; got {got}")
        out = []
        for i, (layer, si) in enumerate(zip(layers, s)):
            try:
                out.append(layer.shape(si))
            except ValueError as err:
                raise ValueError(f"branch {i}: {err}") from None
        return tuple(out)

    def init(key, s):
        keys = jax.random.split(key, max(n, 1))
        return tuple(layer.init(k, si) for k, layer, si in zip(keys, layers, s))

    def apply(params, xs):
        return tuple(layer.apply(p, x) for p, layer, x in zip(params, layers, xs))

    def kernel(ks):
        return tuple(layer.kernel(k) for layer, k in zip(layers, ks))

    return Layer(key=("parallel",) + tuple(layers), shape=shape, kernel=kernel, apply=apply,
                 init=init, children=tuple(layers))


def FanOut(num) -> Layer:
    check_number("FanOut", "num", num, positive=True, integer=True)

    def shape(s):
        return (expect_single("FanOut", s),) * num

    return Layer(key=("FanOut", num), shape=shape, kernel=lambda k: (k,) * num,
                 apply=lambda params, x: (x,) * num)


def FanInSum() -> Layer:
    def shape(s):
        if not isinstance(s, tuple):
            raise ValueError("FanInSum: there are no branches to join; "
                             "it needs a FanOut (and parallel) before it")
        if len({si.dims for si in s}) != 1:
            raise ValueError("FanInSum: branches have different shapes "
                             f"{[('N',) + si.dims for si in s]}")
        return Shape(s[0].dims, is_gaussian=all(si.is_gaussian for si in s))

    def kernel(ks):
        total = ks[0]
        for k in ks[1:]:
            total = total.replace(nngp=total.nngp + k.nngp, ntk=total.ntk + k.ntk,
                                  cov1=total.cov1 + k.cov1, cov2=total.cov2 + k.cov2)
        return total.replace(is_gaussian=all(k.is_gaussian for k in ks))

    return Layer(key=("FanInSum",), shape=shape, kernel=kernel,
                 apply=lambda params, xs: sum(xs[1:], xs[0]))


def Identity() -> Layer:
    return Layer(key=("Identity",), shape=lambda s: s, kernel=lambda k: k,
                 apply=lambda params, x: x)
