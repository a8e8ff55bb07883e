"""GlobalSelfAttention: neural-tangents' numbers, its finite network, messages, Monte Carlo.

The kernels agree with neural-tangents 0.6.5 on every supported attention_mechanism x
pos_emb_type x linear_scaling (KERNEL_CASES in make_nt_attention_reference.py, which also
varies val_pos_emb, the decay function, n_chan_pos_emb, the bias, 0, 1 and 2 spatial axes):
its values were computed once in the peer venv by that script (run by hand) and are
recorded in nt_attention_reference.json; float64, 1e-6 relative to the largest entry (seen:
below 2e-15). Cases with a Dense before and Relu -> Dense after the attention run here by
composing kernel functions (kernel_fn(Kernel)), so the Dense and the head compile once for all
cases; the reference ran them as one serial network.
"""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine import stax
from tests.engine.make_nt_attention_reference import (APPLY_CASES, KERNEL_CASES, PATH,
                                                      attention, inputs, parts)
from tests.engine.monte_carlo import rel_frobenius

DATA = inputs()
X1, X2 = DATA["signal"]


@pytest.fixture(scope="module")
def reference():
    with open(PATH) as f:
        return json.load(f)


def assert_close(ours, theirs, rtol=1e-6):
    theirs = np.asarray(theirs)
    np.testing.assert_allclose(np.asarray(ours), theirs, rtol=0,
                               atol=rtol * np.abs(theirs).max())


@pytest.mark.parametrize("name", sorted(KERNEL_CASES))
def test_kernel_equals_neural_tangents(name, reference):
    case = KERNEL_CASES[name]
    x1, x2 = DATA[case["kind"]]
    before, layer, after = parts(stax, case)
    if before is None:
        k = layer[2](x1, x2, ("nngp", "ntk"))
    else:
        k = after[2](layer[2](before[2](x1, x2)), get=("nngp", "ntk"))
    nngp, ntk = reference[name]
    assert_close(k.nngp, nngp)
    assert_close(k.ntk, ntk)


# ---------------------------------------------------------------- the finite network

@pytest.mark.parametrize("name", sorted(APPLY_CASES))
def test_params_and_apply_equal_neural_tangents(name, reference):
    """NT's layout (W^Q, W^K, W^V, W^O, b, embedding) with None where absent; the same key
    gives NT's very numbers (the same splits and draws); NT's params give NT's outputs."""
    case, recorded = APPLY_CASES[name], reference[name]
    x1 = DATA[case["kind"]][0]
    init_fn, apply_fn, _ = attention(stax, case["kwargs"])
    out_shape, params = init_fn(jax.random.PRNGKey(1), x1.shape)
    theirs = tuple(None if p is None else np.asarray(p) for p in recorded["params"])
    assert jax.tree_util.tree_structure(params) == jax.tree_util.tree_structure(theirs)
    assert [np.shape(p) for p in jax.tree_util.tree_leaves(params)] == \
        [p.shape for p in jax.tree_util.tree_leaves(theirs)]
    for ours, nt in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(theirs)):
        np.testing.assert_allclose(ours, nt, rtol=0, atol=1e-12)
    outputs = apply_fn(theirs, x1)
    assert out_shape == outputs.shape == np.shape(recorded["outputs"])
    assert_close(outputs, recorded["outputs"], rtol=1e-10)


def test_apply_formula_one_head():
    """One head, identity mechanism, no embedding: f = s(x) x W^V W^O OV / sqrt(n_v C)."""
    init_fn, apply_fn, _ = stax.GlobalSelfAttention(
        2, 3, 4, 1, linear_scaling=False, attention_mechanism="IDENTITY", W_key_std=1.5,
        W_query_std=0.5, W_value_std=2.0, W_out_std=0.5, b_std=0.3)
    _, (w_q, w_k, w_v, w_o, b, emb) = init_fn(jax.random.PRNGKey(0), X1.shape)
    assert emb is None and w_q.shape == w_k.shape == (1, 3, 3) and b.shape == (1, 1, 2)
    q, k = X1 @ w_q[0], X1 @ w_k[0]
    scores = 0.75 * np.einsum("npk,nqk->npq", q, k) / (3 * np.sqrt(3))
    expected = np.einsum("npq,nqc->npc", scores, X1) @ w_v[0] @ w_o / np.sqrt(4 * 3) + 0.3 * b
    np.testing.assert_allclose(apply_fn((w_q, w_k, w_v, w_o, b, emb), X1), expected,
                               rtol=1e-12)


# ---------------------------------------------------------------- messages

@pytest.mark.parametrize("mechanism", ["SOFTMAX", "ABS", "RELU"])
def test_square_root_scaling_has_a_kernel_only_for_identity(mechanism):
    """As neural-tangents (NotImplementedError there): the finite network still works."""
    init_fn, apply_fn, kernel_fn = stax.GlobalSelfAttention(
        5, 6, 7, 2, linear_scaling=False, attention_mechanism=mechanism)
    with pytest.raises(ValueError, match=(
            rf"GlobalSelfAttention\(linear_scaling=False, attention_mechanism='{mechanism}'\): "
            r"no closed-form kernel is known for 1 / sqrt\(n_chan_key\) scaling except with "
            r"attention_mechanism='IDENTITY'; use linear_scaling=True \(or apply_fn only\)")):
        kernel_fn(X1, X2)
    _, params = init_fn(jax.random.PRNGKey(0), X1.shape)
    assert apply_fn(params, X1).shape == (3, 4, 5)


def test_summed_embedding_needs_the_inputs_channels():
    kernel_fn = stax.GlobalSelfAttention(5, 6, 7, 2, pos_emb_type="SUM", n_chan_pos_emb=4)[2]
    with pytest.raises(ValueError, match=r"GlobalSelfAttention\(pos_emb_type='SUM', "
                                         r"n_chan_pos_emb=4\): summed embeddings need the "
                                         r"inputs' 3 channels; use n_chan_pos_emb=None"):
        kernel_fn(X1, X2)
    same = stax.GlobalSelfAttention(5, 6, 7, 2, pos_emb_type="SUM", n_chan_pos_emb=3)
    assert same[0](jax.random.PRNGKey(0), X1.shape)[1][5].shape == (1, 4, 3)


def test_three_spatial_axes_are_refused():
    layer = stax.GlobalSelfAttention(5, 6, 7, 2).layer
    from engine.layers.layer import Shape
    with pytest.raises(ValueError, match=r"GlobalSelfAttention: needs inputs \(N, C\), "
                                         r"\(N, W, C\) or \(N, H, W, C\); got inputs of shape "
                                         r"\('N', 2, 2, 2, 3\)"):
        layer.shape(Shape((2, 2, 2, 3)))


@pytest.mark.parametrize("kwargs, message", [
    (dict(attention_mechanism="softmax"), r"GlobalSelfAttention\(attention_mechanism="
     r"'softmax'\): expected one of \['SOFTMAX', 'IDENTITY', 'ABS', 'RELU'\]"),
    (dict(pos_emb_type="ADD"), r"GlobalSelfAttention\(pos_emb_type='ADD'\): expected one of "
     r"\['NONE', 'SUM', 'CONCAT'\]"),
    (dict(linear_scaling=1), r"GlobalSelfAttention\(linear_scaling=1\): linear_scaling must "
     r"be True or False"),
    (dict(n_heads=0), r"GlobalSelfAttention\(n_heads=0\): n_heads must be a positive integer"),
    (dict(n_chan_key=2.0), r"GlobalSelfAttention\(n_chan_key=2.0\): n_chan_key must be an "
     r"integer"),
    (dict(W_key_std=-1.0), r"GlobalSelfAttention\(W_key_std=-1.0\): W_key_std must be "
     r"non-negative"),
    (dict(b_std=-0.1), r"GlobalSelfAttention\(b_std=-0.1\): b_std must be non-negative"),
    (dict(batch_axis=1, channel_axis=1), r"GlobalSelfAttention\(batch_axis=1, "
     r"channel_axis=1\): the batch and channel axes must differ"),
    (dict(pos_emb_p_norm=0), r"GlobalSelfAttention\(pos_emb_p_norm=0\): pos_emb_p_norm must "
     r"be positive"),
    (dict(pos_emb_decay_fn=2.0), r"GlobalSelfAttention\(pos_emb_decay_fn=2.0\): "
     r"pos_emb_decay_fn must be a function of the distance, or None"),
    (dict(n_chan_pos_emb=0), r"GlobalSelfAttention\(n_chan_pos_emb=0\): n_chan_pos_emb must "
     r"be a positive integer"),
    (dict(W_pos_emb_std=-2.0), r"GlobalSelfAttention\(W_pos_emb_std=-2.0\): W_pos_emb_std "
     r"must be non-negative"),
    (dict(val_pos_emb="yes"), r"GlobalSelfAttention\(val_pos_emb='yes'\): val_pos_emb must "
     r"be True or False"),
])
def test_construction_messages(kwargs, message):
    args = dict(n_chan_out=5, n_chan_key=6, n_chan_val=7, n_heads=2)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        stax.GlobalSelfAttention(**args)


# ---------------------------------------------------------------- Monte Carlo
# The finite network's NNGP (mean of f(x1) f(x2)^T over WIDTH outputs) and NTK (J J^T over
# all parameters, one output) over SAMPLES = 256 initialisations against the kernel, within
# 10 % relative Frobenius (seen: NNGP 3-5 %, NTK 2-3 %; at 64 samples 8-20 %, so the noise
# falls like 1 / sqrt(samples)). Three rows: softmax after a Dense of width 64 (Theta_in
# carried through A Theta A^T), RELU with a summed decaying embedding, and IDENTITY with
# 1 / sqrt(n_chan_key) and a concatenated embedding in the values (many small heads: the
# scores' randomness averages over heads). Rows without the Dense see inputs with 64 channels,
# so their input covariance is exact.
# Not a row: RELU/ABS with val_pos_emb=True converge slowly in the embedding's channel count
# C (one draw shared by keys and values): seen 12 % / 19 % (NNGP / NTK) at C = 64 and 5 % /
# 7 % at C = 256, 512 samples.

#: name: (attention arguments, (n_chan_key, n_chan_val, n_heads), Dense before it or not)
MC_ROWS = {
    "softmax_after_dense": (dict(attention_mechanism="SOFTMAX", W_key_std=2.0, b_std=0.1),
                            (64, 16, 4), True),
    "relu_sum_decay": (dict(attention_mechanism="RELU", pos_emb_type="SUM",
                            pos_emb_decay_fn=lambda d: jnp.exp(-d)), (64, 8, 8), False),
    "identity_sqrt_concat_values": (dict(attention_mechanism="IDENTITY", linear_scaling=False,
                                         pos_emb_type="CONCAT", n_chan_pos_emb=64,
                                         val_pos_emb=True, W_pos_emb_std=0.8),
                                    (4, 4, 64), False),
}
WIDTH, SAMPLES, TOLERANCE = 64, 256, 0.10
#: inputs with WIDTH channels for the rows without a Dense (x W / sqrt(3), W fixed): the
#: attention sees exact input covariances, and a summed embedding has WIDTH channels too
PROJECTION = np.random.default_rng(5).standard_normal((3, WIDTH)) / np.sqrt(3)


def mc_network(name, readout):
    kwargs, (n_key, n_val, n_heads), dense = MC_ROWS[name]
    layer = stax.GlobalSelfAttention(readout, n_key, n_val, n_heads, **kwargs)
    return stax.serial(stax.Dense(WIDTH, 1.3, 0.2), layer) if dense else layer


def monte_carlo(name, x1, x2):
    """(nngp, ntk) in the full layout (N1, N2, P, P), averaged over SAMPLES initialisations:
    the NNGP from WIDTH outputs, the NTK from one (summed over all parameters)."""
    wide_init, wide_apply, _ = mc_network(name, WIDTH)
    init_fn, apply_fn, _ = mc_network(name, 1)

    xs, n1 = jnp.concatenate([x1, x2]), len(x1)
    keys = jax.random.split(jax.random.PRNGKey(0), SAMPLES)
    # params drawn eagerly, outside the compiled loop (which then compiles apply and its
    # Jacobian only)
    wide_params = _stacked([wide_init(key, xs.shape)[1] for key in keys])
    params = _stacked([init_fn(key, xs.shape)[1] for key in keys])

    def one(both):
        wide, narrow = both
        f = wide_apply(wide, xs)
        nngp = jnp.einsum("apc,bqc->abpq", f[:n1], f[n1:]) / WIDTH
        ntk = 0.0
        for j in jax.tree_util.tree_leaves(jax.jacrev(apply_fn)(narrow, xs)):
            j = j.reshape(j.shape[:2] + (-1,))
            ntk = ntk + jnp.einsum("apz,bqz->abpq", j[:n1], j[n1:])
        return nngp, ntk

    nngp, ntk = jax.jit(lambda both: jax.lax.map(one, both))((wide_params, params))
    return np.asarray(nngp.mean(0)), np.asarray(ntk.mean(0))


def _stacked(trees):
    return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *trees)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MC_ROWS))
def test_finite_network_matches_kernel(name):
    x1, x2 = (X1, X2) if MC_ROWS[name][2] else (X1 @ PROJECTION, X2 @ PROJECTION)
    nngp, ntk = monte_carlo(name, jnp.asarray(x1), jnp.asarray(x2))
    exact = mc_network(name, 1)[2](x1, x2, ("nngp", "ntk"))
    assert rel_frobenius(nngp, exact.nngp) < TOLERANCE
    assert rel_frobenius(ntk, exact.ntk) < TOLERANCE
