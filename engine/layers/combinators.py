"""Combinators: serial chains, parallel branches, repeat, FanOut / FanInSum, Identity.

Between FanOut(num) and FanInSum() the value is a tuple with one entry per branch;
``parallel`` applies its i-th branch to the i-th entry. FanInSum adds the branches:
for a residual block y = x + f(x) with f ending in a fresh weight layer the kernels add.
"""
from __future__ import annotations

import functools

import jax

from ..checks import hyperparameter
from . import masking
from .keywords import call_kernel
from .layer import Layer, Shape, expect_single
from .layout import ANY, flow
from .randomness import call_apply, split_rng


def _position_error(i: int, layer: Layer, err: ValueError) -> ValueError:
    """Prefix the position; a message that starts with the layer's own name drops it."""
    message = str(err).removeprefix(f"{layer.name}: ")
    return ValueError(f"layer {i} ({layer.name}): {message}")


def serial(*layers: Layer) -> Layer:
    """Compose layers: f(x) = f_n(... f_2(f_1(x))); the kernel map is the composition of the
    layers' kernel maps, (Sigma, Theta) -> kernel_n(... kernel_1(Sigma, Theta)).

    Args:
      *layers: the layers, applied first to last (any number, none gives the identity).
        Errors name the position of the offending layer (from 0).
    """
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise ValueError(f"serial: layer {i} must be a layer; got {layer!r}")

    def shape(s):
        for i, layer in enumerate(layers):
            try:
                s = flow(layer, s)
            except ValueError as err:
                raise _position_error(i, layer, err) from None
        return s

    def init(key, s):
        """A list with each layer's params; keys split one after another (as stax does)."""
        params = []
        for layer in layers:
            key, layer_key = jax.random.split(key)
            params.append(layer.init(layer_key, s))
            s = flow(layer, s)
        return params

    def apply(params, x, rng=None, **keywords):
        for p, layer, key in zip(params, layers, split_rng(rng, len(layers))):
            x = call_apply(layer, p, x, key, **keywords)
        return x

    def kernel(k, **keywords):
        return functools.reduce(lambda acc, layer: call_kernel(layer, acc, keywords), layers, k)

    return Layer(key=("serial",) + tuple(layers), shape=shape, kernel=kernel, apply=apply,
                 init=init, children=tuple(layers), axes=ANY, masks=masking.INSIDE)


def parallel(*layers: Layer) -> Layer:
    """Apply the i-th layer to the i-th branch opened by FanOut:
    (x_1, ..., x_n) -> (f_1(x_1), ..., f_n(x_n)), and each branch's kernel map to its kernel.

    Args:
      *layers: one layer per branch; their number must equal the number of branches
        (FanOut(n) before it).
    """
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
                out.append(flow(layer, si))
            except ValueError as err:
                raise ValueError(f"branch {i}: {err}") from None
        return tuple(out)

    def init(key, s):
        keys = jax.random.split(key, max(n, 1))
        return tuple(layer.init(k, si) for k, layer, si in zip(keys, layers, s))

    def apply(params, xs, rng=None, **keywords):
        return tuple(call_apply(layer, p, x, key, **keywords)
                     for p, layer, x, key in zip(params, layers, xs, split_rng(rng, n)))

    def kernel(ks, **keywords):
        return tuple(call_kernel(layer, k, keywords) for layer, k in zip(layers, ks))

    return Layer(key=("parallel",) + tuple(layers), shape=shape, kernel=kernel, apply=apply,
                 init=init, children=tuple(layers), axes=ANY, masks=masking.INSIDE)


def FanOut(num) -> Layer:
    """Open ``num`` branches: x -> (x, ..., x); each branch gets the input's kernel.

    Args:
      num: the number of branches (a positive integer); join them with FanInSum,
        FanInConcat or FanInProd, usually after a ``parallel``.
    """
    hyperparameter("FanOut", "num", num, positive=True, integer=True)

    def shape(s):
        return (expect_single("FanOut", s),) * num

    return Layer(key=("FanOut", num), shape=shape, kernel=lambda k: (k,) * num,
                 apply=lambda params, x: (x,) * num, axes=ANY, masks=masking.fanned_out(num))


def FanInSum() -> Layer:
    """Join branches by their sum: (x_1, ..., x_n) -> x_1 + ... + x_n.

    Kernel: Sigma' = sum_i Sigma_i, Theta' = sum_i Theta_i, which assumes uncorrelated
    branches (e.g. a residual block y = x + f(x) with f ending in a fresh weight layer);
    the branches must have the same shape.

    Args:
      none.
    """
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
                 apply=lambda params, xs: sum(xs[1:], xs[0]), axes=ANY, masks=masking.summed)


def Identity() -> Layer:
    """f(x) = x; the kernels pass unchanged (Sigma' = Sigma, Theta' = Theta).

    Args:
      none.
    """
    return Layer(key=("Identity",), shape=lambda s: s, kernel=lambda k: k,
                 apply=lambda params, x: x, axes=ANY, masks=masking.same)


def repeat(layer: Layer, n) -> Layer:
    """``layer`` applied ``n`` times in a compiled loop: ``serial(*[layer] * n)``, built once.

    Args:
      layer: the layer to repeat; its output must have the shape of its input.
      n: how many times (0 is the identity).

    Params are those of the n copies stacked along a leading axis (each leaf gets a first
    axis of length n), drawn with one key split after another, as neural-tangents lays them
    out. The kernel is the layer's kernel map iterated n times: once unrolled, then under
    ``lax.scan`` (compile time independent of n) when that first step leaves the Kernel's
    metadata (channels, layout, Gaussianity) unchanged, else unrolled throughout. The finite
    network draws a fresh key for each repetition from ``rng`` (``jax.random.fold_in``).
    """
    if not isinstance(layer, Layer):
        raise ValueError(f"repeat: layer must be a layer; got {layer!r}")
    hyperparameter("repeat", "n", n, nonnegative=True, integer=True)
    name = f"repeat({layer.name}, n={n})"

    def shape(s):
        out = s
        for i in range(min(n, 2)):  # the second pass settles Gaussianity; dims cannot change
            out = flow(layer, out)
            if isinstance(out, tuple) or out.dims != s.dims:
                got = f"{len(out)} branches" if isinstance(out, tuple) else ("N",) + out.dims
                raise ValueError(f"{name}: the layer must keep its input's shape "
                                 f"{('N',) + s.dims}; it outputs {got}; use serial(*[layer] * n)")
        return out

    def init(key, s):
        def one(key, _):
            key, layer_key = jax.random.split(key)
            return key, layer.init(layer_key, s)
        return jax.lax.scan(one, key, None, n)[1]

    def apply(params, x, rng=None, **keywords):
        def one(carry, p):
            x, i = carry
            key = None if rng is None else jax.random.fold_in(rng, i)
            return (call_apply(layer, p, x, key, **keywords), i + 1), None
        return jax.lax.scan(one, (x, 0), params, n)[0][0]

    def kernel(k, **keywords):
        step = functools.partial(call_kernel, layer, keywords=keywords)
        if n == 0:
            return k
        k = step(k)
        if n == 1:
            return k
        after = jax.eval_shape(step, k)
        if jax.tree_util.tree_structure(after) != jax.tree_util.tree_structure(k) or any(
                a.shape != b.shape for a, b in zip(jax.tree_util.tree_leaves(after),
                                                   jax.tree_util.tree_leaves(k))):
            for _ in range(n - 1):
                k = step(k)
            return k
        return jax.lax.scan(lambda c, _: (step(c), None), k, None, n - 1)[0]

    return Layer(key=("repeat", layer, n), shape=shape, kernel=kernel, apply=apply, init=init,
                 children=(layer,), axes=ANY, masks=masking.INSIDE)
