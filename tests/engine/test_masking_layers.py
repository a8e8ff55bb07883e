"""Masked inputs (``mask_constant``) through ConvTranspose, ConvLocal, ImageResize, Aggregate and
DotGeneral (engine.layers.masking; each layer's ``masks`` rule and ``remask``).

Against neural-tangents 0.6.5: the cases of make_nt_masking_reference.py named below (most
end on the layer, so its output mask is compared position by position) give NT's kernels,
params and masked outputs; ours equal them, and the output masks also equal NT's rules
written out here from its source (``mask_fn`` of each layer: ConvTranspose ORs the masks of
the inputs reaching an output through lax.conv_transpose, ConvLocal takes the window's
centre as Conv, ImageResize and DotGeneral mask an output only when nothing unmasked
contributes to it). Aggregate (its kernel_fn needs ``pattern``, which the reference maker does
not pass) is checked by its rule: the mask passes, the kernel is P^T K P' with the
covariances of masked vertices zeroed. A channel-first network masks as the channel-last one,
and a Monte Carlo row checks wide finite ConvLocal/ConvTranspose networks on padded inputs.
"""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from engine import stax
from tests.engine.make_nt_masking_reference import decode, network
from tests.engine.monte_carlo import rel_frobenius
from tests.engine.test_nt_keywords import like

REFERENCE = json.load(open(os.path.join(os.path.dirname(__file__), "nt_masking_reference.json")))
#: the reference cases of these layers
CASES = ["conv_transpose_valid_strided", "conv_transpose_circular_2d",
         "conv_transpose_elementwise_pool", "conv_local_same_strided", "conv_local_circular_2d",
         "image_resize_nearest", "image_resize_linear_down",
         "image_resize_linear_down_no_antialias", "dot_general_rhs_contract",
         "dot_general_lhs_then_dense", "dot_general_elementwise"]


# ----------------------------------------------------------------- NT's mask rules, written out

def _merged(m):
    return np.all(m, axis=-1, keepdims=True)


def _conv_transpose_rule(m, kw):
    """lax.conv_transpose of the merged mask with a filter of ones (CIRCULAR as SAME)."""
    spatial = m.ndim - 2
    spec = ("NWC", "WIO", "NWC") if spatial == 1 else ("NHWC", "HWIO", "NHWC")
    padding = "SAME" if kw["padding"] == "CIRCULAR" else kw["padding"]
    ones = jnp.ones(tuple(kw["filter_shape"]) + (1, 1), bool)
    return np.asarray(lax.conv_transpose(jnp.asarray(_merged(m)), ones,
                                         tuple(kw.get("strides") or (1,) * spatial), padding,
                                         dimension_numbers=spec))


def _window_centre_rule(m, kw):
    """Conv's and ConvLocal's: each output takes its window's centre (CIRCULAR as SAME)."""
    m = _merged(m)
    padding = "SAME" if kw["padding"] == "CIRCULAR" else kw["padding"]
    strides = kw.get("strides") or (1,) * (m.ndim - 2)
    index = [slice(None)]
    for size, f, s in zip(m.shape[1:-1], kw["filter_shape"], strides):
        low, high = lax.padtype_to_pads((size,), (f,), (s,), padding)[0]
        out = (size + low + high - f) // s + 1
        centre = np.arange(out) * s - low + (f - 1) // 2
        index.append(centre)
    out = m
    for axis, idx in enumerate(index[1:], start=1):
        out = np.take(out, idx, axis=axis)
    return out


def _resize_rule(m, kw):
    shape = [d if s == -1 else s for d, s in zip(m.shape, kw["shape"])]
    kept = jax.image.resize(jnp.asarray(~m), shape, method=kw["method"],
                            antialias=kw.get("antialias", True))
    return ~np.asarray(kept).astype(bool)


def _dot_general_rule(m, kw):
    """Masked where no entry with a nonzero weight is unmasked (one contracted axis)."""
    if "rhs" in kw and np.ndim(kw["rhs"]) == 0:
        return m if kw["rhs"] != 0 else np.ones_like(m)
    weighted = np.asarray(kw["rhs"] if "rhs" in kw else kw["lhs"]) != 0
    (c_lhs, c_rhs), _ = kw["dimension_numbers"]
    axis = c_lhs[0] if "rhs" in kw else c_rhs[0]
    return ~(np.tensordot(~m, weighted, axes=([axis], [0])) > 0)


def nt_output_mask(layers, mask):
    """The network's output mask by neural-tangents' rules, layer by layer."""
    channels = mask.shape[-1]
    for name, kw in layers:
        if name == "Dense":
            mask, channels = _merged(mask), kw["out_dim"]
        elif name in ("Conv", "ConvLocal"):
            mask, channels = _window_centre_rule(mask, kw), kw["out_chan"]
        elif name == "ConvTranspose":
            mask, channels = _conv_transpose_rule(mask, kw), kw["out_chan"]
        elif name == "ImageResize":
            mask = _resize_rule(mask, kw)
        elif name == "DotGeneral":
            mask = _dot_general_rule(mask, kw)
        elif name == "Flatten":
            full = np.broadcast_to(mask, mask.shape[:-1] + (channels,))
            mask = full.reshape(len(full), -1)
        elif name == "GlobalAvgPool":
            mask = np.all(mask, axis=tuple(range(1, mask.ndim - 1)))
        else:
            assert name in ("Relu", "Erf"), name
    return mask


# ----------------------------------------------------------------- against neural-tangents

@pytest.mark.parametrize("case", CASES)
def test_masks_kernels_and_outputs_equal_neural_tangents(case):
    ref = REFERENCE[case]
    assert not ref["errors"], ref["errors"]
    init_fn, apply_fn, kernel_fn = network(stax, ref["layers"])
    x1, x2, c = decode(ref["x1"]), decode(ref["x2"]), float(ref["mask_constant"])
    _, params = init_fn(jax.random.PRNGKey(1), x1.shape)
    theirs = like(params, ref["params"])
    out = apply_fn(theirs, x1, mask_constant=c)
    assert isinstance(out, stax.MaskedArray)
    shape = out.masked_value.shape
    expected = np.broadcast_to(nt_output_mask(ref["layers"], np.asarray(ref["mask1"])), shape)
    np.testing.assert_array_equal(np.broadcast_to(ref["apply_mask"], shape), expected)
    np.testing.assert_array_equal(np.broadcast_to(out.mask, shape), expected)
    np.testing.assert_allclose(out.masked_value, ref["apply_value"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(stax.unmask_fn(apply_fn)(theirs, x1, mask_constant=c),
                               ref["apply_unmasked"], rtol=1e-10, atol=1e-12)
    k = kernel_fn(x1, x2, ("nngp", "ntk"), mask_constant=c)
    np.testing.assert_allclose(k.nngp, ref["nngp"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(k.ntk, ref["ntk"], rtol=1e-10, atol=1e-13)


def test_the_cases_mask_some_outputs_and_not_others():
    """The reference's output masks discriminate: where the case ends on the layer, some
    outputs are masked and some not, and ConvTranspose's OR rule masks more than the window
    centre rule would."""
    spatial_ends = [c for c in CASES if REFERENCE[c]["layers"][-1][0] not in ("Dense",
                                                                              "GlobalAvgPool")]
    for case in spatial_ends:
        if case == "image_resize_linear_down":  # antialiased: every output sees unmasked pixels
            continue
        mask = np.asarray(REFERENCE[case]["apply_mask"])
        assert mask.any() and not mask.all(), case
    ref = REFERENCE["conv_transpose_valid_strided"]
    grown = nt_output_mask(ref["layers"][:1], np.asarray(ref["mask1"]))
    assert grown.sum() > 2 * _merged(np.asarray(ref["mask1"])).sum()


# ----------------------------------------------------------------- Aggregate, by its rule

def _dense_adjacency(edges, v):
    """(N, V, V) edge counts of integer edges (N, E, 1, 2)."""
    adj = np.zeros((len(edges), v, v))
    for n, graph in enumerate(edges):
        for (tail, head), in graph:
            adj[n, tail, head] += 1
    return adj


@pytest.mark.parametrize("implementation", ["DENSE", "SPARSE"])
def test_aggregate_passes_the_mask_and_zeroes_masked_vertices(implementation):
    """Kernel: P1^T K P2 of the masked input kernel, then the covariances of masked vertices
    zeroed (NT's remask_kernel=True; seen equal to neural-tangents to 2e-15 on DENSE and
    SPARSE graphs); apply: the zeroed inputs aggregated, the mask unchanged."""
    rng = np.random.default_rng(5)
    v, c = 5, -2.0
    x1, x2 = rng.standard_normal((3, v, 2)), rng.standard_normal((2, v, 2))
    x1[0, 1], x1[1, 3:], x1[2, 0], x2[1, 2] = c, c, c, c
    if implementation == "DENSE":
        p1 = (rng.random((3, v, v)) < 0.5) * rng.standard_normal((3, v, v))
        p2 = (rng.random((2, v, v)) < 0.5) * rng.standard_normal((2, v, v))
        a1, a2 = p1, p2
    else:
        p1, p2 = rng.integers(0, v, (3, 7, 1, 2)), rng.integers(0, v, (2, 7, 1, 2))
        a1, a2 = _dense_adjacency(p1, v), _dense_adjacency(p2, v)
    front = stax.serial(stax.Dense(3, 1.3, 0.2), stax.Erf())
    net = stax.serial(front, stax.Aggregate(implementation=implementation))

    k_in = front[2](x1, x2, None, mask_constant=c)
    k = net[2](x1, x2, None, mask_constant=c, pattern=(p1, p2))
    m1, m2 = k_in.mask1[..., 0], k_in.mask2[..., 0]
    np.testing.assert_array_equal(k.mask1, k_in.mask1)
    np.testing.assert_array_equal(k.mask2, k_in.mask2)
    masked = np.asarray(m1[:, None, :, None] | m2[None, :, None, :])
    for name in ("nngp", "ntk"):
        moved = np.einsum("aij,abik,bkl->abjl", a1, getattr(k_in, name), a2)
        assert np.abs(moved[masked]).max() > 0.1  # the remask is not vacuous
        np.testing.assert_allclose(getattr(k, name), np.where(masked, 0.0, moved),
                                   rtol=1e-12, atol=1e-14)

    _, params = net[0](jax.random.PRNGKey(0), x1.shape)
    before = front[1](params[0], x1, mask_constant=c)
    out = net[1](params, x1, mask_constant=c, pattern=p1)
    np.testing.assert_array_equal(out.mask, before.mask)
    zeroed = np.where(before.mask, 0.0, before.masked_value)
    np.testing.assert_allclose(out.masked_value, np.einsum("nvr,nvw->nwr", zeroed, a1),
                               rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------- layouts, a zero constant

def test_channel_first_layers_mask_as_channel_last_ones():
    """ImageResize, Aggregate and DotGeneral (its laid-out form) with channel_axis=1: the
    masked kernel and its output masks are the channel-last network's on transposed inputs."""
    rng = np.random.default_rng(7)
    x1, x2 = rng.standard_normal((3, 4, 5, 2)), rng.standard_normal((2, 4, 5, 2))
    x1[0, :2], x1[2, :, 3:], x2[1, 1:3, 1:] = 9.0, 9.0, 9.0
    weights = [0.5, 0.0, 1.0, 0.0, 0.0, 2.0]
    last = stax.serial(
        stax.Conv(3, (2, 2), padding="SAME", W_std=1.3, b_std=0.2), stax.Relu(),
        stax.ImageResize((-1, 3, 6, -1), "nearest"), stax.Aggregate(),
        stax.DotGeneral(rhs=weights, dimension_numbers=(((2,), (0,)), ((), ()))))
    first = stax.serial(
        stax.Conv(3, (2, 2), padding="SAME", W_std=1.3, b_std=0.2,
                  dimension_numbers=("NCHW", "OIHW", "NCHW")), stax.Relu(),
        stax.ImageResize((-1, -1, 3, 6), "nearest", channel_axis=1),
        stax.Aggregate(channel_axis=1),
        stax.DotGeneral(rhs=weights, dimension_numbers=(((3,), (0,)), ((), ())),
                        channel_axis=1))
    t = (0, 3, 1, 2)
    a = last[2](x1, x2, None, mask_constant=9.0)
    b = first[2](np.transpose(x1, t), np.transpose(x2, t), None, mask_constant=9.0)
    np.testing.assert_allclose(b.nngp, a.nngp, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.ntk, a.ntk, rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(b.mask1, a.mask1)
    np.testing.assert_array_equal(b.mask2, a.mask2)
    assert a.mask1.any() and not a.mask1.all()


def test_a_zero_scalar_dot_general_masks_everything():
    """~dot_general(~mask, 0 != 0) is all True (neural-tangents' rule): with mask_constant given
    every output is masked, and the next Dense zeroes the kernel."""
    x = np.random.default_rng(0).standard_normal((3, 4))
    init_fn, apply_fn, kernel_fn = stax.serial(stax.Dense(2), stax.DotGeneral(rhs=0.0),
                                               stax.Dense(1, b_std=0.5))
    _, params = init_fn(jax.random.PRNGKey(0), x.shape)
    assert np.asarray(apply_fn(params, x, mask_constant=123.0).mask).all()
    assert not np.any(kernel_fn(x, None, "nngp", mask_constant=123.0))
    assert np.all(kernel_fn(x, None, "nngp") > 0)


# ----------------------------------------------------------------- Monte Carlo

C = -5.0


def _padded(rng, n, length, channels):
    """Inputs correlated along positions (so covariances between positions weigh)."""
    return rng.standard_normal((n, 1, channels)) + 0.5 * rng.standard_normal((n, length, channels))


def test_wide_conv_local_and_transpose_networks_converge_to_the_masked_kernel():
    """NNGP of 32 networks of width 256 with 256 outputs (unmask_fn of apply_fn with
    mask_constant) on partly masked sequences is the masked kernel (seen: 2 %), and differs
    from the unmasked kernel of the zeroed inputs (31 %)."""
    rng = np.random.default_rng(0)
    x = _padded(rng, 5, 6, 3)
    x[0, 4:], x[1, 2], x[2, 1:], x[3, :2], x[4, 5] = C, C, C, C, C
    init_fn, apply_fn, kernel_fn = stax.serial(
        stax.ConvLocal(256, (3,), padding="SAME", W_std=1.4, b_std=0.1), stax.Relu(),
        stax.ConvTranspose(256, (3,), (2,), "SAME", W_std=1.4, b_std=0.1), stax.Relu(),
        stax.GlobalAvgPool(), stax.Dense(256, 1.4, 0.1))
    unmasked = stax.unmask_fn(apply_fn)
    forward = jax.jit(jax.vmap(lambda key: unmasked(init_fn(key, x.shape)[1], jnp.asarray(x),
                                                    mask_constant=C)))
    outs = forward(jax.random.split(jax.random.PRNGKey(0), 32))
    empirical = jnp.einsum("sai,sbi->ab", outs, outs) / (outs.shape[0] * outs.shape[-1])
    exact = kernel_fn(x, None, "nngp", mask_constant=C)
    assert rel_frobenius(empirical, exact) < 0.06
    plain = kernel_fn(np.where(x == C, 0.0, x), None, "nngp")
    assert rel_frobenius(plain, exact) > 0.2
