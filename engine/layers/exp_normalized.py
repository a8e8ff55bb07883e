"""ExpNormalized: a kernel map with no finite network, the "Gaussian normalized kernel".

Shankar et al. 2020 ("Neural kernels without tangents", arXiv:2003.02237, p. 6): with the
correlation rho = Sigma(x, x') / sqrt(q11 q22),
  Sigma' = sqrt(q11 q22) exp(gamma (rho + shift)),  Theta' = gamma Theta exp(gamma (rho + shift)).
It is the kernel of no elementwise activation, so there is no Monte Carlo check; apply_fn
raises ValueError (neural-tangents raises NotImplementedError there).
"""
from __future__ import annotations

import jax.numpy as jnp

from ..checks import hyperparameter
from ..kernel import variances
from . import masking
from .layer import Layer, Shape, expect_single


#: variances below this are taken as this in ExpNormalized's sqrt (a zero input stays finite)
TINY = 1e-30


def ExpNormalized(gamma=1.0, shift=-1.0, do_clip=False) -> Layer:
    """The Gaussian normalized kernel map (a kernel only: apply_fn raises ValueError).

    Args:
      gamma: the exponent's scale.
      shift: added to the correlation before exponentiating (-1 makes equal inputs give
        exp(0) = 1 times their variance).
      do_clip: clip the correlation rho = Sigma / sqrt(q11 q22) to [-1, 1] first.

    With rho = Sigma(x, x') / sqrt(q11 q22) (variances floored at 1e-30):
      Sigma' = sqrt(q11 q22) exp(gamma (rho + shift)),
      Theta' = gamma Theta exp(gamma (rho + shift)).
    Source: Shankar et al. 2020, "Neural kernels without tangents", p. 6; neural-tangents'
    stax.ExpNormalized.
    """
    hyperparameter("ExpNormalized", "gamma", gamma)
    hyperparameter("ExpNormalized", "shift", shift)
    if not isinstance(do_clip, bool):
        raise ValueError(f"ExpNormalized(do_clip={do_clip!r}): do_clip must be True or False")

    def normalized_exp(cov, qa, qb):
        scale = jnp.sqrt(jnp.maximum(qa, TINY)) * jnp.sqrt(jnp.maximum(qb, TINY))
        rho = cov / scale
        if do_clip:
            rho = jnp.clip(rho, -1.0, 1.0)
        return scale, jnp.exp(gamma * (rho + shift))

    def kernel(k):
        (q1, q2), (c1a, c1b), (c2a, c2b) = variances(k)
        scale, factor = normalized_exp(k.nngp, q1, q2)
        s1, f1 = normalized_exp(k.cov1, c1a, c1b)
        s2, f2 = normalized_exp(k.cov2, c2a, c2b)
        return k.replace(nngp=scale * factor, ntk=gamma * k.ntk * factor, cov1=s1 * f1,
                         cov2=s2 * f2, is_gaussian=False)

    def apply(params, x):
        raise ValueError("ExpNormalized: there is no finite network for this kernel map; "
                         "use kernel_fn only")

    def shape(s):
        s = expect_single("ExpNormalized", s)
        return Shape(s.dims, is_gaussian=False)

    return Layer(key=("ExpNormalized", gamma, shift, do_clip), shape=shape, kernel=kernel,
                 apply=apply, masks=masking.same, remask=True)
