"""Random positional embeddings of GlobalSelfAttention: added to or concatenated with inputs.

Finite network: one embedding e of shape (1, *positions, C_e) shared by every input, e ~ N(0, 1)
(a parameter), optionally correlated across positions by e <- L e with L L^T = R, then
scaled by W_pos_emb_std. SUM gives keys/queries x + e (C_e = C); CONCAT gives [x, e]
(C + C_e channels); values get the same only when ``val_pos_emb``.

Kernel: over the channels the embedding's covariance between positions p and q is
W_pos_emb_std^2 R[p, q], with R = decay_fn(sum_axes |p_a - q_a|^p_norm) or the identity
(decay_fn None), and it is independent of the inputs. The next 1 / C_in averages the two
parts by their channel counts:
  Sigma_emb[p, q] = w_in Sigma[p, q] + w_e R[p, q],
  SUM: w_in = 1, w_e = W_pos_emb_std^2;  CONCAT: w_in = C / (C + C_e),
  w_e = W_pos_emb_std^2 C_e / (C + C_e).
The embedding is a trained parameter: where it enters the values, the NTK gains w_e R too.
(Hron et al. 2020, "Infinite attention: NNGP and NTK for deep attention networks",
arXiv:2006.10540; neural-tangents' stax.GlobalSelfAttention for the weights w_in, w_e.)

Masked inputs (neural-tangents' ``mask_constant``, engine.layers.masking): the embedding is
zero at masked entries (after the correlation L), so R[p, q] is zero where p or q is masked;
the kernel needs masks uniform over the channels for that (as neural-tangents).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from ..checks import hyperparameter
from .choices import choice_name
from .layout import drawn

KINDS = ("NONE", "SUM", "CONCAT")


@dataclass(frozen=True)
class PositionalEmbedding:
    """The positional-embedding arguments of GlobalSelfAttention, validated once."""

    kind: str
    p_norm: float
    decay_fn: Callable | None
    n_chan: int | None
    W_std: float
    in_values: bool

    @property
    def used(self) -> bool:
        return self.kind != "NONE"

    def channels(self, c_in: int) -> int:
        """C_e: the embedding's channel count for inputs with ``c_in`` channels."""
        return c_in if self.n_chan is None else self.n_chan

    def key_channels(self, c_in: int) -> int:
        return c_in + self.channels(c_in) if self.kind == "CONCAT" else c_in

    def value_channels(self, c_in: int) -> int:
        return self.key_channels(c_in) if self.in_values else c_in

    def weights(self, c_in: int) -> tuple[float, float]:
        """(w_in, w_e) of Sigma_emb = w_in Sigma + w_e R (see the module docstring)."""
        if self.kind != "CONCAT":
            return 1.0, self.W_std ** 2
        c_e = self.channels(c_in)
        return c_in / (c_in + c_e), self.W_std ** 2 * c_e / (c_in + c_e)

    def init(self, key, dims: tuple[int, ...], order=None):
        """The embedding parameter, (1, *positions, C_e); None when there is none. Drawn in
        the inputs' layout ``order`` (None: canonical), as neural-tangents draws it."""
        if not self.used:
            return None
        return drawn(key, (1,) + dims[:-1] + (self.channels(dims[-1]),), order)

    def inputs(self, emb, h, dims: tuple[int, ...], mask=None):
        """(keys/queries input, values input) from h (N, P, C), P the positions ``dims``.

        ``mask`` (N, P, 1 or C), True where masked, or None: the (correlated) embedding is
        zero at masked entries (neural-tangents'), one copy per input then."""
        if not self.used:
            return h, h
        emb = emb.reshape(1, h.shape[1], -1)
        if self.decay_fn is not None:
            factor = jnp.asarray(np.linalg.cholesky(self.covariance(dims)), emb.dtype)
            emb = jnp.einsum("pq,nqc->npc", factor, emb)
        if mask is not None:
            emb = jnp.where(mask, jnp.zeros((), emb.dtype), emb)
        emb = self.W_std * emb
        if self.kind == "SUM":
            keys = h + emb
        else:
            keys = jnp.concatenate([h, jnp.broadcast_to(emb, h.shape[:2] + emb.shape[2:])], -1)
        return keys, (keys if self.in_values else h)

    def masked_covariances(self, r, masked1, masked2):
        """R for (cov1, nngp, cov2) as pairs of positions, (N1, P, P), (N1, N2, P, P),
        (N2, P, P): zero where either position is masked (``masked*`` (N, P) booleans, or
        None: R itself), as the embedding is zero there in the finite network."""
        if masked1 is None:
            return r, r, r

        def zero(m):
            return jnp.where(m, jnp.zeros((), r.dtype), r)
        return (zero(masked1[:, :, None] | masked1[:, None, :]),
                zero(masked1[:, None, :, None] | masked2[None, :, None, :]),
                zero(masked2[:, :, None] | masked2[:, None, :]))

    def covariance(self, dims: tuple[int, ...]) -> np.ndarray:
        """R between the flattened positions ``dims``, (P, P), as a NumPy array (the decay
        function runs on concrete values, also while jit traces the layer)."""
        size = math.prod(dims)
        if self.decay_fn is None:
            return np.eye(size)
        coords = np.indices(dims).reshape(len(dims), size).T.astype(float)  # (P, spatial)
        distance = (np.abs(coords[:, None, :] - coords[None, :, :]) ** self.p_norm).sum(-1)
        with jax.ensure_compile_time_eval():
            r = self.decay_fn(jnp.asarray(distance))
        return np.asarray(r, dtype=float).reshape(size, size)


def positional_embedding(name, pos_emb_type, pos_emb_p_norm, pos_emb_decay_fn, n_chan_pos_emb,
                         W_pos_emb_std, val_pos_emb) -> PositionalEmbedding:
    """Validate GlobalSelfAttention's positional-embedding arguments (messages name them)."""
    pos_emb_type = choice_name(pos_emb_type)
    if pos_emb_type not in KINDS:
        raise ValueError(f"{name}(pos_emb_type={pos_emb_type!r}): expected one of {list(KINDS)}")
    hyperparameter(name, "pos_emb_p_norm", pos_emb_p_norm, positive=True)
    if pos_emb_decay_fn is not None and not callable(pos_emb_decay_fn):
        raise ValueError(f"{name}(pos_emb_decay_fn={pos_emb_decay_fn!r}): pos_emb_decay_fn "
                         "must be a function of the distance, or None")
    hyperparameter(name, "n_chan_pos_emb", n_chan_pos_emb, positive=True, integer=True,
                 allow_none=True)
    hyperparameter(name, "W_pos_emb_std", W_pos_emb_std, nonnegative=True)
    if not isinstance(val_pos_emb, bool):
        raise ValueError(f"{name}(val_pos_emb={val_pos_emb!r}): val_pos_emb must be True or "
                         "False")
    return PositionalEmbedding(pos_emb_type, pos_emb_p_norm, pos_emb_decay_fn, n_chan_pos_emb,
                               W_pos_emb_std, val_pos_emb)
