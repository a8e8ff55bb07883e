"""Records neural-tangents' GlobalSelfAttention numbers in nt_attention_reference.json.

Run by hand in the neural-tangents peer venv (/work/shared/peers/neural_tangents), from the
repository root:

    /root/.cache/nt-peer-venv/bin/python tests/engine/make_nt_attention_reference.py

The cases and inputs live here and are imported by test_attention.py, which builds the same
networks with ``engine.stax``: ``network(stax, case)`` takes either library's stax. For the
finite network it records neural-tangents' params (init_fn with PRNGKey(1)) and apply_fn's
outputs on them (the attention layer alone). This module imports only NumPy and JAX at the top (both venvs have them).
"""
import json
import os
import sys

import jax.numpy as jnp
import numpy as np

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nt_attention_reference.json")
SIZES = dict(n_chan_out=5, n_chan_key=6, n_chan_val=7, n_heads=2)
STDS = dict(W_key_std=1.4, W_query_std=0.9, W_value_std=1.2, W_out_std=0.8)


def decay_exp(d):
    return jnp.exp(-d / 2.0)


def decay_power(d):
    return 1.0 / (1.0 + d) ** 1.5


DECAYS = {"exp": decay_exp, "power": decay_power}


def inputs():
    """(x1, x2) per input kind: 4 positions of 3 channels, 2 x 3 images, flat vectors."""
    rng = np.random.default_rng(0)
    return {"signal": (rng.standard_normal((3, 4, 3)), rng.standard_normal((2, 4, 3))),
            "image": (rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((2, 2, 3, 3))),
            "flat": (rng.standard_normal((3, 3)), rng.standard_normal((2, 3)))}


def _case(mechanism, pos_emb="NONE", linear=True, kind="signal", wrap=True, **extra):
    kwargs = dict(attention_mechanism=mechanism, pos_emb_type=pos_emb, linear_scaling=linear,
                  **STDS, **extra)
    return dict(kwargs=kwargs, kind=kind, wrap=wrap)


#: every supported mechanism x pos_emb_type x linear_scaling, with the other arguments varied
KERNEL_CASES = {
    "softmax_none": _case("SOFTMAX", b_std=0.3),
    "softmax_sum": _case("SOFTMAX", "SUM", W_pos_emb_std=0.7),
    "softmax_concat_values_decay": _case("SOFTMAX", "CONCAT", n_chan_pos_emb=4, val_pos_emb=True,
                                         decay="exp", b_std=0.2),
    "identity_none": _case("IDENTITY"),
    "identity_sum_values_decay": _case("IDENTITY", "SUM", val_pos_emb=True, decay="power",
                                       pos_emb_p_norm=1, b_std=0.1),
    "identity_concat": _case("IDENTITY", "CONCAT", W_pos_emb_std=1.3),
    "abs_none": _case("ABS", b_std=0.2),
    "abs_sum_decay": _case("ABS", "SUM", decay="exp"),
    "abs_concat_values": _case("ABS", "CONCAT", val_pos_emb=True, n_chan_pos_emb=9),
    "relu_none": _case("RELU"),
    "relu_sum_values": _case("RELU", "SUM", val_pos_emb=True, W_pos_emb_std=0.5, b_std=0.4),
    "relu_concat_decay": _case("RELU", "CONCAT", n_chan_pos_emb=2, decay="power"),
    "sqrt_identity_none": _case("IDENTITY", linear=False, b_std=0.3),
    "sqrt_identity_sum": _case("IDENTITY", "SUM", linear=False, W_pos_emb_std=0.8),
    "sqrt_identity_sum_values_decay": _case("IDENTITY", "SUM", linear=False, val_pos_emb=True,
                                            decay="exp", b_std=0.2),
    "sqrt_identity_concat_decay": _case("IDENTITY", "CONCAT", linear=False, n_chan_pos_emb=5,
                                        decay="power", pos_emb_p_norm=1),
    "sqrt_identity_concat_values": _case("IDENTITY", "CONCAT", linear=False, val_pos_emb=True),
    "image_softmax_sum_values_decay": _case("SOFTMAX", "SUM", kind="image", val_pos_emb=True,
                                            decay="exp", pos_emb_p_norm=1, b_std=0.1),
    "image_sqrt_identity_concat_decay": _case("IDENTITY", "CONCAT", linear=False, kind="image",
                                              decay="power", n_chan_pos_emb=2),
    "flat_softmax_sum": _case("SOFTMAX", "SUM", kind="flat", b_std=0.2),
    "raw_inputs_relu_concat_values": _case("RELU", "CONCAT", wrap=False, val_pos_emb=True),
}

#: finite networks: neural-tangents' params and outputs (any mechanism runs with either scaling)
APPLY_CASES = {
    "apply_softmax_sqrt_concat_values": dict(
        kwargs=dict(attention_mechanism="SOFTMAX", pos_emb_type="CONCAT", linear_scaling=False,
                    n_chan_pos_emb=2, val_pos_emb=True, b_std=0.3, **STDS), kind="signal"),
    "apply_relu_sum_decay_image": dict(
        kwargs=dict(attention_mechanism="RELU", pos_emb_type="SUM", decay="exp",
                    W_pos_emb_std=0.6, **STDS), kind="image"),
    "apply_softmax_none": dict(kwargs=dict(attention_mechanism="SOFTMAX"), kind="signal"),
}


def attention(stax, kwargs):
    kwargs = dict(kwargs)
    decay = kwargs.pop("decay", None)
    if decay is not None:
        kwargs["pos_emb_decay_fn"] = DECAYS[decay]
    return stax.GlobalSelfAttention(**SIZES, **kwargs)


def parts(stax, case):
    """(before, attention, after): Dense, the attention, Relu -> Dense (wrap), or the
    attention alone on the inputs (before and after None)."""
    layer = attention(stax, case["kwargs"])
    if not case.get("wrap", False):
        return None, layer, None
    return (stax.Dense(6, 1.3, 0.2), layer,
            stax.serial(stax.Relu(), stax.Dense(2, 1.1, 0.1)))


def network(stax, case):
    """The chain of ``parts`` as one network."""
    return stax.serial(*(p for p in parts(stax, case) if p is not None))


def _listed(tree):
    return [None if leaf is None else np.asarray(leaf).tolist() for leaf in tree]


def main():
    import jax
    import warnings

    jax.config.update("jax_enable_x64", True)
    from neural_tangents import stax

    warnings.simplefilter("ignore")  # neural-tangents warns that linear scaling ties W^Q
    data = inputs()
    out = {"_about": "neural-tangents 0.6.5 (peer venv, jax 0.5.3, float64): GlobalSelfAttention "
                     "kernels {case: [nngp, ntk]} of x1 against x2 and finite networks {case: "
                     "{params, outputs}}; made by tests/engine/make_nt_attention_reference.py"}
    for name, case in KERNEL_CASES.items():
        x1, x2 = data[case["kind"]]
        k = network(stax, case)[2](x1, x2, ("nngp", "ntk"))
        out[name] = [np.asarray(k.nngp).tolist(), np.asarray(k.ntk).tolist()]
    for name, case in APPLY_CASES.items():
        x1, _ = data[case["kind"]]
        init_fn, apply_fn, _ = attention(stax, case["kwargs"])
        _, params = init_fn(jax.random.PRNGKey(1), x1.shape)
        out[name] = {"params": _listed(params),
                     "outputs": np.asarray(apply_fn(params, x1)).tolist()}
    with open(PATH, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {PATH}", file=sys.stderr)


if __name__ == "__main__":
    main()
