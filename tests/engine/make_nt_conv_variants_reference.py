"""Write nt_conv_variants_reference.json: neural-tangents 0.6.5's numbers for ConvTranspose
and ConvLocal, read by test_conv_transpose_local.py.

Run by hand in the peer venv (see /work/shared/peers/neural_tangents/README.md), not by pytest:

    /root/.cache/nt-peer-venv/bin/python tests/engine/make_nt_conv_variants_reference.py

It records, in float64:
- "inputs": the 1-D signals (N, 5, 2) and 2-D images (N, 4, 3, 2) every case uses;
- "kernels": per case the layer's arguments, the readout and NT's nngp / ntk of x1 with x2
  for layer -> Relu -> (Flatten or GlobalAvgPool) -> Dense(1);
- "apply": per case the layer's arguments, NT's params from PRNGKey(1) for x1's shape and
  NT's apply_fn output of that one layer on x1.
The test builds the same networks from these arguments with engine.stax.
"""
import itertools
import json
import os

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)

from neural_tangents import stax  # noqa: E402

W_STD, B_STD, CHANNELS = 1.3, 0.2, 3
LAYERS = ("ConvTranspose", "ConvLocal")
PADDINGS = ("VALID", "SAME", "CIRCULAR")
PARAMETERIZATIONS = ("ntk", "standard")
READOUTS = ("flatten", "gap")
#: per input kind: filter_shape and the strides tried
GEOMETRY = {"signal": ((3,), ((1,), (2,))), "image": ((2, 3), ((1, 1), (2, 1)))}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nt_conv_variants_reference.json")


def inputs():
    rng = np.random.default_rng(0)
    return {"signal1": rng.standard_normal((3, 5, 2)), "signal2": rng.standard_normal((2, 5, 2)),
            "image1": rng.standard_normal((3, 4, 3, 2)),
            "image2": rng.standard_normal((2, 4, 3, 2))}


def cases():
    """name -> (layer, kwargs, input kind, readout): the grid, then edge cases.

    Grid: layer x input kind x padding x strides x parameterization; the readout alternates
    so that each padding, stride and parameterization meets Flatten (the diagonal layout)
    and GlobalAvgPool (the full layout) once per layer and input kind.
    """
    out = {}
    for layer, (kind, (filt, strides)), padding, (i, parameterization) in itertools.product(
            LAYERS, GEOMETRY.items(), PADDINGS, enumerate(PARAMETERIZATIONS)):
        for j, stride in enumerate(strides):
            readout = READOUTS[(i + j + 1) % 2]
            kwargs = dict(out_chan=CHANNELS, filter_shape=filt, strides=stride, padding=padding,
                          W_std=W_STD, b_std=B_STD, parameterization=parameterization)
            name = (f"{layer}_{kind}_{padding}_s{''.join(map(str, stride))}_{parameterization}"
                    f"_{readout}")
            out[name] = (layer, kwargs, kind, readout)
    edges = {  # filter shorter than the stride, longer than the input, no bias, 1 channel
        "ConvTranspose_signal_f2_s3_VALID_gap": ("ConvTranspose", dict(
            filter_shape=(2,), strides=(3,), padding="VALID")),
        "ConvTranspose_signal_f2_s3_SAME_flatten": ("ConvTranspose", dict(
            filter_shape=(2,), strides=(3,), padding="SAME")),
        "ConvTranspose_signal_f2_s3_CIRCULAR_gap": ("ConvTranspose", dict(
            filter_shape=(2,), strides=(3,), padding="CIRCULAR")),
        "ConvTranspose_signal_f7_CIRCULAR_gap": ("ConvTranspose", dict(
            filter_shape=(7,), padding="CIRCULAR")),
        "ConvTranspose_signal_f7_SAME_flatten": ("ConvTranspose", dict(
            filter_shape=(7,), padding="SAME")),
        "ConvTranspose_signal_f7_VALID_gap": ("ConvTranspose", dict(filter_shape=(7,))),
        "ConvLocal_signal_f7_SAME_gap": ("ConvLocal", dict(filter_shape=(7,), padding="SAME")),
        "ConvLocal_signal_f7_CIRCULAR_flatten": ("ConvLocal", dict(
            filter_shape=(7,), padding="CIRCULAR")),
        "ConvLocal_image_s22_SAME_gap": ("ConvLocal", dict(
            filter_shape=(3, 2), strides=(2, 2), padding="SAME")),
    }
    for name, (layer, kwargs) in edges.items():
        kind = "image" if len(kwargs["filter_shape"]) == 2 else "signal"
        out[name] = (layer, dict(out_chan=CHANNELS, W_std=W_STD, b_std=B_STD, **kwargs), kind,
                     name.rsplit("_", 1)[1])
    for layer, (i, parameterization) in itertools.product(LAYERS,
                                                          enumerate(PARAMETERIZATIONS)):
        kwargs = dict(out_chan=1, filter_shape=(2,), padding="SAME", W_std=W_STD, b_std=None,
                      parameterization=parameterization)
        readout = READOUTS[i]
        out[f"{layer}_signal_no_bias_{parameterization}_{readout}"] = (
            layer, kwargs, "signal", readout)
    return out


def network(layer, kwargs, readout):
    parameterization = kwargs.get("parameterization", "ntk")
    pool = stax.Flatten() if readout == "flatten" else stax.GlobalAvgPool()
    return stax.serial(getattr(stax, layer)(**kwargs), stax.Relu(), pool,
                       stax.Dense(1, W_STD, B_STD, parameterization=parameterization))


def apply_cases():
    """One finite layer per (layer, input kind, padding, parameterization), strided."""
    out = {}
    for layer, (kind, (filt, strides)), padding, parameterization in itertools.product(
            LAYERS, GEOMETRY.items(), PADDINGS, PARAMETERIZATIONS):
        kwargs = dict(out_chan=CHANNELS, filter_shape=filt, strides=strides[-1], padding=padding,
                      W_std=W_STD, b_std=B_STD, parameterization=parameterization)
        out[f"{layer}_{kind}_{padding}_{parameterization}"] = (layer, kwargs, kind)
    out["ConvTranspose_signal_f2_s3_CIRCULAR"] = ("ConvTranspose", dict(
        out_chan=CHANNELS, filter_shape=(2,), strides=(3,), padding="CIRCULAR"), "signal")
    out["ConvTranspose_signal_f7_CIRCULAR"] = ("ConvTranspose", dict(
        out_chan=CHANNELS, filter_shape=(7,), padding="CIRCULAR", b_std=B_STD), "signal")
    out["ConvLocal_signal_no_bias"] = ("ConvLocal", dict(out_chan=CHANNELS, filter_shape=(2,),
                                                          padding="SAME"), "signal")
    return out


def as_lists(tree):
    return jax.tree_util.tree_map(lambda a: None if a is None else np.asarray(a).tolist(), tree,
                                  is_leaf=lambda a: a is None)


def main():
    x = inputs()
    kernels = {}
    for name, (layer, kwargs, kind, readout) in cases().items():
        k = network(layer, kwargs, readout)[2](x[kind + "1"], x[kind + "2"], ("nngp", "ntk"))
        kernels[name] = dict(layer=layer, kwargs=kwargs, input=kind, readout=readout,
                             nngp=np.asarray(k.nngp).tolist(), ntk=np.asarray(k.ntk).tolist())
    applied = {}
    for name, (layer, kwargs, kind) in apply_cases().items():
        init_fn, apply_fn, _ = getattr(stax, layer)(**kwargs)
        shape, params = init_fn(jax.random.PRNGKey(1), x[kind + "1"].shape)
        applied[name] = dict(layer=layer, kwargs=kwargs, input=kind,
                             out_shape=[int(d) for d in shape], params=as_lists(list(params)),
                             output=np.asarray(apply_fn(params, x[kind + "1"])).tolist())
    reference = dict(inputs={k: v.tolist() for k, v in x.items()}, kernels=kernels,
                     apply=applied, made_with="neural-tangents 0.6.5, jax " + jax.__version__)
    with open(OUT, "w") as f:
        json.dump(reference, f)
    print(f"{OUT}: {len(kernels)} kernel cases, {len(applied)} apply cases")


if __name__ == "__main__":
    main()
