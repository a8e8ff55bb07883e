"""GlobalSelfAttention on masked inputs (neural-tangents' ``mask_constant``).

A position whose every channel is masked is no key: its score is -1e20 before softmax and 0
for the other mechanisms, its positional embedding is zero, and the outputs at masked
positions are masked (covariances zeroed). Against neural-tangents 0.6.5: the attention cases
of nt_masking_reference.json (make_nt_masking_reference.py: padded sequences through Conv,
attention and global pooling; each mechanism, both scalings, summed and concatenated
embeddings, 2-d positions, channel-wise masks, a fully masked input). Monte Carlo: the NNGP
of a wide masked attention network converges to the masked kernel. Padding: with
neural-tangents' semantics a sequence padded at its end has, after global average pooling,
the unpadded one's kernel (and output); padded at its start too, unless the embeddings (at
absolute positions) enter the covariance between two inputs.
"""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine import stax
from tests.engine.make_nt_masking_reference import decode, network
from tests.engine.monte_carlo import rel_frobenius
from tests.engine.test_nt_keywords import like

REFERENCE = json.load(open(os.path.join(os.path.dirname(__file__), "nt_masking_reference.json")))


def _has_attention(layers) -> bool:
    for name, kwargs in layers:
        if name == "GlobalSelfAttention":
            return True
        if name == "serial" and _has_attention(kwargs):
            return True
        if name == "parallel" and any(_has_attention(branch) for branch in kwargs):
            return True
    return False


ATTENTION_CASES = sorted(case for case, ref in REFERENCE.items() if _has_attention(ref["layers"]))


def assert_close(ours, theirs, rtol=1e-10):
    """Equal to ``rtol`` relative to the largest entry of ``theirs``."""
    theirs = np.asarray(theirs, dtype=float)
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=0,
                               atol=rtol * max(np.abs(theirs).max(), 1e-300))


def test_the_reference_has_the_attention_cases():
    """Every mechanism and both scalings, with and without embeddings, are in the reference
    and mask something in x1 and x2."""
    assert len(ATTENTION_CASES) >= 9
    seen = set()
    for case in ATTENTION_CASES:
        ref = REFERENCE[case]
        assert not ref["errors"], case
        assert np.asarray(ref["mask1"]).any() and np.asarray(ref["mask2"]).any(), case
        for name, kwargs in ref["layers"]:
            if name == "GlobalSelfAttention":
                seen.add((kwargs.get("attention_mechanism", "SOFTMAX"),
                          kwargs.get("linear_scaling", True),
                          kwargs.get("pos_emb_type", "NONE")))
    assert {m for m, _, _ in seen} == {"SOFTMAX", "IDENTITY", "RELU", "ABS"}
    assert ("IDENTITY", False, "SUM") in seen and ("IDENTITY", False, "CONCAT") in seen
    assert {e for _, _, e in seen} == {"NONE", "SUM", "CONCAT"}


@pytest.mark.parametrize("case", ATTENTION_CASES)
def test_masked_attention_equals_neural_tangents(case):
    """kernel_fn (x1 vs x2 and x1 alone), params, apply_fn's MaskedArray (values, also at
    masked positions, and mask) and unmask_fn(apply_fn): NT's to 1e-10 (seen: below 1e-15)."""
    ref = REFERENCE[case]
    init_fn, apply_fn, kernel_fn = network(stax, ref["layers"])
    x1, x2, c = decode(ref["x1"]), decode(ref["x2"]), float(ref["mask_constant"])
    k = kernel_fn(x1, x2, ("nngp", "ntk"), mask_constant=c)
    assert_close(k.nngp, ref["nngp"])
    assert_close(k.ntk, ref["ntk"])
    k11 = kernel_fn(x1, None, ("nngp", "ntk"), mask_constant=c)
    assert_close(k11.nngp, ref["nngp_11"])
    assert_close(k11.ntk, ref["ntk_11"])
    shape, params = init_fn(jax.random.PRNGKey(1), x1.shape)
    assert list(shape) == ref["output_shape"]
    theirs = like(params, ref["params"])
    out = apply_fn(theirs, x1, mask_constant=c)
    assert isinstance(out, stax.MaskedArray)
    assert_close(out.masked_value, ref["apply_value"])
    full = np.shape(ref["apply_value"])
    np.testing.assert_array_equal(np.broadcast_to(out.mask, full),
                                  np.broadcast_to(np.asarray(ref["apply_mask"]), full))
    assert_close(stax.unmask_fn(apply_fn)(theirs, x1, mask_constant=c), ref["apply_unmasked"])


# ---------------------------------------------------------------- Monte Carlo

WIDTH, SAMPLES, TOLERANCE = 64, 256, 0.10  # test_attention.py's 10 % relative Frobenius
MASK = 100.0


def _padded_inputs():
    """Sequences of 6 positions padded with MASK: x1 lengths 6, 4, 2; x2 lengths 5, 3."""
    rng = np.random.default_rng(7)
    x1, x2 = rng.standard_normal((3, 6, 3)), rng.standard_normal((2, 6, 3))
    for x, lengths in ((x1, (6, 4, 2)), (x2, (5, 3))):
        for i, n in enumerate(lengths):
            x[i, n:] = MASK
    return x1, x2


def _mc_attention():
    """Dense -> softmax attention (WIDTH outputs) with a summed, decaying embedding."""
    return stax.serial(
        stax.Dense(WIDTH, 1.3, 0.2),
        stax.GlobalSelfAttention(WIDTH, WIDTH, 16, 4, W_key_std=2.0, b_std=0.1,
                                 pos_emb_type="SUM", pos_emb_decay_fn=lambda d: jnp.exp(-d)))


@pytest.mark.slow
def test_a_wide_masked_attention_network_converges_to_the_masked_kernel():
    """The NNGP per pair of positions of unmask_fn(apply_fn)(..., mask_constant=MASK) over
    SAMPLES initialisations (mean over WIDTH outputs) is kernel_fn(mask_constant=MASK)'s
    (seen: 4 %), zeros at masked positions included, and differs from the kernel of the
    zero-padded sequences counted as data (seen: 19 %). The NTK: against NT, above."""
    x1, x2 = _padded_inputs()
    init_fn, apply_fn, kernel_fn = _mc_attention()
    unmasked = stax.unmask_fn(apply_fn)
    xs = jnp.concatenate([x1, x2])
    keys = jax.random.split(jax.random.key(0, impl="unsafe_rbg"), SAMPLES)
    f = jax.jit(jax.vmap(lambda key: unmasked(init_fn(key, xs.shape)[1], xs,
                                              mask_constant=MASK)))(keys)
    nngp = np.asarray(jnp.einsum("sapc,sbqc->abpq", f[:, :3], f[:, 3:])) / (SAMPLES * WIDTH)
    exact = kernel_fn(x1, x2, "nngp", mask_constant=MASK)
    assert rel_frobenius(nngp, exact) < TOLERANCE
    assert np.all(nngp[1, :, 4:] == 0) and np.all(nngp[:, 1, :, 3:] == 0)
    plain = kernel_fn(np.where(x1 == MASK, 0.0, x1), np.where(x2 == MASK, 0.0, x2), "nngp")
    assert rel_frobenius(plain, exact) > TOLERANCE


# ---------------------------------------------------------------- padding

#: attention arguments (each mechanism and scaling, with and without embeddings), and
#: whether the kernel ignores where the padding is: the embeddings are at absolute positions,
#: so x1's and x2's cross-covariance moves with a shift of x2 when they enter it (the
#: values', or all with 1 / sqrt(n_chan_key)); the keys' enter only an input's own
PADDING_ROWS = {
    "softmax_sum_decay": (dict(pos_emb_type="SUM", pos_emb_decay_fn=lambda d: jnp.exp(-d / 2)),
                          True),
    "softmax_concat_values": (dict(pos_emb_type="CONCAT", n_chan_pos_emb=2, val_pos_emb=True,
                                   b_std=0.3), False),
    "relu": (dict(attention_mechanism="RELU", b_std=0.3), True),
    "identity_sqrt_concat_values": (dict(attention_mechanism="IDENTITY", linear_scaling=False,
                                         pos_emb_type="CONCAT", val_pos_emb=True,
                                         pos_emb_decay_fn=lambda d: 1 / (1 + d)), False),
}


def _padding_network(kwargs):
    return stax.serial(stax.Conv(4, (3,), padding="SAME", W_std=1.3, b_std=0.2), stax.Relu(),
                       stax.GlobalSelfAttention(4, 3, 5, 2, **kwargs), stax.Relu(),
                       stax.GlobalAvgPool(), stax.Dense(1, 1.3, 0.2))


def _pad(x, before, after, constant=-7.0):
    return np.pad(x, ((0, 0), (before, after), (0, 0)), constant_values=constant)


@pytest.mark.parametrize("row", sorted(PADDING_ROWS))
def test_padding_a_sequence_does_not_change_its_kernel(row):
    """Masked keys get no weight, the embeddings are zero at masked positions, masked
    positions stay out of the average, and a SAME Conv sees zeros at masked neighbours as at
    the sequence's ends: padding after the sequences (3 positions) leaves the kernel of the pooled outputs that of the unpadded sequences. Padding before
    x2 too (a shift) leaves it where the embeddings stay out of the cross-covariance."""
    kwargs, shift_invariant = PADDING_ROWS[row]
    rng = np.random.default_rng(11)
    short1, short2 = rng.standard_normal((3, 5, 2)), rng.standard_normal((2, 5, 2))
    kernel_fn = _padding_network(kwargs)[2]
    plain = kernel_fn(short1, short2, ("nngp", "ntk"))
    padded = kernel_fn(_pad(short1, 0, 3), _pad(short2, 0, 3), ("nngp", "ntk"),
                       mask_constant=-7.0)
    np.testing.assert_allclose(padded.nngp, plain.nngp, rtol=1e-12)
    np.testing.assert_allclose(padded.ntk, plain.ntk, rtol=1e-12)
    shifted = kernel_fn(_pad(short1, 0, 3), _pad(short2, 2, 1), ("nngp", "ntk"),
                        mask_constant=-7.0)
    if shift_invariant:
        np.testing.assert_allclose(shifted.nngp, plain.nngp, rtol=1e-12)
        np.testing.assert_allclose(shifted.ntk, plain.ntk, rtol=1e-12)
    else:
        assert rel_frobenius(shifted.nngp, plain.nngp) > 1e-3
    counted = kernel_fn(_pad(short1, 0, 3, 0.0), _pad(short2, 0, 3, 0.0), "nngp")
    assert rel_frobenius(counted, plain.nngp) > 1e-3  # the zeros counted as data differ


@pytest.mark.parametrize("mechanism", ["SOFTMAX", "IDENTITY"])
def test_padding_a_sequence_does_not_change_the_finite_networks_output(mechanism):
    """The same for the finite network (no embedding: its parameters would have the padded
    length): a padded sequence's pooled output is the unpadded one's, with the same params."""
    init_fn, apply_fn, _ = _padding_network(dict(attention_mechanism=mechanism))
    rng = np.random.default_rng(12)
    short = rng.standard_normal((3, 5, 2))
    _, params = init_fn(jax.random.PRNGKey(0), short.shape)
    padded = stax.unmask_fn(apply_fn)(params, _pad(short, 1, 3), mask_constant=-7.0)
    np.testing.assert_allclose(padded, apply_fn(params, short), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- refusals

def test_channel_wise_masks_with_an_embedding_have_no_kernel():
    """As neural-tangents (NotImplementedError in its Kernel's mask products): masks of
    the inputs' shape reaching an embedding are refused by kernel_fn; apply_fn takes them
    (summed embeddings are zeroed entry by entry). Without an embedding both take them."""
    rng = np.random.default_rng(13)
    x = rng.standard_normal((2, 4, 3))
    x[0, 2:] = -2.0
    x[1, 1, 0] = -2.0
    init_fn, apply_fn, kernel_fn = stax.GlobalSelfAttention(3, 2, 3, 1, pos_emb_type="SUM")
    with pytest.raises(ValueError, match=r"GlobalSelfAttention: masks that differ between the "
                                         r"channels of a position"):
        kernel_fn(x, None, "nngp", mask_constant=-2.0)
    _, params = init_fn(jax.random.PRNGKey(0), x.shape)
    out = apply_fn(params, x, mask_constant=-2.0)
    assert out.mask[:, :, 0].tolist() == [[False, False, True, True], [False] * 4]
    plain = stax.GlobalSelfAttention(3, 2, 3, 1)[2](x, None, "nngp", mask_constant=-2.0)
    plain = np.asarray(plain)  # (N1, N2, P, P): x1[0]'s masked positions' covariances zeroed
    assert np.all(plain[0, :, 2:] == 0) and np.all(plain[:, 0, :, 2:] == 0)
    assert np.all(plain[1, 1] != 0)


def test_channel_wise_masks_do_not_fit_a_concatenated_embedding_of_other_width():
    """neural-tangents fails to broadcast the (N, P, C) mask onto a (1, P, C_e) embedding
    (C_e != C); here a ValueError says so."""
    x = np.random.default_rng(14).standard_normal((2, 4, 3))
    x[0, 1, 1] = -2.0
    init_fn, apply_fn, _ = stax.GlobalSelfAttention(3, 2, 3, 1, pos_emb_type="CONCAT",
                                                    n_chan_pos_emb=2)
    _, params = init_fn(jax.random.PRNGKey(0), x.shape)
    with pytest.raises(ValueError, match=r"GlobalSelfAttention\(pos_emb_type='CONCAT', "
                                         r"n_chan_pos_emb=2\): masks that differ between the 3 "
                                         r"channels of a position do not fit the embedding's 2 "
                                         r"channels"):
        apply_fn(params, x, mask_constant=-2.0)
