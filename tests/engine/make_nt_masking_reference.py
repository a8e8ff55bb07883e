"""Write nt_masking_reference.json: neural-tangents 0.6.5's numbers for masked inputs, i.e.
``kernel_fn(..., mask_constant=c)`` and ``apply_fn(..., mask_constant=c)``, where entries of the
inputs equal to ``c`` (or NaN entries when ``c`` is NaN) are masked (padding of sequences, as in
neural-tangents' examples/imdb.py). For a test comparing our engine with it (none yet).

``network`` is meant to be imported by that test, to build the same networks with engine.stax.
Run by hand in the peer venv (see /work/shared/peers/neural_tangents/README.md), not by pytest:

    /root/.cache/nt-peer-venv/bin/python tests/engine/make_nt_masking_reference.py

Each case is a list of layers (the same names and kwargs in both libraries; see ``network``
for the nested serial / parallel form and the named attention decays), an input shape without
the batch, a mask constant and a way of masking. The masks are drawn from a fixed NumPy seed:
whole positions (all channels of a position) in most cases, single entries ("elementwise") in
a few; masked entries of x1 (N1 = 3) and x2 (N2 = 2) hold the mask constant. Recorded in
float64, per case:

    layers, shape, mask_constant, mask_kind        the case as given
    x1, x2                                          the inputs (masked entries = mask_constant)
    mask1, mask2                                    booleans of the inputs' shape, True = masked
    nngp, ntk                                       kernel_fn(x1, x2, ("nngp", "ntk"), mask_constant=c)
    nngp_11, ntk_11                                 kernel_fn(x1, None, ("nngp", "ntk"), mask_constant=c)
    output_shape, params                            init_fn(PRNGKey(1), x1.shape)
    apply_value, apply_mask                         apply_fn(params, x1, mask_constant=c), a
                                                    MaskedArray: its masked_value and its mask
                                                    (booleans, broadcastable to masked_value)
    apply_unmasked                                  stax.unmask_fn(apply_fn)(params, x1, mask_constant=c)
    errors                                          {stage: {"type", "message"}} for each stage
                                                    that raised in neural-tangents ("kernel_12",
                                                    "kernel_11", "init", "apply", "unmask"); the
                                                    stage's keys above are then absent.

JSON has no NaN: a non-finite float (the mask constant NaN, and NaN-masked entries of x1 / x2)
is written as the string "nan" (or "inf", "-inf"); read inputs back with ``decode`` (i.e.
``np.asarray(x, dtype=float)``, which parses those strings) and the constant with ``float``.
"""
import json
import math
import os

import jax
import jax.numpy as jnp
import numpy as np

W, B = 1.3, 0.2
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nt_masking_reference.json")


def _conv(out_chan, filter_shape, padding="SAME", **kwargs):
    return ["Conv", dict(out_chan=out_chan, filter_shape=filter_shape, padding=padding,
                         W_std=W, b_std=B, **kwargs)]


def _dense(out_dim):
    return ["Dense", dict(out_dim=out_dim, W_std=W, b_std=B)]


def _attention(**kwargs):
    return ["GlobalSelfAttention", dict(n_chan_out=3, n_chan_key=2, n_chan_val=3, n_heads=1,
                                        **kwargs)]


#: a decay of the positional embeddings' covariance with distance, named in JSON
def decay_exp(d):
    return jnp.exp(-d / 2.0)


DECAYS = {"exp": decay_exp}

# mask kinds: "positions" masks each position (all its channels) with probability p,
# "elementwise" each entry with probability p, "trailing" the positions from lengths[i] on
# (padding of sequences of lengths1 / lengths2); all_masked lists inputs of x1 masked entirely.
CASES = {
    # 1. flat inputs: some entries, and all of x1[1], masked
    "flat_dense": dict(shape=(5,), mask_constant=0.5, mask=dict(kind="elementwise", p=0.3,
                                                                 all_masked=[1]),
                       layers=[_dense(3), ["Relu", {}], _dense(2)]),
    # 2. imdb-like: VALID Conv, attention with summed positional embeddings, on padded sequences
    "imdb_attention_sum": dict(
        shape=(8, 4), mask_constant=100.0,
        mask=dict(kind="trailing", lengths1=[8, 5, 3], lengths2=[6, 4]),
        layers=[_conv(3, [3], "VALID"), ["Relu", {}],
                _attention(pos_emb_type="SUM", W_pos_emb_std=1.0), ["Relu", {}],
                ["GlobalAvgPool", {}], _dense(1)]),
    # 2b. the same with concatenated embeddings, also in the values, and a named decay
    "imdb_attention_concat_decay": dict(
        shape=(8, 4), mask_constant=100.0,
        mask=dict(kind="trailing", lengths1=[8, 5, 3], lengths2=[6, 4]),
        layers=[_conv(3, [3], "VALID"), ["Relu", {}],
                _attention(pos_emb_type="CONCAT", n_chan_pos_emb=2, val_pos_emb=True,
                           pos_emb_decay_fn="exp", b_std=B), ["Relu", {}],
                ["GlobalAvgPool", {}], _dense(1)]),
    # 3. images: SAME Conv, AvgPool, Flatten
    "image_conv_avgpool_flatten": dict(
        shape=(4, 4, 2), mask_constant=-1.0, mask=dict(kind="positions", p=0.3),
        layers=[_conv(3, [2, 2]), ["Relu", {}], ["AvgPool", dict(window_shape=[2, 2])],
                ["Flatten", {}], _dense(2)]),
    # 4. Erf (remasks the kernel), global sum pooling; x1[2] entirely masked
    "conv_erf_globalsumpool": dict(
        shape=(6, 3), mask_constant=3.0, mask=dict(kind="positions", p=0.3, all_masked=[2]),
        layers=[_conv(3, [3]), ["Erf", {}], ["GlobalSumPool", {}], _dense(1)]),
    # 4b. global average pooling of an input with every position masked
    "conv_relu_globalavgpool_all_masked": dict(
        shape=(6, 3), mask_constant=3.0, mask=dict(kind="positions", p=0.3, all_masked=[0]),
        layers=[_conv(3, [3]), ["Relu", {}], ["GlobalAvgPool", {}], _dense(1)]),
    # 5. a residual block: FanOut, parallel(Relu-Conv, Identity), FanInSum
    "residual_faninsum": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_conv(3, [3]), ["FanOut", dict(num=2)],
                ["parallel", [[["Relu", {}], _conv(3, [3])], [["Identity", {}]]]],
                ["FanInSum", {}], ["Relu", {}], ["GlobalAvgPool", {}], _dense(1)]),
    # 6. branches joined by channel-wise concatenation (a Conv next: NT allows no nonlinearity
    #    right after it) and by a product
    "branches_faninconcat": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_conv(3, [3]), ["FanOut", dict(num=2)],
                ["parallel", [[["Relu", {}], _conv(3, [3])], [["Erf", {}], _conv(2, [1])]]],
                ["FanInConcat", dict(axis=-1)], _conv(3, [3]), ["Relu", {}],
                ["GlobalAvgPool", {}], _dense(1)]),
    "branches_faninprod": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_conv(3, [3]), ["FanOut", dict(num=2)],
                ["parallel", [[["Relu", {}], _conv(3, [3])], [["Identity", {}]]]],
                ["FanInProd", {}], ["GlobalAvgPool", {}], _dense(1)]),
    # 7. LayerNorm over space and channels, and over channels only
    "conv_layernorm": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_conv(3, [3]), ["LayerNorm", dict(axis=[1, 2])], ["Relu", {}],
                ["GlobalAvgPool", {}], _dense(1)]),
    "conv_layernorm_channels": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_conv(3, [3]), ["LayerNorm", dict(axis=-1)], ["Relu", {}],
                ["GlobalAvgPool", {}], _dense(1)]),
    # 8. Exp (remasks the kernel) and Gelu (does not)
    "conv_exp": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_conv(3, [3]), ["Exp", {}], ["GlobalAvgPool", {}], _dense(1)]),
    "conv_gelu": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_conv(3, [3]), ["Gelu", {}], ["GlobalAvgPool", {}], _dense(1)]),
    # 9. NaN as the mask constant
    "nan_constant": dict(
        shape=(6, 3), mask_constant=math.nan, mask=dict(kind="positions", p=0.3),
        layers=[_conv(3, [3]), ["Relu", {}], ["GlobalAvgPool", {}], _dense(1)]),
    # elementwise masks through a Conv (a position stays visible unless all channels masked)
    "elementwise_conv": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="elementwise", p=0.5),
        layers=[_conv(3, [3]), ["Relu", {}], ["GlobalAvgPool", {}], _dense(1)]),
    # strided VALID Conv: the mask of an output position is its window's centre's
    "strided_valid_conv": dict(
        shape=(9, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.4),
        layers=[_conv(3, [3], "VALID", strides=[2]), ["Relu", {}], ["GlobalAvgPool", {}],
                _dense(1)]),
    # outputs keeping their positions (no global pooling): the kernel's and the output's
    # masked positions show; an even filter's "centre" is its first tap
    "conv_even_filter_spatial_output": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="positions", p=0.3, all_masked=[1]),
        layers=[_conv(3, [3]), ["Relu", {}], _conv(2, [2], "VALID")]),
    "strided_conv_attention_spatial_output": dict(
        shape=(9, 2), mask_constant=100.0,
        mask=dict(kind="trailing", lengths1=[9, 6, 2], lengths2=[7, 4]),
        layers=[_conv(3, [3], "VALID", strides=[2]), ["Relu", {}],
                _attention(pos_emb_type="SUM", W_pos_emb_std=1.0)]),
    "image_avgpool_flatten_output": dict(
        shape=(4, 4, 2), mask_constant=-1.0, mask=dict(kind="positions", p=0.4),
        layers=[_conv(3, [2, 2]), ["Relu", {}],
                ["AvgPool", dict(window_shape=[2, 2], strides=[2, 2])], ["Flatten", {}]]),
    # 10. Index and ImageResize on masked images
    "image_index": dict(
        shape=(4, 5, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_dense(3), ["Relu", {}],
                ["Index", dict(idx=[[None, None], [1, 4], [None, None, 2]])],
                ["GlobalAvgPool", {}], _dense(1)]),
    "image_resize": dict(
        shape=(4, 3, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_dense(3), ["Relu", {}],
                ["ImageResize", dict(shape=[-1, 6, 5, -1], method="linear")],
                ["GlobalAvgPool", {}], _dense(1)]),
    # 11. channel-wise different masks reaching a pooling layer: NT raises (in apply_fn and
    #     kernel_fn; with a Relu first, kernel_fn raises sooner: its input is not Gaussian)
    "elementwise_pool_error": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="elementwise", p=0.5),
        layers=[["GlobalAvgPool", {}], _dense(1)]),
    "elementwise_relu_pool_error": dict(
        shape=(6, 3), mask_constant=-2.0, mask=dict(kind="elementwise", p=0.5),
        layers=[["Relu", {}], ["GlobalAvgPool", {}], _dense(1)]),
    # channel-wise different masks reaching a layer that remasks the kernel: kernel_fn raises,
    # apply_fn does not
    "elementwise_resize_error": dict(
        shape=(4, 3), mask_constant=-2.0, mask=dict(kind="elementwise", p=0.5),
        layers=[["ImageResize", dict(shape=[-1, 6, -1], method="linear")], ["Flatten", {}],
                _dense(1)]),
    # 12. ConvTranspose, ConvLocal, ImageResize, Aggregate and DotGeneral on masked inputs,
    #     most ending on the layer so that the outputs' masks are compared position by position
    #     (ImageResize after a Dense: neural-tangents' ImageResize after a Conv fails with masks,
    #     its Conv kernel's reversed spatial axes not followed by the resize).
    #     ConvTranspose: an output is masked when any input reaching it is (CIRCULAR as SAME)
    "conv_transpose_valid_strided": dict(
        shape=(5, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[["ConvTranspose", dict(out_chan=3, filter_shape=[3], strides=[2],
                                       padding="VALID", W_std=W, b_std=B)], ["Relu", {}],
                ["ConvTranspose", dict(out_chan=2, filter_shape=[2], padding="SAME", W_std=W,
                                       b_std=B)]]),
    "conv_transpose_circular_2d": dict(
        shape=(3, 3, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.15),
        layers=[["ConvTranspose", dict(out_chan=3, filter_shape=[3, 2], strides=[2, 1],
                                       padding="CIRCULAR", W_std=W, b_std=B)], ["Erf", {}],
                ["ConvTranspose", dict(out_chan=2, filter_shape=[2, 2], padding="SAME",
                                       W_std=W, b_std=B)]]),
    "conv_transpose_elementwise_pool": dict(
        shape=(4, 3), mask_constant=-2.0, mask=dict(kind="elementwise", p=0.6),
        layers=[["ConvTranspose", dict(out_chan=3, filter_shape=[2], strides=[2],
                                       padding="SAME", W_std=W, b_std=B)], ["Relu", {}],
                ["GlobalAvgPool", {}], _dense(1)]),
    # ConvLocal: Conv's rule (the window's centre); Flatten last, as neural-tangents' kernel of
    # a ConvLocal output keeps the diagonal layout only
    "conv_local_same_strided": dict(
        shape=(7, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[["ConvLocal", dict(out_chan=3, filter_shape=[3], strides=[2], padding="SAME",
                                   W_std=W, b_std=B)], ["Relu", {}],
                ["ConvLocal", dict(out_chan=2, filter_shape=[2], padding="VALID", W_std=W,
                                   b_std=B)], ["Flatten", {}]]),
    "conv_local_circular_2d": dict(
        shape=(4, 3, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[["ConvLocal", dict(out_chan=3, filter_shape=[3, 2], padding="CIRCULAR",
                                   W_std=W, b_std=B)], ["Erf", {}],
                ["ConvLocal", dict(out_chan=2, filter_shape=[2, 2], strides=[2, 1],
                                   padding="SAME", W_std=W, b_std=B)], ["Flatten", {}]]),
    # ImageResize: masked where only masked entries contribute (~resize(~mask))
    "image_resize_nearest": dict(
        shape=(5, 4, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_dense(3), ["Relu", {}],
                ["ImageResize", dict(shape=[-1, 3, 7, -1], method="nearest")]]),
    "image_resize_linear_down": dict(
        shape=(6, 5, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.6),
        layers=[_dense(3), ["Erf", {}],
                ["ImageResize", dict(shape=[-1, 2, 3, -1], method="linear")]]),
    "image_resize_linear_down_no_antialias": dict(
        shape=(6, 5, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.8),
        layers=[_dense(3), ["Erf", {}],
                ["ImageResize", dict(shape=[-1, 3, 2, -1], method="linear", antialias=False)]]),
    # (Aggregate: neural-tangents' kernel_fn needs pattern=(p1, p2), which this maker does not
    #  pass; test_masking_layers.py checks it by its rule)
    # DotGeneral: masked where every entry with a nonzero weight is; no remask
    "dot_general_rhs_contract": dict(
        shape=(4, 5, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.7),
        layers=[_conv(3, [2, 2]), ["Relu", {}],
                ["DotGeneral", dict(rhs=[1.0, 0.0, -1.0, 2.0],
                                    dimension_numbers=[[[1], [0]], [[], []]])]]),
    "dot_general_lhs_then_dense": dict(
        shape=(6, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.5),
        layers=[_conv(3, [3]), ["Relu", {}], ["DotGeneral", dict(rhs=2.0)],
                ["DotGeneral", dict(lhs=[0.0, 1.0, 1.0, 0.0, 0.0, 2.0],
                                    dimension_numbers=[[[0], [1]], [[], []]])], _dense(1)]),
    "dot_general_elementwise": dict(
        shape=(4, 3), mask_constant=-2.0, mask=dict(kind="elementwise", p=0.7),
        layers=[["DotGeneral", dict(rhs=[0.5, 0.0, 1.0, 0.0],
                                    dimension_numbers=[[[1], [0]], [[], []]])]]),
    # 13. GlobalSelfAttention: each mechanism, both scalings, embeddings, spatial outputs
    #     (masked keys get no weight; queries at masked positions are masked outputs).
    #     Attention first on channel-wise masks (no embedding: NT's kernel takes them); a
    #     fully masked x1[2] (softmax of equal scores)
    "attention_first_elementwise_softmax": dict(
        shape=(5, 3), mask_constant=-2.0, mask=dict(kind="elementwise", p=0.6,
                                                     all_masked=[2]),
        layers=[_attention(b_std=B)]),
    "attention_identity_sum_2d": dict(
        shape=(3, 4, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.3,
                                                        all_masked=[1]),
        layers=[["Dense", dict(out_dim=3, W_std=W)],
                _attention(attention_mechanism="IDENTITY", pos_emb_type="SUM", b_std=B)]),
    "attention_sqrt_identity_concat_values": dict(
        shape=(7, 2), mask_constant=100.0,
        mask=dict(kind="trailing", lengths1=[7, 4, 2], lengths2=[5, 3]),
        layers=[_dense(3),
                _attention(linear_scaling=False, attention_mechanism="IDENTITY",
                           pos_emb_type="CONCAT", n_chan_pos_emb=2, val_pos_emb=True,
                           pos_emb_decay_fn="exp")]),
    "attention_sqrt_identity_sum_pool": dict(
        shape=(6, 3), mask_constant=100.0,
        mask=dict(kind="trailing", lengths1=[6, 4, 1], lengths2=[5, 2]),
        layers=[_conv(3, [3]), ["Relu", {}],
                _attention(linear_scaling=False, attention_mechanism="IDENTITY",
                           pos_emb_type="SUM"), ["Relu", {}], ["GlobalAvgPool", {}],
                _dense(1)]),
    "attention_relu_concat_valid_conv": dict(
        shape=(8, 3), mask_constant=-2.0, mask=dict(kind="positions", p=0.3),
        layers=[_conv(3, [3], "VALID"), ["Relu", {}],
                _attention(attention_mechanism="RELU", pos_emb_type="CONCAT", b_std=B),
                ["Relu", {}], ["GlobalAvgPool", {}], _dense(1)]),
    "attention_abs_2d": dict(
        shape=(3, 3, 2), mask_constant=-2.0, mask=dict(kind="positions", p=0.4,
                                                        all_masked=[0]),
        layers=[_dense(3), _attention(attention_mechanism="ABS", W_key_std=1.5)]),
}


def index(entries):
    """An Index's idx from JSON: a list gives a slice's arguments, "..." an Ellipsis."""
    return tuple(slice(*e) if isinstance(e, list) else Ellipsis if e == "..." else e
                 for e in entries)


def _layer(stax, name, kwargs):
    if name == "serial":
        return network(stax, kwargs)
    if name == "parallel":
        return stax.parallel(*(network(stax, branch) for branch in kwargs))
    built = {}
    for k, v in kwargs.items():
        if k == "idx":
            v = index(v)
        elif k == "pos_emb_decay_fn" and isinstance(v, str):
            v = DECAYS[v]
        elif isinstance(v, list):
            v = tuple(v)
        built[k] = v
    return getattr(stax, name)(**built)


def network(stax, layers):
    """The serial network of ``layers`` built with ``stax`` (neural-tangents' or engine.stax).

    Each layer is [name, kwargs] with JSON kwargs (lists become tuples, an Index's idx is a
    list of slice arguments, a GlobalSelfAttention's pos_emb_decay_fn a name in DECAYS), or
    ["serial", [layer, ...]] for a nested serial block, or ["parallel", [[layer, ...], ...]]
    for stax.parallel of the serial branches.
    """
    return stax.serial(*(_layer(stax, name, kwargs) for name, kwargs in layers))


def masks(spec, full_shape, rng, which):
    """Booleans of full_shape (batch first, channels last), True where masked."""
    n, kind = full_shape[0], spec["kind"]
    if kind == "trailing":
        lengths = spec["lengths1" if which == 1 else "lengths2"]
        pos = np.arange(full_shape[1])
        m = pos[None, :] >= np.asarray(lengths)[:, None]
        m = np.broadcast_to(m.reshape(m.shape + (1,) * (len(full_shape) - 2)), full_shape)
    elif kind == "positions":
        m = rng.random(full_shape[:-1] + (1,)) < spec["p"]
        m = np.broadcast_to(m, full_shape)
    elif kind == "elementwise":
        m = rng.random(full_shape) < spec["p"]
    else:
        raise ValueError(kind)
    m = np.array(m)
    if which == 1:
        for i in spec.get("all_masked", []):
            m[i] = True
    assert m.shape[0] == n
    return m


def decode(x):
    """Inputs from JSON (with "nan" strings) as a float64 array."""
    return np.asarray(x, dtype=np.float64)


def encode(a):
    """Nested lists with non-finite floats as strings ("nan", "inf", "-inf")."""
    a = np.asarray(a)
    if a.dtype == bool:
        return a.tolist()
    if a.dtype.kind in "fc" and not np.all(np.isfinite(a)):
        if a.ndim == 0:
            return str(float(a)).lower()
        obj = a.astype(object)
        for idx in zip(*np.nonzero(~np.isfinite(a))):
            obj[idx] = str(float(a[idx])).lower()
        return obj.tolist()
    return a.tolist()


def tolist(tree):
    return jax.tree_util.tree_map(lambda a: encode(a), tree, is_leaf=lambda a: a is None)


def error(e):
    return dict(type=type(e).__name__, message=str(e))


def main():
    jax.config.update("jax_enable_x64", True)
    from neural_tangents import stax

    rng = np.random.default_rng(0)
    out = {}
    for case, spec in CASES.items():
        layers, shape, c = spec["layers"], tuple(spec["shape"]), spec["mask_constant"]
        init_fn, apply_fn, kernel_fn = network(stax, layers)
        m1 = masks(spec["mask"], (3,) + shape, rng, 1)
        m2 = masks(spec["mask"], (2,) + shape, rng, 2)
        x1 = np.where(m1, c, rng.standard_normal((3,) + shape))
        x2 = np.where(m2, c, rng.standard_normal((2,) + shape))
        rec = dict(layers=layers, shape=list(shape), mask_constant=encode(c),
                   mask_kind=spec["mask"]["kind"], x1=encode(x1), x2=encode(x2),
                   mask1=m1.tolist(), mask2=m2.tolist())
        errors = {}
        try:
            k = kernel_fn(x1, x2, ("nngp", "ntk"), mask_constant=c)
            rec.update(nngp=encode(k.nngp), ntk=encode(k.ntk))
        except Exception as e:  # noqa: BLE001 -- recorded
            errors["kernel_12"] = error(e)
        try:
            k = kernel_fn(x1, None, ("nngp", "ntk"), mask_constant=c)
            rec.update(nngp_11=encode(k.nngp), ntk_11=encode(k.ntk))
        except Exception as e:  # noqa: BLE001
            errors["kernel_11"] = error(e)
        params = None
        try:
            out_shape, params = init_fn(jax.random.PRNGKey(1), x1.shape)
            rec.update(output_shape=[int(d) for d in out_shape], params=tolist(params))
        except Exception as e:  # noqa: BLE001
            errors["init"] = error(e)
        if params is not None:
            try:
                y = apply_fn(params, x1, mask_constant=c)
                assert isinstance(y, stax.MaskedArray), type(y)
                rec.update(apply_value=encode(y.masked_value), apply_mask=encode(y.mask))
            except Exception as e:  # noqa: BLE001
                errors["apply"] = error(e)
            try:
                y = stax.unmask_fn(apply_fn)(params, x1, mask_constant=c)
                rec.update(apply_unmasked=encode(y))
            except Exception as e:  # noqa: BLE001
                errors["unmask"] = error(e)
        rec["errors"] = errors
        out[case] = rec
        print(case, x1.shape, "->", rec.get("output_shape"),
              "mask", np.shape(rec.get("apply_mask")), "errors:", sorted(errors))
        for stage, e in errors.items():
            print("   ", stage, e["type"], e["message"][:200])
    with open(OUT, "w") as f:
        json.dump(out, f, allow_nan=False)


if __name__ == "__main__":
    main()
