"""Masked inputs (neural-tangents' ``mask_constant``; engine.layers.masking).

Against neural-tangents 0.6.5: nt_masking_reference.json (written by
make_nt_masking_reference.py in the peer venv) holds networks on inputs with masked entries
(padded sequences through convolutions, attention and global pooling; masked image positions
through pooling, Flatten, Index and ImageResize; residual and concatenated branches; NaN as the
constant; masks differing between channels) with NT's kernels, params and masked outputs.
Ours equal NT's, and where NT refuses (channel-wise masks reaching a pooling layer) we refuse
with a ValueError. Monte Carlo: wide finite networks on masked inputs converge to our masked
kernels. The rest: the masks through jit and engine.batch, a padded sequence's kernel
ignores what padding it has, custom layers with ``supports_masking``, and the refusals.
"""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import engine
from engine import stax
from tests.engine.make_nt_masking_reference import decode, network
from tests.engine.monte_carlo import rel_frobenius
from tests.engine.test_nt_keywords import like

REFERENCE = json.load(open(os.path.join(os.path.dirname(__file__), "nt_masking_reference.json")))
#: cases whose layers this engine builds differently from neural-tangents, with the reason
NOT_HERE = {
    "conv_layernorm": "LayerNorm over spatial axes: not a closed form here (channel axis only)",
}


def _refused(ref) -> bool:
    return "kernel_12" in ref["errors"]


@pytest.mark.parametrize("case", sorted(set(REFERENCE) - set(NOT_HERE)))
def test_masked_kernels_params_and_outputs_equal_neural_tangents(case):
    ref = REFERENCE[case]
    init_fn, apply_fn, kernel_fn = network(stax, ref["layers"])
    x1, x2, c = decode(ref["x1"]), decode(ref["x2"]), float(ref["mask_constant"])
    if _refused(ref):
        # neural-tangents: NotImplementedError for channel-wise masks; with a Relu on the
        # inputs it stops sooner, as we do: the Relu's input is not Gaussian
        message = ("its input must be Gaussian" if case == "elementwise_relu_pool_error" else
                   "masks that differ between the channels of a position")
        with pytest.raises(ValueError, match=message):
            kernel_fn(x1, x2, ("nngp", "ntk"), mask_constant=c)
        return
    k = kernel_fn(x1, x2, ("nngp", "ntk"), mask_constant=c)
    np.testing.assert_allclose(k.nngp, ref["nngp"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(k.ntk, ref["ntk"], rtol=1e-10, atol=1e-13)
    k11 = kernel_fn(x1, None, ("nngp", "ntk"), mask_constant=c)
    np.testing.assert_allclose(k11.nngp, ref["nngp_11"], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(k11.ntk, ref["ntk_11"], rtol=1e-10, atol=1e-13)
    shape, params = init_fn(jax.random.PRNGKey(1), x1.shape)
    assert list(shape) == ref["output_shape"]
    theirs = like(params, ref["params"])
    out = apply_fn(theirs, x1, mask_constant=c)
    assert isinstance(out, stax.MaskedArray)
    np.testing.assert_allclose(out.masked_value, ref["apply_value"], rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(np.broadcast_to(out.mask, out.masked_value.shape),
                                  np.broadcast_to(ref["apply_mask"], out.masked_value.shape))
    np.testing.assert_allclose(stax.unmask_fn(apply_fn)(theirs, x1, mask_constant=c),
                               ref["apply_unmasked"], rtol=1e-10, atol=1e-12)


def test_the_reference_masks_something_and_refuses_what_neural_tangents_refuses():
    """The reference is not vacuous: every case has masked entries, and the refusals are
    neural-tangents' own (NotImplementedError for channel-wise masks at a pooling layer)."""
    for case, ref in REFERENCE.items():
        assert np.asarray(ref["mask1"]).any() and np.asarray(ref["mask2"]).any(), case
    refused = sorted(case for case, ref in REFERENCE.items() if _refused(ref))
    assert refused == ["elementwise_pool_error", "elementwise_relu_pool_error",
                       "elementwise_resize_error"]


@pytest.mark.parametrize("constant", [100.0, np.nan])
def test_a_wide_masked_network_converges_to_the_masked_kernel(constant):
    """Monte Carlo: the covariance of the pooled features of 16 networks of width 512 on
    padded sequences (unmask_fn of apply_fn with mask_constant; SAME and VALID windows,
    average pooling, ReLU and Erf) is the masked kernel (seen: 0.005-0.016 relative), and far
    from the kernel of the same inputs with the padding taken as zeros (0.17)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 7, 3))
    x[0, 5:], x[1, 3:], x[3, 1:] = constant, constant, constant
    init_fn, apply_fn, kernel_fn = stax.serial(
        stax.Conv(512, (3,), padding="SAME", W_std=1.3, b_std=0.2), stax.Relu(),
        stax.AvgPool((2,), padding="SAME"), stax.Conv(512, (2,), W_std=1.3, b_std=0.2),
        stax.Erf(), stax.GlobalAvgPool())
    forward = jax.jit(jax.vmap(lambda key: stax.unmask_fn(apply_fn)(
        init_fn(key, x.shape)[1], jnp.asarray(x), mask_constant=constant)))
    features = forward(jax.random.split(jax.random.PRNGKey(0), 16))
    empirical = jnp.einsum("kic,kjc->ij", features, features) / (16 * 512)
    exact = kernel_fn(x, None, "nngp", mask_constant=constant)
    assert rel_frobenius(empirical, exact) < 0.04
    zeros = np.where(np.isnan(x) | (x == constant), 0.0, x)
    assert rel_frobenius(empirical, kernel_fn(zeros, None, "nngp")) > 0.12


def test_padding_a_sequence_does_not_change_its_kernel():
    """Positions that do not mix (width-1 windows) then global average pooling over the
    unmasked ones: a sequence padded with masked positions has the kernel of the unpadded
    sequence, against itself and against a sequence padded differently."""
    net = stax.serial(stax.Conv(8, (1,), W_std=1.4, b_std=0.3), stax.Relu(),
                      stax.Dense(8, W_std=1.4, b_std=0.3), stax.Erf(), stax.GlobalAvgPool(),
                      stax.Dense(1))
    rng = np.random.default_rng(1)
    short = rng.standard_normal((3, 6, 2))
    other = rng.standard_normal((2, 6, 2))
    padded = np.concatenate([short, np.full((3, 4, 2), -9.0)], axis=1)
    other_padded = np.concatenate([np.full((2, 2, 2), -9.0), other, np.full((2, 2, 2), -9.0)],
                                  axis=1)
    masked = net[2](padded, other_padded, ("nngp", "ntk"), mask_constant=-9.0)
    plain = net[2](short, other, ("nngp", "ntk"))
    np.testing.assert_allclose(masked.nngp, plain.nngp, rtol=1e-12)
    np.testing.assert_allclose(masked.ntk, plain.ntk, rtol=1e-12)
    unmasked = net[2](padded, other_padded, "nngp")  # the padding counted as data differs
    assert rel_frobenius(unmasked, plain.nngp) > 0.1


def test_masks_pass_jit_and_batch_and_the_kernel_carries_the_output_masks():
    rng = np.random.default_rng(2)
    x1 = rng.standard_normal((5, 6, 2))
    x2 = rng.standard_normal((3, 6, 2))
    x1[1, 2:] = 7.0
    x1[4] = 7.0
    x2[0, :3] = 7.0
    net = stax.serial(stax.Conv(4, (3,), padding="SAME"), stax.Relu(), stax.GlobalAvgPool(),
                      stax.Dense(1))
    kernel_fn = net[2]
    k = kernel_fn(x1, x2, None, mask_constant=7.0)
    jitted = jax.jit(kernel_fn, static_argnames="get")(x1, x2, get="ntk", mask_constant=7.0)
    np.testing.assert_allclose(jitted, k.ntk, rtol=1e-12)
    batched = engine.batch(kernel_fn, 2)(x1, x2, ("nngp", "ntk"), mask_constant=7.0)
    np.testing.assert_allclose(batched.nngp, k.nngp, rtol=1e-12)
    np.testing.assert_allclose(batched.ntk, k.ntk, rtol=1e-12)
    for second in (x2, None):  # the whole Kernel from tiles carries the masks too
        whole = engine.batch(kernel_fn, 2)(x1, second, None, mask_constant=7.0)
        alone = kernel_fn(x1, second, None, mask_constant=7.0)
        for name in ("nngp", "ntk", "cov1", "cov2", "mask1", "mask2"):
            np.testing.assert_allclose(getattr(whole, name), getattr(alone, name), rtol=1e-12)
    # the output masks: x1[4] is masked everywhere, so its pooled output is masked and its
    # covariances (zeroed by the Dense that follows) are zero
    assert k.mask1.shape == (5, 1) and k.mask2.shape == (3, 1)
    assert k.mask1[:, 0].tolist() == [False, False, False, False, True]
    assert not k.mask2.any()
    assert np.all(k.nngp[4] == 0) and np.all(k.ntk[4] == 0)
    # a traced constant is accepted
    traced = jax.jit(lambda c: kernel_fn(x1, x2, "nngp", mask_constant=c))(7.0)
    np.testing.assert_allclose(traced, k.nngp, rtol=1e-12)


def test_a_custom_layer_with_supports_masking_gets_the_masks():
    """A user's layer: apply_fn receives ``mask=``, its mask_fn sets the output's mask, and
    kernel_fn reads k.mask1/k.mask2 (here: a masked mean over positions, as GlobalAvgPool)."""
    seen = {}

    @stax.layer
    @stax.supports_masking(remask_kernel=False)
    def MaskedMean():
        def init_fn(key, input_shape):
            return (input_shape[0], input_shape[-1]), ()

        def apply_fn(params, x, mask=None, **kwargs):
            seen["apply_mask"] = mask
            keep = jnp.ones(x.shape, bool) if mask is None else ~jnp.broadcast_to(mask, x.shape)
            return jnp.sum(x * keep, axis=1) / jnp.maximum(jnp.sum(keep, axis=1), 1)

        @stax.requires(diagonal_spatial=stax.Diagonal(input=stax.Bool.NO))
        def kernel_fn(k, **kwargs):
            seen["kernel_masks"] = (k.mask1, k.mask2)
            if k.mask1 is None:
                n1, n2, p = k.nngp.shape[0], k.nngp.shape[1], k.nngp.shape[2]
                m1, m2 = jnp.ones((n1, p), bool), jnp.ones((n2, p), bool)
            else:
                m1, m2 = ~k.mask1[:, :, 0], ~k.mask2[:, :, 0]
            w12 = m1[:, None, :, None] & m2[None, :, None, :]

            def mean(a, w):
                return jnp.sum(a * w, axis=(-2, -1)) / jnp.maximum(jnp.sum(w, axis=(-2, -1)), 1)
            w11 = m1[:, :, None] & m1[:, None, :]
            w22 = m2[:, :, None] & m2[:, None, :]
            return k.replace(nngp=mean(k.nngp, w12), ntk=mean(k.ntk, w12),
                             cov1=mean(k.cov1, w11), cov2=mean(k.cov2, w22))

        def mask_fn(mask, input_shape):
            return jnp.all(mask, axis=1)
        return init_fn, apply_fn, kernel_fn, mask_fn

    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 5, 2))
    x[0, 3:] = 5.0
    x[2] = 5.0
    ours = stax.serial(stax.Conv(4, (2,), padding="SAME"), stax.Relu(), MaskedMean(),
                       stax.Dense(1))
    builtin = stax.serial(stax.Conv(4, (2,), padding="SAME"), stax.Relu(), stax.GlobalAvgPool(),
                          stax.Dense(1))
    a = ours[2](x, None, ("nngp", "ntk"), mask_constant=5.0)
    b = builtin[2](x, None, ("nngp", "ntk"), mask_constant=5.0)
    np.testing.assert_allclose(a.nngp, b.nngp, rtol=1e-12)
    np.testing.assert_allclose(a.ntk, b.ntk, rtol=1e-12)
    assert seen["kernel_masks"][0].shape == (3, 5, 1)
    _, params = ours[0](jax.random.PRNGKey(0), x.shape)
    out = ours[1](params, x, mask_constant=5.0)
    assert seen["apply_mask"].shape == (3, 5, 1)
    assert out.mask[:, 0].tolist() == [False, False, True]
    np.testing.assert_allclose(out.masked_value, builtin[1](params, x, mask_constant=5.0)
                               .masked_value, rtol=1e-12)
    # without masks the same layer gets mask=None and sees no masks in its kernel
    ours[2](x, None, "nngp")
    assert seen["kernel_masks"] == (None, None)
    ours[1](params, x)
    assert seen["apply_mask"] is None


def test_refusals_name_the_layer_and_the_argument():
    x = np.ones((2, 5, 3))
    x[0, 3:] = 0.0

    @stax.layer
    def Plain():
        return (lambda key, s: (s, ()), lambda p, x, **kw: 2 * x,
                lambda k, **kw: k * 2.0)
    net = stax.serial(stax.Conv(3, (2,)), Plain(), stax.GlobalAvgPool(), stax.Dense(1))
    with pytest.raises(ValueError, match=r"layer 1 \(Plain\): does not take masked inputs "
                                         r"\(mask_constant=\.\.\.\)"):
        net[2](x, None, "nngp", mask_constant=0.0)
    _, params = net[0](jax.random.PRNGKey(0), x.shape)
    with pytest.raises(ValueError, match=r"layer 1 \(Plain\): does not take masked inputs"):
        net[1](params, x, mask_constant=0.0)
    # without masking the same network runs (and None is neural-tangents' default)
    np.testing.assert_array_equal(net[2](x, None, "nngp", mask_constant=None),
                                  net[2](x, None, "nngp"))
    dense = stax.serial(stax.Dense(3), stax.Relu(), stax.Dense(1))
    with pytest.raises(ValueError, match=r"kernel_fn\(mask_constant='0'\): mask_constant must "
                                         r"be None or one real number \(NaN allowed\)"):
        dense[2](np.ones((2, 4)), None, "nngp", mask_constant="0")
    with pytest.raises(ValueError, match=r"apply_fn\(mask_constant=True\): mask_constant must "
                                         r"be None or one real number"):
        dense[1](dense[0](jax.random.PRNGKey(0), (2, 4))[1], np.ones((2, 4)), mask_constant=True)
    k = dense[2](np.ones((2, 4)), None)
    with pytest.raises(ValueError, match=r"kernel_fn\(kernel, mask_constant=\.\.\.\): a Kernel "
                                         r"carries its masks"):
        dense[2](k, mask_constant=0.0)
    nchw = stax.serial(stax.Conv(3, (2, 2), dimension_numbers=("NCHW", "OIHW", "NCHW")),
                       stax.Relu(), stax.GlobalAvgPool(channel_axis=1), stax.Dense(1))
    xi = np.ones((2, 3, 4, 4))
    _, params = nchw[0](jax.random.PRNGKey(0), xi.shape)
    with pytest.raises(ValueError, match=r"apply_fn\(mask_constant=\.\.\.\): masking needs "
                                         r"inputs laid out as \(batch, spatial\.\.\., channels\)"):
        nchw[1](params, xi, mask_constant=0.0)
    assert np.isfinite(nchw[2](xi, None, "nngp", mask_constant=0.0)).all()


def test_the_imdb_example_runs_with_masks_through_batch_and_predict():
    """neural-tangents' examples/imdb.py as its users write it (dummy data: padded sentences,
    60 % of the entries masked), with only the import changed: a batched kernel_fn into
    gradient_descent_mse_ensemble with mask_constant, whose predictions equal the ones from
    the masked kernels computed directly (and differ from unmasked ones)."""
    mask_constant = 100.0

    def get_x(shape, key):
        key_x, key_mask = jax.random.split(key)
        x = jax.random.normal(key_x, shape)
        return jnp.where(jax.random.bernoulli(key_mask, 0.6, shape), mask_constant, x)

    x_train = get_x((6, 10, 3), jax.random.PRNGKey(1))
    x_test = get_x((6, 10, 3), jax.random.PRNGKey(2))
    y_train = jnp.where(jnp.sum(jnp.where(x_train == mask_constant, 0, x_train), (1, 2)) > 0,
                        0.5, -0.5)[:, None]
    _, _, kernel_fn = stax.serial(
        stax.Conv(out_chan=1, filter_shape=(3,), strides=(1,), padding="VALID"), stax.Relu(),
        stax.GlobalSelfAttention(n_chan_out=1, n_chan_key=1, n_chan_val=1, pos_emb_type="SUM",
                                 W_pos_emb_std=1.0, pos_emb_decay_fn=lambda d: 1 / (1 + d ** 2),
                                 n_heads=1),
        stax.Relu(), stax.GlobalAvgPool(), stax.Dense(out_dim=1))
    batched = engine.batch(kernel_fn, batch_size=2)
    predict = engine.predict.gradient_descent_mse_ensemble(
        kernel_fn=batched, x_train=x_train, y_train=y_train, diag_reg=1e-6,
        mask_constant=mask_constant)
    fx_nngp, fx_ntk = predict(x_test=x_test, get=("nngp", "ntk"))
    assert fx_nngp.shape == fx_ntk.shape == (6, 1)

    direct = engine.predict.gp_inference(
        kernel_fn(x_train, None, ("nngp", "ntk"), mask_constant=mask_constant), y_train,
        diag_reg=1e-6)
    k_test_train = kernel_fn(x_test, x_train, ("nngp", "ntk"), mask_constant=mask_constant)
    expected = direct(get=("nngp", "ntk"), k_test_train=k_test_train)
    np.testing.assert_allclose(fx_nngp, expected.nngp, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(fx_ntk, expected.ntk, rtol=1e-8, atol=1e-10)
    zeros = engine.predict.gradient_descent_mse_ensemble(
        kernel_fn=batched, x_train=jnp.where(x_train == mask_constant, 0, x_train),
        y_train=y_train, diag_reg=1e-6)(x_test=jnp.where(x_test == mask_constant, 0, x_test),
                                        get="ntk")
    assert np.abs(np.asarray(zeros) - np.asarray(fx_ntk)).max() > 1e-3


def test_empirical_and_monte_carlo_kernels_pass_mask_constant_to_apply_fn():
    """As in neural-tangents' own tests: monte_carlo_kernel_fn / empirical kernels of
    unmask_fn(apply_fn) take mask_constant as an apply_fn keyword."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 6, 2))
    x[0, 4:], x[2, 1] = -1.0, -1.0
    init_fn, apply_fn, _ = stax.serial(stax.Conv(16, (3,), padding="SAME"), stax.Relu(),
                                       stax.GlobalAvgPool(), stax.Dense(1))
    unmasked_apply = stax.unmask_fn(apply_fn)

    def fixed(params, inputs, **kwargs):
        return unmasked_apply(params, inputs, mask_constant=-1.0, **kwargs)
    key = jax.random.PRNGKey(1)
    a = engine.monte_carlo_kernel_fn(init_fn, unmasked_apply, key, 8)(x, None, "nngp",
                                                                     mask_constant=-1.0)
    b = engine.monte_carlo_kernel_fn(init_fn, fixed, key, 8)(x, None, "nngp")
    np.testing.assert_allclose(a, b, rtol=1e-12)
    plain = engine.monte_carlo_kernel_fn(init_fn, unmasked_apply, key, 8)(x, None, "nngp")
    assert np.abs(np.asarray(plain) - np.asarray(a)).max() > 1e-3
    _, params = init_fn(key, x.shape)
    ntk = engine.empirical_ntk_fn(unmasked_apply, vmap_axes=0)(x, None, params,
                                                               mask_constant=-1.0)
    np.testing.assert_allclose(ntk, engine.empirical_ntk_fn(fixed)(x, None, params),
                               rtol=1e-10)


def test_a_channel_first_network_masks_as_the_channel_last_one():
    """kernel_fn masks in any layout: Dense, Index and global pooling given channel_axis=1
    give the kernel of the channel-last network on the transposed inputs."""
    x = np.random.default_rng(5).standard_normal((2, 3, 5, 4))
    x[0, :, 3:] = 9.0
    last = stax.serial(stax.Dense(3), stax.Relu(), stax.Index((slice(None), slice(1, 4))),
                       stax.GlobalAvgPool(), stax.Dense(1))
    first = stax.serial(stax.Dense(3, channel_axis=1), stax.Relu(),
                        stax.Index((slice(None), slice(None), slice(1, 4)), channel_axis=1),
                        stax.GlobalAvgPool(channel_axis=1), stax.Dense(1))
    a = last[2](x, None, ("nngp", "ntk"), mask_constant=9.0)
    b = first[2](np.transpose(x, (0, 3, 1, 2)), None, ("nngp", "ntk"), mask_constant=9.0)
    np.testing.assert_allclose(b.nngp, a.nngp, rtol=1e-12)
    np.testing.assert_allclose(b.ntk, a.ntk, rtol=1e-12)
    assert rel_frobenius(a.nngp, last[2](np.where(x == 9.0, 0.0, x), None, "nngp")) > 0.05
