"""Dropout: each unit kept with probability ``rate`` (and scaled by 1 / rate), else zeroed.

Finite layer (train mode): y = m x / rate with m ~ Bernoulli(rate) drawn independently for
every entry of x (every input, position and channel) at each call of
``apply_fn(params, x, rng=key)``; test mode is the identity.

Kernel (train mode): E[m m'] / rate^2 is 1 for two different entries and 1 / rate for an
entry with itself, so the covariance of an input with itself at one position is scaled by
1 / rate and every other covariance is unchanged:
  Sigma'(x, x')[p, q] = Sigma(x, x')[p, q] (1 / rate if x is x' and p == q, else 1),
and the same for Theta (the Jacobian of a fixed-mask network carries the same mask twice).
"x is x'" means: ``kernel_fn(x1)`` or ``kernel_fn(x1, x2)`` with x2 equal to x1, on the
diagonal i == j, as in neural-tangents (Dropout's kernel in neural_tangents/_src/stax/
linear.py; the 1 / rate rule is that of Srivastava et al. 2014 applied to the NNGP).
The output is not Gaussian (the mask multiplies it), so an activation cannot follow directly.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from ..checks import hyperparameter
from ..kernel import Kernel
from . import masking
from .layer import Shape, expect_single
from .layout import ANY
from .randomness import RandomLayer

MODES = ("train", "test")


def Dropout(rate, mode="train") -> RandomLayer:
    """Dropout with keep probability ``rate``.

    Args:
      rate: the probability of KEEPING a unit, in (0, 1]; rate=1 keeps all (the identity).
      mode: "train" (random mask; ``apply_fn(params, x, rng=key)`` needs a key) or "test"
        (the identity, finite and infinite).

    Kernel in train mode: nngp and ntk of an input with itself, at equal positions, times
    1 / rate; everything else unchanged (see the module docstring).
    """
    hyperparameter("Dropout", "rate", rate)
    if not 0 < rate <= 1:
        raise ValueError(f"Dropout(rate={rate!r}): rate is the keep probability and must be "
                         "in (0, 1]")
    if mode not in MODES:
        raise ValueError(f"Dropout(mode={mode!r}): expected one of {list(MODES)}")
    train = mode == "train"

    def shape(s):
        s = expect_single("Dropout", s)
        return Shape(s.dims, is_gaussian=s.is_gaussian and not train)

    def apply(params, x, rng=None):
        if not train:
            return x
        if rng is None:
            raise ValueError("Dropout(mode='train'): apply_fn needs a random key, "
                             "apply_fn(params, x, rng=key)")
        keep = jax.random.bernoulli(rng, rate, x.shape)
        return jnp.where(keep, x / rate, 0.0)

    def kernel(k: Kernel) -> Kernel:
        if not train:
            return k
        same = k.same
        if same is None and k.x1_is_x2 is not None:  # kernel_fn(kernel): as neural-tangents
            n1, n2 = k.nngp.shape[:2]
            same = k.x1_is_x2 & (jnp.arange(n1)[:, None] == jnp.arange(n2)[None, :])
        if same is None:
            raise ValueError("Dropout(mode='train'): the kernel does not say which inputs of "
                             "x1 and x2 are the same (its x1_is_x2 is None); pass a Kernel "
                             "made by a kernel_fn, or call kernel_fn(x1, x2)")
        factor = 1.0 / rate
        return k.replace(nngp=scale_same(k.nngp, same, factor, k.spatial, k.diagonal),
                         ntk=scale_same(k.ntk, same, factor, k.spatial, k.diagonal),
                         cov1=scale_positions(k.cov1, factor, k.spatial, k.diagonal),
                         cov2=scale_positions(k.cov2, factor, k.spatial, k.diagonal),
                         is_gaussian=False)

    return RandomLayer(key=("Dropout", rate, mode), shape=shape, kernel=kernel, apply=apply,
                       same_inputs=train, axes=ANY, masks=masking.same)


def _equal_positions(shape, spatial: int, diagonal: bool, lead: int):
    """1.0 where the positions of a pair are equal (full layout), all ones when diagonal."""
    if diagonal or spatial == 0:
        return 1.0
    sizes = shape[lead::2]
    mask = 1.0
    for d, size in enumerate(sizes):
        eye = jnp.eye(size)
        axes = [1] * (2 * spatial)
        axes[2 * d], axes[2 * d + 1] = size, size
        mask = mask * eye.reshape(axes)
    return mask


def scale_same(x, same, factor, spatial, diagonal):
    """x (N1, N2, ...) times factor where the inputs are the same and the positions equal."""
    where = same.reshape(same.shape + (1,) * (x.ndim - 2)) * \
        _equal_positions(x.shape, spatial, diagonal, 2)
    return x * (1.0 + (factor - 1.0) * where)


def scale_positions(x, factor, spatial, diagonal):
    """A self-covariance (N, ...) times factor at equal positions."""
    return x * (1.0 + (factor - 1.0) * _equal_positions(x.shape, spatial, diagonal, 1))
