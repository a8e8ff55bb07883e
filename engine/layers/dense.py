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

from ..checks import hyperparameter
from .layer import Layer, Shape, expect_single
from . import masking
from .layout import with_axes

PARAMETERIZATIONS = ("ntk", "standard")


def check_affine(name, W_std, b_std, parameterization):
    hyperparameter(name, "W_std", W_std, nonnegative=True)
    hyperparameter(name, "b_std", b_std, nonnegative=True, allow_none=True)
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"{name}(parameterization={parameterization!r}): expected one of "
                         f"{list(PARAMETERIZATIONS)}")


def check_scaling(name, s, parameterization) -> tuple[int, int]:
    """neural-tangents' ``s = (s_in, s_out)`` of the standard parameterization: the layer
    takes s_in * n_in inputs and gives s_out * out outputs (Sohl-Dickstein et al. 2020); the
    NTK parameterization ignores it, as neural-tangents does."""
    if (not isinstance(s, (tuple, list)) or len(s) != 2 or any(
            isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in s)):
        raise ValueError(f"{name}(s={s!r}): expected two positive integers (s_in, s_out)")
    return (1, 1) if parameterization == "ntk" else (int(s[0]), int(s[1]))


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


def Dense(out_dim, W_std=1.0, b_std=None, batch_axis=0, channel_axis=-1,
          parameterization="ntk", s=(1, 1)) -> Layer:
    """Fully connected over the channel axis: z = (W_std / sqrt(n_in)) W h + b_std b (NTK
    parameterization) or z = W h + b (standard), applied at every position.

    Args:
      out_dim: output channels (a positive integer).
      W_std: weight standard deviation (non-negative).
      b_std: bias standard deviation, or None for no bias.
      batch_axis, channel_axis: where the inputs hold the batch and the channels
        (engine.layers.layout); the output keeps them there.
      parameterization: 'ntk' or 'standard' (module docstring).
      s: (s_in, s_out), standard parameterization only: W has shape (n_in, s_out * out_dim)
        for inputs of n_in = s_in * (nominal width) channels, drawn with variance
        W_std^2 s_in / n_in, and the output is (x W) / sqrt(s_in) + b; the NTK's Sigma term
        is weighted by n_in / s_in (neural-tangents' width scalings; Sohl-Dickstein et al.
        2020, "On the infinite width limit of neural networks with a standard
        parameterization").

    Kernel: Sigma' = W_std^2 Sigma + b_std^2; Theta' = Sigma' + W_std^2 Theta (NTK
    parameterization; Jacot et al. 2018, Lee et al. 2019).
    """
    return with_axes(_dense(out_dim, W_std, b_std, parameterization, s), "Dense", batch_axis,
                     channel_axis)


def _dense(out_dim, W_std, b_std, parameterization, s) -> Layer:
    name = f"Dense(out_dim={out_dim!r})"
    hyperparameter("Dense", "out_dim", out_dim, positive=True, integer=True)
    check_affine("Dense", W_std, b_std, parameterization)
    s_in, s_out = check_scaling("Dense", s, parameterization)
    ntk_param = parameterization == "ntk"
    width = out_dim * s_out

    def shape(shape_in):
        shape_in = expect_single(name, shape_in)
        return Shape(shape_in.dims[:-1] + (width,), is_gaussian=True)

    def init(key, shape_in):
        """(W, b) as neural-tangents lays them out: W (n_in, out), b (1, ..., out) or None."""
        n_in = shape_in.dims[-1]
        kw, kb = jax.random.split(key)
        W = jax.random.normal(kw, (n_in, width))
        if not ntk_param:
            W = W * (W_std / math.sqrt(n_in / s_in))
        if b_std is None:
            return W, None
        b = jax.random.normal(kb, (1,) * len(shape_in.dims) + (width,))
        return W, (b if ntk_param else b * b_std)

    def apply(params, x):
        W, b = params
        w_mult = W_std / math.sqrt(x.shape[-1]) if ntk_param else 1.0 / math.sqrt(s_in)
        z = w_mult * (x @ W)
        if b_std is None:
            return z
        return z + (b_std if ntk_param else 1.0) * b

    def kernel(k):
        return affine_kernel(k, k.nngp, k.ntk, lambda c: c, k.channels / s_in, W_std, b_std,
                             parameterization, width)

    scaling = () if (s_in, s_out) == (1, 1) else (("s", s_in, s_out),)
    return Layer(key=("Dense", out_dim, W_std, b_std, parameterization) + scaling,
                 shape=shape, kernel=kernel, apply=apply, init=init,
                 masks=masking.all_channels, remask=True)
