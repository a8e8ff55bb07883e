"""Dense: an affine map over the channel (last) axis.

NTK parameterization (default): z = (W_std / sqrt(n_in)) W h + b_std b with W, b ~ N(0, 1);
  Sigma' = W_std^2 Sigma + b_std^2,  Theta' = Sigma' + W_std^2 Theta.
Standard parameterization: z = W h + b with W ~ N(0, W_std^2 / n_in), b ~ N(0, b_std^2);
  Sigma' as above,  Theta' = n_in Sigma + W_std^2 Theta + (1 if bias).
(Jacot et al. 2018; Lee et al. 2019, appendix on the standard parameterization.)
"""
from __future__ import annotations

import math

import jax

from .layer import Layer, Shape, check_number, expect_single

PARAMETERIZATIONS = ("ntk", "standard")


def check_affine(name, W_std, b_std, parameterization):
    check_number(name, "W_std", W_std, nonnegative=True)
    check_number(name, "b_std", b_std, nonnegative=True, allow_none=True)
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"{name}(parameterization={parameterization!r}): expected one of "
                         f"{list(PARAMETERIZATIONS)}")


def affine_kernel(k, nngp_in_scaled, ntk_in_scaled, cov_map, n_in, W_std, b_std,
                  parameterization, channels):
    """Shared by Dense and Conv: Sigma' = W^2 A(Sigma) + b^2, Theta' by parameterization.

    ``nngp_in_scaled`` / ``ntk_in_scaled`` are the layer's linear map A applied to the
    incoming nngp / ntk; ``cov_map`` applies A to a self-covariance.
    """
    b2 = 0.0 if b_std is None else b_std ** 2
    nngp = W_std ** 2 * nngp_in_scaled + b2
    if parameterization == "ntk":
        ntk = nngp + W_std ** 2 * ntk_in_scaled
    else:
        ntk = n_in * nngp_in_scaled + W_std ** 2 * ntk_in_scaled + (0.0 if b_std is None else 1.0)
    return k.replace(nngp=nngp, ntk=ntk,
                     cov1=W_std ** 2 * cov_map(k.cov1) + b2,
                     cov2=W_std ** 2 * cov_map(k.cov2) + b2,
                     channels=channels, is_gaussian=True)


def Dense(out_dim, W_std=1.0, b_std=None, parameterization="ntk") -> Layer:
    name = f"Dense(out_dim={out_dim!r})"
    check_number("Dense", "out_dim", out_dim, positive=True, integer=True)
    check_affine("Dense", W_std, b_std, parameterization)
    ntk_param = parameterization == "ntk"

    def shape(s):
        s = expect_single(name, s)
        return Shape(s.dims[:-1] + (out_dim,), is_gaussian=True)

    def init(key, s):
        """(W, b) as neural-tangents lays them out: W (n_in, out), b (1, ..., out) or None."""
        n_in = s.dims[-1]
        kw, kb = jax.random.split(key)
        W = jax.random.normal(kw, (n_in, out_dim))
        if not ntk_param:
            W = W * (W_std / math.sqrt(n_in))
        if b_std is None:
            return W, None
        b = jax.random.normal(kb, (1,) * len(s.dims) + (out_dim,))
        return W, (b if ntk_param else b * b_std)

    def apply(params, x):
        W, b = params
        w_mult = W_std / math.sqrt(x.shape[-1]) if ntk_param else 1.0
        z = w_mult * (x @ W)
        if b_std is None:
            return z
        return z + (b_std if ntk_param else 1.0) * b

    def kernel(k):
        return affine_kernel(k, k.nngp, k.ntk, lambda c: c, k.channels, W_std, b_std,
                             parameterization, out_dim)

    return Layer(key=("Dense", out_dim, W_std, b_std, parameterization),
                 shape=shape, kernel=kernel, apply=apply, init=init)
