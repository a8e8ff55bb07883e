"""Kernels beyond float64: a ValueError naming the first layer that overflows, never NaN/inf.

Deep networks with growing variances (W_std^2 E[phi'^2] > 1 for ReLU-like layers, Exp,
monomials), a Gaussian activation with b > 0 (an infinite expectation) or a hyperparameter
whose square passes 1.8e308 push a kernel out of float64; compiled code would return inf or
NaN. ``guarded`` runs the kernel computation, and when the result is concrete (never inside
a trace) and not finite, or Python raised OverflowError (``W_std ** 2`` for W_std >=
1.4e154), it reruns the layers one at a time on one offending pair of inputs to name the
first layer whose kernel leaves float64 (with the keywords of kernel_fn, such as Aggregate's
``pattern=(pattern1, pattern2)``, cut to the same pair of inputs):

    layer 37 (Exp): kernel overflows float64 (inf or NaN; the largest variance entering the
    layer is 7.2e+02): lower W_std or b_std, use fewer layers or scale the inputs down
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .kernel import input_kernel
from .layers.keywords import call_kernel

ADVICE = "lower W_std or b_std, use fewer layers or scale the inputs down"


def guarded(layer, compute, x1, x2, diagonal: bool, keywords=None):
    """``compute()`` (a Kernel), or a ValueError naming the layer where it overflows.

    ``keywords``: kernel_fn's keyword pairs (for x1, for x2), as the layers read them.
    """
    keywords = keywords or {}
    try:
        k = compute()
    except OverflowError:
        a, b, cut = _probe(x1, x2, None, keywords)
        raise diagnose(layer, a, b, diagonal, cut) from None
    computed = [a for a in (k.nngp, k.ntk) if a is not None]  # ntk None: not asked for
    if _finite_or_traced(*computed):
        return k
    a, b, cut = _probe(x1, x2, [np.asarray(a) for a in computed], keywords)
    raise diagnose(layer, a, b, diagonal, cut)


def _finite_or_traced(*arrays) -> bool:
    """All entries finite (reduced where the arrays live), or values unknown (traced)."""
    try:
        return all(bool(jnp.isfinite(a).all()) for a in arrays)
    except jax.errors.ConcretizationTypeError:
        return True


def concrete(x):
    """``x`` as a NumPy array, or None when it is traced (inside jit/grad/vmap)."""
    try:
        return np.asarray(x)
    except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError):
        return None


def _probe(x1, x2, values, keywords):
    """One input of x1 and one of x2 whose kernel entry is not finite, as NumPy arrays, and
    the keywords cut to them (each pair's first entry at x1's input, second at x2's).

    Traced inputs (an OverflowError met while tracing) are replaced by ones and traced
    keywords by zeros: a Python overflow does not depend on the values.
    """
    shape = (1,) + tuple(np.shape(x1)[1:])
    c1 = concrete(x1)
    c2 = c1 if x2 is None else concrete(x2)
    i, j = 0, 0
    if values is not None:
        bad = np.argwhere(np.logical_or.reduce([~np.isfinite(v) for v in values]))
        i, j = (int(bad[0][0]), int(bad[0][1])) if len(bad) else (0, 0)
    cut = {name: (_row(first, i), _row(second, j)) for name, (first, second) in
           keywords.items()}
    if c1 is None or c2 is None:
        return np.ones(shape), np.ones(shape), cut
    return c1[i:i + 1], c2[j:j + 1], cut


def _row(part, i):
    """Input i of a keyword entry (a pytree of arrays with a leading input axis), kept as a
    leading axis of length 1; zeros of its shape and dtype when it is traced."""
    def one(leaf):
        value = concrete(leaf)
        if value is None:
            return np.zeros((1,) + tuple(np.shape(leaf)[1:]), np.dtype(leaf.dtype))
        return value[i:i + 1]
    return jax.tree_util.tree_map(one, part)


def steps(layer, prefix=""):
    """(label, layer) for the leaves of nested serial chains, in order of computation."""
    if layer.name != "serial":
        return [(prefix or f"layer 0 ({layer.name})", layer)]
    out = []
    for i, child in enumerate(layer.children):
        label = f"{prefix}, " if prefix else ""
        label += f"layer {i} ({child.name})"
        out.extend(steps(child, label) if child.name == "serial" else [(label, child)])
    return out


def _finite(k) -> bool:
    kernels = k if isinstance(k, tuple) else (k,)
    return all(np.isfinite(np.asarray(a)).all()
               for kk in kernels for a in (kk.nngp, kk.ntk, kk.cov1, kk.cov2))


def _largest_variance(k) -> float:
    kernels = k if isinstance(k, tuple) else (k,)
    return max(float(np.max(np.abs(np.asarray(kk.cov1)))) for kk in kernels)


@functools.partial(jax.jit, static_argnums=0)
def _jitted(step, k, keywords):
    return call_kernel(step, k, keywords)


def _run(step, k, keywords):
    """One layer's kernel (with the keywords it reads), compiled once per layer when the
    layer is hashable."""
    try:
        hash(step)
    except TypeError:
        return call_kernel(step, k, keywords)
    return _jitted(step, k, keywords)


def diagnose(layer, x1, x2, diagonal: bool, keywords=None) -> ValueError:
    """The error for the first step whose kernel of (x1, x2) is not finite.

    ``keywords``: kernel_fn's keyword pairs cut to the inputs x1 and x2 (one each).
    """
    keywords = keywords or {}
    k = input_kernel(np.asarray(x1, np.float64), np.asarray(x2, np.float64), diagonal)
    if not _finite(k):
        return ValueError("kernel_fn: the inputs' kernel x . x' / d overflows float64; "
                          "scale the inputs down")
    for label, step in steps(layer):
        variance = _largest_variance(k)
        try:
            k = _run(step, k, keywords)
        except OverflowError:
            return ValueError(f"{label}: kernel overflows float64 (a hyperparameter squared, "
                              f"such as W_std ** 2, is beyond 1.8e308): {ADVICE}")
        if not _finite(k):
            return ValueError(f"{label}: kernel overflows float64 (inf or NaN; the largest "
                              f"variance entering the layer is {variance:.3g}): {ADVICE}")
    return ValueError(f"kernel_fn: kernel overflows float64 (inf or NaN in the result): "
                      f"{ADVICE}")
