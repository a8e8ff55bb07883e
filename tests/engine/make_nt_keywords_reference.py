"""Write nt_keywords_reference.json: neural-tangents 0.6.5's numbers for networks built with
its layout keywords (inputs not laid out as (batch, spatial..., channels): batch_axis,
channel_axis, dimension_numbers, batch_axis_out) and its width scalings ``s`` of the standard
parameterization, read by test_nt_keywords.py.

``network`` is imported by test_nt_keywords.py, which builds the same networks with engine.stax.
Run by hand in the peer venv (see /work/shared/peers/neural_tangents/README.md), not by pytest:

    /root/.cache/nt-peer-venv/bin/python tests/engine/make_nt_keywords_reference.py

Each case is a list of layers [name, kwargs] (the same in both libraries) and an input shape;
recorded in float64: the inputs x1 (N1 = 3) and x2 (N2 = 2), NT's nngp / ntk of x1 with x2,
NT's output shape and params from PRNGKey(1) for x1's shape, and NT's apply_fn on x1.
"""
import json
import os

import jax
import numpy as np

W, B = 1.3, 0.2
NCHW = ["NCHW", "OIHW", "NCHW"]
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nt_keywords_reference.json")

CASES = {
    # images channel-first, weights OIHW: pooling, global pooling
    "nchw_conv_avgpool_gap": ((4, 5, 6), [
        ["Conv", dict(out_chan=4, filter_shape=[3, 3], padding="SAME", W_std=W, b_std=B,
                      dimension_numbers=NCHW)],
        ["Relu", {}],
        ["AvgPool", dict(window_shape=[2, 2], channel_axis=1)],
        ["Conv", dict(out_chan=3, filter_shape=[2, 2], W_std=W, b_std=B, dimension_numbers=NCHW)],
        ["Erf", {}],
        ["GlobalAvgPool", dict(channel_axis=1)],
        ["Dense", dict(out_dim=2, W_std=W, b_std=B)]]),
    # channel-first images, HWIO weights, then Flatten (features in (C, H, W) order)
    "nchw_conv_hwio_flatten": ((2, 4, 3), [
        ["Conv", dict(out_chan=3, filter_shape=[2, 2], W_std=W, b_std=B,
                      dimension_numbers=["NCHW", "HWIO", "NCHW"])],
        ["Relu", {}],
        ["Flatten", {}],
        ["Dense", dict(out_dim=2, W_std=W, b_std=B)]]),
    # channel-first 1-D signals, sum pooling, LayerNorm over the channel axis
    "ncw_conv_sumpool_layernorm": ((3, 7), [
        ["Conv", dict(out_chan=4, filter_shape=[3], padding="CIRCULAR", W_std=W, b_std=B,
                      dimension_numbers=["NCW", "OIW", "NCW"], parameterization="standard")],
        ["LayerNorm", dict(axis=1, channel_axis=1)],
        ["Relu", {}],
        ["SumPool", dict(window_shape=[2], strides=[2], channel_axis=1)],
        ["GlobalSumPool", dict(channel_axis=1)],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B)]]),
    # batch last: features of shape (d, N), Dense over axis 0
    "dense_batch_last": ((5,), [
        ["Dense", dict(out_dim=6, W_std=W, b_std=B, batch_axis=1, channel_axis=0)],
        ["Relu", {}],
        ["Dense", dict(out_dim=2, W_std=W, b_std=B, batch_axis=-1, channel_axis=-2)]]),
    # channel-last images flattened to (features, batch)
    "nhwc_flatten_batch_out_1": ((3, 4, 2), [
        ["Conv", dict(out_chan=3, filter_shape=[2, 2], W_std=W, b_std=B)],
        ["Relu", {}],
        ["Flatten", dict(batch_axis_out=1)],
        ["Dense", dict(out_dim=2, W_std=W, b_std=B, batch_axis=1, channel_axis=0)]]),
    # standard parameterization with width scalings: 2x wider hidden layer, same limit
    "scaled_dense": ((4,), [
        ["Dense", dict(out_dim=8, W_std=W, b_std=B, parameterization="standard", s=[1, 2])],
        ["Erf", {}],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B, parameterization="standard", s=[2, 1])]]),
    "scaled_conv_gap": ((4, 4, 2), [
        ["Conv", dict(out_chan=3, filter_shape=[2, 2], padding="SAME", W_std=W, b_std=B,
                      parameterization="standard", s=[1, 3])],
        ["Relu", {}],
        ["Conv", dict(out_chan=2, filter_shape=[2, 2], W_std=W, b_std=None,
                      parameterization="standard", s=[3, 2])],
        ["Relu", {}],
        ["GlobalAvgPool", {}],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B, parameterization="standard", s=[2, 1])]]),
    # transposed convolution: channel-first with OIHW weights, then scaled and channel-last
    "nchw_conv_transpose": ((3, 3, 4), [
        ["ConvTranspose", dict(out_chan=4, filter_shape=[2, 3], strides=[2, 1], padding="SAME",
                               W_std=W, b_std=B, dimension_numbers=NCHW)],
        ["Relu", {}],
        ["GlobalAvgPool", dict(channel_axis=1)],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B)]]),
    "scaled_conv_transpose": ((3, 3, 2), [
        ["ConvTranspose", dict(out_chan=2, filter_shape=[3, 2], padding="VALID", W_std=W,
                               b_std=B, parameterization="standard", s=[1, 2])],
        ["Erf", {}],
        ["Flatten", {}],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B, parameterization="standard", s=[2, 1])]]),
    # locally connected: channel-first with OIHW weights and a per-position bias, and scaled
    "nchw_conv_local": ((2, 4, 3), [
        ["ConvLocal", dict(out_chan=3, filter_shape=[2, 2], padding="SAME", W_std=W, b_std=B,
                           dimension_numbers=NCHW)],
        ["Relu", {}],
        ["Flatten", {}],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B)]]),
    # s_in only: neural-tangents' ConvLocal draws out_chan, not s_out * out_chan, channels
    # (its kernel then disagrees with its own finite network; see test_nt_keywords.py)
    "scaled_conv_local": ((5, 2), [
        ["Dense", dict(out_dim=2, W_std=W, b_std=B, parameterization="standard", s=[1, 2])],
        ["Relu", {}],
        ["ConvLocal", dict(out_chan=2, filter_shape=[2], W_std=W, b_std=B,
                           parameterization="standard", s=[2, 1])],
        ["Erf", {}],
        ["Flatten", {}],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B, parameterization="standard")]]),
    # channel-first sequences: attention with summed positional embeddings (NCW)
    "ncw_attention_sum": ((3, 5), [
        ["Conv", dict(out_chan=4, filter_shape=[2], padding="SAME", W_std=W, b_std=B,
                      dimension_numbers=["NCW", "OIW", "NCW"])],
        ["Relu", {}],
        ["GlobalSelfAttention", dict(n_chan_out=3, n_chan_key=2, n_chan_val=2, n_heads=2,
                                     W_key_std=1.1, W_value_std=1.2, W_query_std=0.9,
                                     W_out_std=1.3, b_std=B, pos_emb_type="SUM",
                                     channel_axis=1)],
        ["GlobalAvgPool", dict(channel_axis=1)],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B)]]),
    # channel-first images: attention with concatenated embeddings, also in the values
    "nchw_attention_concat": ((2, 3, 2), [
        ["Dense", dict(out_dim=3, W_std=W, b_std=B, channel_axis=1)],
        ["Erf", {}],
        ["GlobalSelfAttention", dict(n_chan_out=2, n_chan_key=2, n_chan_val=3, n_heads=1,
                                     attention_mechanism="RELU", pos_emb_type="CONCAT",
                                     n_chan_pos_emb=2, val_pos_emb=True, channel_axis=1)],
        ["Flatten", {}],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B)]]),
    # channel-first images resized (Dense first: neural-tangents' Conv reverses its kernel's
    # spatial axes, which its ImageResize does not undo; README)
    "nchw_resize": ((2, 3, 4), [
        ["Dense", dict(out_dim=3, W_std=W, b_std=B, channel_axis=1)],
        ["Relu", {}],
        ["ImageResize", dict(shape=[-1, -1, 5, 6], method="linear", channel_axis=1)],
        ["GlobalAvgPool", dict(channel_axis=1)],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B)]]),
    # channel-first images cropped, then a row taken (NCHW -> NCW)
    "nchw_index": ((2, 4, 5), [
        ["Dense", dict(out_dim=3, W_std=W, b_std=B, channel_axis=1)],
        ["Relu", {}],
        ["Index", dict(idx=[[None, None], [None, None], [1, 4], [None, None, 2]], channel_axis=1)],
        ["Index", dict(idx=["...", 1, [None, None]], channel_axis=1)],
        ["GlobalAvgPool", dict(channel_axis=1)],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B)]]),
    # channel-first images: a constant weighting of the columns (rhs), then of the rows (lhs)
    "nchw_dot_general": ((2, 3, 4), [
        ["Dense", dict(out_dim=3, W_std=W, b_std=B, channel_axis=1)],
        ["Relu", {}],
        ["DotGeneral", dict(rhs=[0.5, -1.0, 2.0, 0.3], dimension_numbers=[[[3], [0]], [[], []]],
                            channel_axis=1)],
        ["DotGeneral", dict(lhs=[0.7, 1.1, -0.4], dimension_numbers=[[[0], [2]], [[], []]],
                            channel_axis=1)],
        ["Dense", dict(out_dim=1, W_std=W, b_std=B)]]),
}


def index(entries):
    """An Index's idx from JSON: a list is a slice's arguments, "..." an Ellipsis."""
    return tuple(slice(*e) if isinstance(e, list) else Ellipsis if e == "..." else e
                 for e in entries)


def network(stax, layers):
    """The serial network of ``layers`` ([name, kwargs] from JSON) built with ``stax``
    (neural-tangents' here, engine.stax in test_nt_keywords.py)."""
    built = []
    for name, kwargs in layers:
        kwargs = {k: index(v) if k == "idx" else tuple(v) if isinstance(v, list) else v
                  for k, v in kwargs.items()}
        built.append(getattr(stax, name)(**kwargs))
    return stax.serial(*built)


def user_shape(case, features, n):
    """The input shape with the batch where the first layer puts it."""
    first = CASES[case][1][0][1]
    if "dimension_numbers" in first:
        lhs = first["dimension_numbers"][0]
        sizes = dict(zip([c for c in lhs if c not in "NC"], features[1:]))
        sizes.update(N=n, C=features[0])
        return tuple(sizes[c] for c in lhs)
    if first.get("batch_axis", 0) in (1, -1) and len(features) == 1:
        return features + (n,)
    return (n,) + features


def tolist(tree):
    return jax.tree_util.tree_map(lambda a: np.asarray(a).tolist(), tree,
                                  is_leaf=lambda a: a is None)


def main():
    jax.config.update("jax_enable_x64", True)
    from neural_tangents import stax

    rng = np.random.default_rng(0)
    out = {}
    for case, (features, layers) in CASES.items():
        init_fn, apply_fn, kernel_fn = network(stax, layers)
        x1 = rng.standard_normal(user_shape(case, features, 3))
        x2 = rng.standard_normal(user_shape(case, features, 2))
        k = kernel_fn(x1, x2, ("nngp", "ntk"))
        shape, params = init_fn(jax.random.PRNGKey(1), x1.shape)
        out[case] = dict(layers=layers, x1=x1.tolist(), x2=x2.tolist(),
                         nngp=np.asarray(k.nngp).tolist(), ntk=np.asarray(k.ntk).tolist(),
                         output_shape=[int(d) for d in shape], params=tolist(params),
                         apply=np.asarray(apply_fn(params, x1)).tolist())
        print(case, x1.shape, "->", shape)
    with open(OUT, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
