"""GlobalSelfAttention: multi-head scaled dot-product self-attention over all positions.

Finite network (NTK parameterization, all weights N(0, 1)), for an input x with positions p
and C channels (C_k, C_v: channels entering keys/queries and values, see positional.py):
  keys    k_h(x)_p = x_p W^K_h,  queries q_h = x_p W^Q_h (q_h = k_h when linear_scaling),
  scores  s_h[p, p'] = QK q_h(x)_p . k_h(x)_p' / (C_k n_key^a),  a = 1 (linear) or 1/2,
  heads   f_h(x)_p = sum_p' phi(s_h)[p, p'] x_p' W^V_h,
  output  f(x)_p = OV [f_1 ... f_H]_p W^O / sqrt(n_val H C_v) + b_std b,
with QK = W_query_std W_key_std, OV = W_out_std W_value_std and phi the attention mechanism
(softmax over p', identity, |.| or relu). Head outputs are concatenated value-channel-major.

Kernel as n_heads, n_key, n_val and the input width go to infinity (Hron et al. 2020,
"Infinite attention: NNGP and NTK for deep attention networks", ICML, arXiv:2006.10540),
with S = Sigma_emb (the input covariance with positional embeddings mixed in, positional.py)
used by keys/queries, V = S or Sigma and Theta_V = Theta_emb or Theta used by the values
(S, V when val_pos_emb), Theta_emb = w_in Theta + w_e R, b2 = b_std^2 (0 without bias):

linear_scaling=True (tied keys and queries): the scores converge to QK S(x, x), so
  A_x = phi(QK S(x, x)),  Sigma'(x, y) = OV^2 A_x V(x, y) A_y^T + b2,
  Theta'(x, y) = OV^2 A_x Theta_V(x, y) A_y^T + b2 + 2 (Sigma'(x, y) - b2)
(the last term: the output and value weights; keys/queries contribute nothing in the limit).

linear_scaling=False, only phi = identity (other mechanisms have no closed form): the scores
are Gaussian, and with <M, N> = sum over all pairs of positions of M * N,
  Sigma' = QK^2 OV^2 <S, V> S + b2,
  Theta' = QK^2 OV^2 ((<S, Theta_V> + <V, Theta_emb>) S + <S, V> (Theta_emb + 4 S)) + b2.

Masked inputs (neural-tangents' ``mask_constant``, engine.layers.masking): a position whose
every channel is masked is no key. Its score is set to -1e20 before softmax (its weight
underflows to 0) or to 0 for the other mechanisms (phi(0) = 0), in ``apply`` and, for
linear_scaling, in A_x of the kernel (there before the QK scale, as neural-tangents); the
positional embedding is zero at masked entries (positional.py). With 1 / sqrt(n_chan_key)
the kernel masks nothing more: a masked position's covariances are zero already (zeroed
inputs, layers that remask). Output positions are masked where the input's are, their
covariances zeroed (``remask``).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from ..checks import hyperparameter
from . import masking
from .choices import choice_name
from .layer import Layer, Shape, expect_single
from .layout import from_canonical, to_canonical, with_axes
from .positional import positional_embedding

NAME = "GlobalSelfAttention"
MECHANISMS = {
    "SOFTMAX": lambda s: jax.nn.softmax(s, axis=-1),
    "IDENTITY": lambda s: s,
    "ABS": jnp.abs,
    "RELU": lambda s: jnp.maximum(s, 0.0),
}
#: neural-tangents' score of a masked key under softmax (finite: a fully masked input's
#: softmax stays defined, uniform)
MASKED_SOFTMAX_SCORE = -1e20


def GlobalSelfAttention(n_chan_out, n_chan_key, n_chan_val, n_heads, linear_scaling=True,
                        W_key_std=1.0, W_value_std=1.0, W_query_std=1.0, W_out_std=1.0,
                        b_std=None, attention_mechanism="SOFTMAX", pos_emb_type="NONE",
                        pos_emb_p_norm=2, pos_emb_decay_fn=None, n_chan_pos_emb=None,
                        W_pos_emb_std=1.0, val_pos_emb=False, batch_axis=0,
                        channel_axis=-1) -> Layer:
    """Global self-attention; its NNGP/NTK by Hron et al. 2020 (see the module docstring).

    Args:
      n_chan_out: output channels.
      n_chan_key: channels of keys and queries (per head).
      n_chan_val: channels of values (per head).
      n_heads: number of heads.
      linear_scaling: True: scores scaled by 1 / n_chan_key and keys tied to queries (a
        closed-form kernel for every mechanism); False: 1 / sqrt(n_chan_key) and independent
        queries (a kernel only for attention_mechanism='IDENTITY').
      W_key_std, W_query_std: the scores scale by their product only.
      W_value_std, W_out_std: the outputs scale by their product only.
      b_std: bias standard deviation; None means no bias.
      attention_mechanism: 'SOFTMAX', 'IDENTITY', 'ABS' or 'RELU' (or a member of
        stax.AttentionMechanism), applied to the scores.
      pos_emb_type: 'NONE', 'SUM' (added to the inputs) or 'CONCAT' (appended as channels),
        or a member of stax.PositionalEmbedding.
      pos_emb_p_norm: p of the distance sum_axes |p_a - q_a|^p given to pos_emb_decay_fn.
      pos_emb_decay_fn: maps that distance to the embeddings' covariance between positions;
        None means independent positions (the identity).
      n_chan_pos_emb: the embeddings' channels; None means as many as the inputs (SUM
        needs exactly that many).
      W_pos_emb_std: the embeddings' standard deviation.
      val_pos_emb: use the embeddings for the values too, not only keys and queries.
      batch_axis: the inputs' batch axis (engine.layers.layout).
      channel_axis: the inputs' channel axis; the bias and the positional embedding have
        the inputs' number of axes and are laid out like them.
    """
    attention_mechanism = choice_name(attention_mechanism)
    pos_emb_type = choice_name(pos_emb_type)
    for arg, value in (("n_chan_out", n_chan_out), ("n_chan_key", n_chan_key),
                       ("n_chan_val", n_chan_val), ("n_heads", n_heads)):
        hyperparameter(NAME, arg, value, positive=True, integer=True)
    for arg, value in (("W_key_std", W_key_std), ("W_value_std", W_value_std),
                       ("W_query_std", W_query_std), ("W_out_std", W_out_std)):
        hyperparameter(NAME, arg, value, nonnegative=True)
    hyperparameter(NAME, "b_std", b_std, nonnegative=True, allow_none=True)
    if not isinstance(linear_scaling, bool):
        raise ValueError(f"{NAME}(linear_scaling={linear_scaling!r}): linear_scaling must be "
                         "True or False")
    if attention_mechanism not in MECHANISMS:
        raise ValueError(f"{NAME}(attention_mechanism={attention_mechanism!r}): expected one "
                         f"of {list(MECHANISMS)}")
    emb = positional_embedding(NAME, pos_emb_type, pos_emb_p_norm, pos_emb_decay_fn,
                               n_chan_pos_emb, W_pos_emb_std, val_pos_emb)
    qk, ov = W_query_std * W_key_std, W_out_std * W_value_std
    b2 = 0.0 if b_std is None else b_std ** 2
    phi = MECHANISMS[attention_mechanism]
    # the score of a masked key: no weight after phi (exp underflows to 0; phi(0) = 0)
    masked_score = MASKED_SOFTMAX_SCORE if attention_mechanism == "SOFTMAX" else 0.0

    def shape(s):
        s = expect_single(NAME, s)
        if s.spatial > 2:
            raise ValueError(f"{NAME}: needs inputs (N, C), (N, W, C) or (N, H, W, C); got "
                             f"inputs of shape {('N',) + s.dims}")
        if pos_emb_type == "SUM" and emb.channels(s.channels) != s.channels:
            raise ValueError(f"{NAME}(pos_emb_type='SUM', n_chan_pos_emb={n_chan_pos_emb}): "
                             f"summed embeddings need the inputs' {s.channels} channels; use "
                             "n_chan_pos_emb=None")
        return Shape(s.dims[:-1] + (n_chan_out,), is_gaussian=True)

    def init(key, s):
        """(W^Q or None, W^K, W^V, W^O, b or None, embedding or None), as neural-tangents."""
        k_q, k_k, k_v, k_o, k_b, k_e = jax.random.split(key, 6)
        c_k, c_v = emb.key_channels(s.channels), emb.value_channels(s.channels)
        w_k = jax.random.normal(k_k, (n_heads, c_k, n_chan_key))
        w_v = jax.random.normal(k_v, (n_heads, c_v, n_chan_val))
        w_o = jax.random.normal(k_o, (n_chan_val * n_heads, n_chan_out))
        b = None if b_std is None else jax.random.normal(k_b, (1,) * len(s.dims) + (n_chan_out,))
        w_q = None if linear_scaling else jax.random.normal(k_q, (n_heads, c_k, n_chan_key))
        return w_q, w_k, w_v, w_o, b, emb.init(k_e, s.dims, s.order)

    def apply(params, x, mask=None):
        w_q, w_k, w_v, w_o, b, e = params
        n, dims = x.shape[0], x.shape[1:-1]
        mask = _flat_mask(emb, x, mask)
        keys_in, values_in = emb.inputs(e, x.reshape(n, -1, x.shape[-1]), dims, mask)
        keys = jnp.einsum("npc,hck->hnpk", keys_in, w_k)
        queries = keys if linear_scaling else jnp.einsum("npc,hck->hnpk", keys_in, w_q)
        scale = keys_in.shape[-1] * n_chan_key ** (1.0 if linear_scaling else 0.5)
        scores = qk / scale * jnp.einsum("hnpk,hnqk->hnpq", queries, keys)
        if mask is not None:  # masked keys: no weight (scores already scaled, as NT)
            scores = jnp.where(jnp.all(mask, -1)[None, :, None, :], masked_score, scores)
        weights = phi(scores)
        heads = jnp.einsum("hnpq,nqc,hcv->npvh", weights, values_in, w_v)
        out = heads.reshape(heads.shape[:2] + (-1,)) @ w_o
        out = ov / math.sqrt(n_chan_val * n_heads * values_in.shape[-1]) * out
        out = out.reshape((n,) + dims + (n_chan_out,))
        return out if b is None else out + b_std * b

    def weighting(s, masked):
        """A = phi(QK S) with masked keys (columns) excluded: S set to masked_score there
        before the QK scale, as neural-tangents' kernel does."""
        if masked is not None:
            s = jnp.where(masked[:, None, :], masked_score, s)
        return phi(qk * s)

    def kernel(k):
        if not linear_scaling and attention_mechanism != "IDENTITY":
            raise ValueError(f"{NAME}(linear_scaling=False, attention_mechanism="
                             f"{attention_mechanism!r}): no closed-form kernel is known for "
                             "1 / sqrt(n_chan_key) scaling except with attention_mechanism="
                             "'IDENTITY'; use linear_scaling=True (or apply_fn only)")
        dims = tuple(k.nngp.shape[2::2])
        masked1, masked2 = _masked_keys(k, strict=emb.used)
        w_in, w_e = emb.weights(k.channels)
        r11 = r12 = r22 = None  # the embeddings' covariances for cov1, nngp, cov2
        if emb.used:
            r11, r12, r22 = emb.masked_covariances(
                jnp.asarray(emb.covariance(dims), k.nngp.dtype), masked1, masked2)

        def mixed(m, r):  # the covariance the keys and queries see
            return m if r is None else w_in * m + w_e * r

        def values(m, r):
            return mixed(m, r) if emb.in_values else m

        nngp, ntk = _to_pairs(k.nngp, 2), _to_pairs(k.ntk, 2)
        cov1, cov2 = _to_pairs(k.cov1, 1), _to_pairs(k.cov2, 1)
        if linear_scaling:
            a1, a2 = weighting(mixed(cov1, r11), masked1), weighting(mixed(cov2, r22), masked2)
            out = {"nngp": ov ** 2 * _sandwich(a1, values(nngp, r12), a2) + b2,
                   "cov1": ov ** 2 * _sandwich(a1, values(cov1, r11), a1) + b2,
                   "cov2": ov ** 2 * _sandwich(a2, values(cov2, r22), a2) + b2}
            out["ntk"] = (ov ** 2 * _sandwich(a1, values(ntk, r12), a2) + b2
                          + 2 * (out["nngp"] - b2))
        else:  # masked keys have zero covariance here (zeroed inputs, remasked layers)
            c = (qk * ov) ** 2
            s11, s12, s22 = mixed(cov1, r11), mixed(nngp, r12), mixed(cov2, r22)
            v12, t_key, t_val = values(nngp, r12), mixed(ntk, r12), values(ntk, r12)
            out = {"nngp": c * _dot(s12, v12) * s12 + b2,
                   "cov1": c * _dot(s11, values(cov1, r11)) * s11 + b2,
                   "cov2": c * _dot(s22, values(cov2, r22)) * s22 + b2,
                   "ntk": c * ((_dot(s12, t_val) + _dot(v12, t_key)) * s12
                               + _dot(s12, v12) * (t_key + 4 * s12)) + b2}
        out = {name: _from_pairs(m, dims) for name, m in out.items()}
        return k.replace(channels=n_chan_out, is_gaussian=True, **out)

    key = (NAME, n_chan_out, n_chan_key, n_chan_val, n_heads, linear_scaling, W_key_std,
           W_value_std, W_query_std, W_out_std, b_std, attention_mechanism, emb)
    layer = Layer(key=key, shape=shape, kernel=kernel, apply=apply, init=init, pools=True,
                  masks=masking.all_channels, remask=True, apply_mask=True)
    if (batch_axis, channel_axis) == (0, -1):
        return layer
    return with_axes(layer, NAME, batch_axis, channel_axis, _params_in, _params_out)


def _params_in(params, order):
    """The bias and the embedding (the inputs' number of axes) from the user's layout."""
    *weights, b, e = params
    move = lambda a: None if a is None else to_canonical(a, order)  # noqa: E731
    return (*weights, move(b), move(e))


def _params_out(params, order):
    *weights, b, e = params
    move = lambda a: None if a is None else from_canonical(a, order)  # noqa: E731
    return (*weights, move(b), move(e))


def _flat_mask(emb, x, mask):
    """The input's mask as (N, P, 1 or C) (None: None); a ValueError where neural-tangents'
    fails to broadcast it onto a concatenated embedding with other channels."""
    if mask is None:
        return None
    c_e = emb.channels(x.shape[-1])
    if emb.used and mask.shape[-1] not in (1, c_e):
        raise ValueError(f"{NAME}(pos_emb_type='CONCAT', n_chan_pos_emb={emb.n_chan}): masks "
                         f"that differ between the {x.shape[-1]} channels of a position do "
                         f"not fit the embedding's {c_e} channels; mask whole positions, or "
                         "put a Dense or Conv first")
    mask = jnp.broadcast_to(mask, x.shape[:-1] + mask.shape[-1:])
    return mask.reshape(x.shape[0], -1, mask.shape[-1])


def _masked_keys(k, strict: bool):
    """(N1, P), (N2, P) booleans, True at positions whose every channel is masked; (None,
    None) without masks. ``strict`` (positional embeddings): masks must not differ between
    channels (a ValueError, as neural-tangents' NotImplementedError)."""
    if k.mask1 is None and k.mask2 is None:
        return None, None

    def one(m, n):
        if m is None:
            return jnp.zeros((n, math.prod(k.nngp.shape[2::2])), bool)
        m = masking.uniform_channels(NAME, m) if strict else m
        m = jnp.all(m, axis=-1)
        return jnp.broadcast_to(m, (n,) + tuple(k.nngp.shape[2::2])).reshape(n, -1)
    return one(k.mask1, k.nngp.shape[0]), one(k.mask2, k.nngp.shape[1])


def _sandwich(a, m, b):
    """A_x M(x, y) A_y^T per pair: a (N1, P, P), m (N1, [N2,] P, P), b (N2 or N1, P, P)."""
    if m.ndim == 3:
        return jnp.einsum("npa,nab,nqb->npq", a, m, b)
    return jnp.einsum("npa,nmab,mqb->nmpq", a, m, b)


def _dot(m, n):
    """<M, N>: the sum over all pairs of positions, kept as (..., 1, 1) to broadcast."""
    return jnp.sum(m * n, axis=(-2, -1), keepdims=True)


def _to_pairs(x, lead):
    """The interleaved layout (lead..., H, H', W, W') as (lead..., P, P') matrices."""
    spatial = (x.ndim - lead) // 2
    first = [lead + 2 * i for i in range(spatial)]
    second = [lead + 2 * i + 1 for i in range(spatial)]
    size = math.prod(x.shape[a] for a in first)
    x = jnp.transpose(x, list(range(lead)) + first + second)
    return x.reshape(x.shape[:lead] + (size, size))


def _from_pairs(m, dims):
    """(lead..., P, P') matrices back to the interleaved layout of positions ``dims``."""
    lead, spatial = m.ndim - 2, len(dims)
    m = m.reshape(m.shape[:lead] + dims + dims)
    order = [lead + i + s for i in range(spatial) for s in (0, spatial)]
    return jnp.transpose(m, list(range(lead)) + order)
