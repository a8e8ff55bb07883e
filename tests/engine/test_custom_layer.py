"""Layers written by users with @stax.layer, @stax.requires, @stax.supports_masking; Bool,
Diagonal, MaskedArray, unmask_fn.

- The program of make_nt_custom_layer_reference.py (four layers written as a
  neural-tangents user does, one kernel-only with the Kernel's arithmetic, mixed with
  built-in layers) gives neural-tangents 0.6.5's kernels
  (values in nt_custom_layer_reference.json, computed once by hand in the peer venv) to 1e-9
  relative to the largest entry (seen: below 4e-16); Diagonal's ``>>``, ``&`` and ``bool``
  equal neural-tangents' on all 81 pairs of its nine values.
- A layer that asks for covariances between positions gets them (and a network without it
  does not); the user's kernel_fn sees neural-tangents' attribute names; the finite network
  is the user's own apply_fn; kernel_fn works under jit, grad and vmap.
- Every refusal's message.
"""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine import stax
from tests.engine.make_nt_custom_layer_reference import (OUT, diagonals, network, pair,
                                                         user_layers)

Scale, MeanOverPositions, Affine, Shift = user_layers(stax)
RNG = np.random.default_rng(3)
SIGNALS = RNG.standard_normal((3, 5, 2))
FLAT = RNG.standard_normal((4, 3))


@pytest.fixture(scope="module")
def reference():
    with open(OUT) as f:
        return json.load(f)


def test_user_program_gives_neural_tangents_kernels(reference):
    kernel_fn = network(stax)[2]
    x1, x2 = np.array(reference["x1"]), np.array(reference["x2"])
    k12, k11 = kernel_fn(x1, x2, ("nngp", "ntk")), kernel_fn(x1, None, ("nngp", "ntk"))
    for got, key in ((k12.nngp, "nngp"), (k12.ntk, "ntk"), (k11.nngp, "nngp_11"),
                     (k11.ntk, "ntk_11")):
        want = np.asarray(reference[key])
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * np.abs(want).max())


def test_kernel_only_layer_and_kernel_arithmetic():
    """Shift has no finite network (apply_fn raises NotImplementedError): its output shape is
    init_fn's; k * a + c is the kernel of a x + c b with b ~ N(0, 1) untrained."""
    base = stax.serial(stax.Dense(3, 1.5, 0.1), stax.Relu())
    k = base[2](FLAT)
    shifted = stax.serial(base, Shift(0.8, 0.3))
    assert shifted[0](jax.random.PRNGKey(0), FLAT.shape)[0] == (4, 3)
    got = shifted[2](FLAT)
    for name in ("nngp", "cov1", "cov2"):
        np.testing.assert_allclose(getattr(got, name), 0.64 * getattr(k, name) + 0.09,
                                   rtol=1e-14)
    np.testing.assert_allclose(got.ntk, 0.64 * k.ntk, rtol=1e-14)
    with pytest.raises(NotImplementedError):
        shifted[1](shifted[0](jax.random.PRNGKey(0), FLAT.shape)[1], FLAT)

    @stax.layer
    def Arithmetic():
        return (lambda key, s: (s, ()), lambda params, x, **kwargs: x,
                lambda k: -(k / 2.0 - 0.5))
    got = stax.serial(base, Arithmetic())[2](FLAT)
    np.testing.assert_allclose(got.nngp, k.nngp / 4 + 0.25, rtol=1e-14)
    np.testing.assert_allclose(got.ntk, k.ntk / 4, rtol=1e-14)


def test_diagonal_algebra_is_neural_tangents(reference):
    values = diagonals(stax)
    assert [[pair(a >> b) for b in values] for a in values] == reference["diagonal_then"]
    assert [[pair(a & b) for b in values] for a in values] == reference["diagonal_and"]
    assert [bool(a) for a in values] == reference["diagonal_bool"]
    assert all((a << b) == (b >> a) for a in values for b in values)
    assert stax.Bool.MAYBE & stax.Bool.YES is stax.Bool.MAYBE


def test_a_user_layer_equals_the_built_in_one():
    """Affine is Dense (NTK parameterization): kernels bitwise equal, Gaussian output (so a
    Relu may follow), outputs the user's formula with the user's (W, b) params."""
    ours = stax.serial(Affine(6, 1.5, 0.1), stax.Relu(), Affine(1, 1.2, 0.2))
    built_in = stax.serial(stax.Dense(6, 1.5, 0.1), stax.Relu(), stax.Dense(1, 1.2, 0.2))
    k1, k2 = ours[2](FLAT, None, ("nngp", "ntk")), built_in[2](FLAT, None, ("nngp", "ntk"))
    np.testing.assert_array_equal(k1.nngp, k2.nngp)
    np.testing.assert_array_equal(k1.ntk, k2.ntk)
    shape, params = ours[0](jax.random.PRNGKey(0), FLAT.shape)
    (w1, b1), (), (w2, b2) = params
    assert shape == (4, 1) and w1.shape == (3, 6) and b2.shape == (1,)
    hidden = np.maximum(1.5 / np.sqrt(3) * FLAT @ w1 + 0.1 * b1, 0)
    np.testing.assert_allclose(ours[1](params, FLAT), 1.2 / np.sqrt(6) * hidden @ w2 + 0.2 * b2,
                               rtol=1e-12)


def test_requires_decides_whether_positions_are_paired():
    """MeanOverPositions asks for every pair of positions; the same layer without the
    requirement receives per-position variances only and takes their mean (a different,
    wrong kernel), as neural-tangents would give it."""
    @stax.layer
    def Unpaired():
        def kernel_fn(k):
            def mean(m, lead):
                return jnp.mean(m, axis=tuple(range(lead, m.ndim)))
            return k.replace(nngp=mean(k.nngp, 2), ntk=mean(k.ntk, 2), cov1=mean(k.cov1, 1),
                             cov2=mean(k.cov2, 1))
        return (lambda key, s: (s[:1] + s[-1:], ()),
                lambda params, x, **kwargs: x.mean(axis=1), kernel_fn)

    conv = stax.Conv(4, (2,), padding="SAME")
    paired = stax.serial(conv, MeanOverPositions(), stax.Dense(1))
    per_position = stax.serial(conv, Unpaired(), stax.Dense(1))
    built_in = stax.serial(conv, stax.GlobalAvgPool(), stax.Dense(1))
    assert paired.layer.needs_full_covariance and not per_position.layer.needs_full_covariance
    np.testing.assert_allclose(paired[2](SIGNALS, None, "nngp"),
                               built_in[2](SIGNALS, None, "nngp"), rtol=1e-12)
    assert not np.allclose(per_position[2](SIGNALS, None, "nngp"),
                           built_in[2](SIGNALS, None, "nngp"), rtol=1e-3)


def test_kernel_fn_sees_neural_tangents_names():
    seen = {}

    @stax.layer
    def Spy():
        def kernel_fn(k):
            seen.update(shape1=k.shape1, shape2=k.shape2, diagonal_spatial=k.diagonal_spatial,
                        diagonal_batch=k.diagonal_batch, batch_axis=k.batch_axis,
                        channel_axis=k.channel_axis, is_reversed=k.is_reversed,
                        masks=(k.mask1, k.mask2))
            return k.replace(channel_axis=k.channel_axis, diagonal_spatial=k.diagonal_spatial)
        return (lambda key, s: (s, ()), lambda params, x, **kwargs: x, kernel_fn)

    stax.serial(stax.Conv(4, (2,), padding="SAME"), Spy())[2](SIGNALS, SIGNALS[:2])
    assert seen == dict(shape1=(3, 5, 4), shape2=(2, 5, 4), diagonal_spatial=False,
                        diagonal_batch=True, batch_axis=0, channel_axis=2, is_reversed=False,
                        masks=(None, None))
    stax.serial(stax.Conv(4, (2,), padding="SAME"), Spy(), stax.Flatten())[2](SIGNALS)
    assert seen["diagonal_spatial"] is True  # a flat output from per-position variances
    stax.serial(stax.Conv(4, (2,), padding="SAME"), Spy(), MeanOverPositions())[2](SIGNALS)
    assert seen["diagonal_spatial"] is False  # a layer after it asks for pairs
    stax.serial(stax.Dense(4), Spy())[2](FLAT)
    assert seen["shape1"] == (4, 4) and seen["channel_axis"] == 1


def test_kernel_fn_under_jit_grad_vmap():
    """jit on signals through all three user layers; grad (checked against a central
    difference) and vmap on a flat network of user layers (grad through Conv and Relu
    compiles for ~10 s on a loaded machine)."""
    kernel_fn = stax.serial(stax.Conv(4, (2,), padding="SAME"), stax.Relu(), Scale(2.0),
                            MeanOverPositions(), Affine(1, 1.0, 0.1))[2]
    np.testing.assert_allclose(jax.jit(kernel_fn, static_argnames="get")(SIGNALS, None, "ntk"),
                               kernel_fn(SIGNALS, None, "ntk"), rtol=1e-12)
    kernel_fn = stax.serial(Affine(4, 1.5, 0.1), Scale(2.0), Affine(1, 1.0, 0.1))[2]
    grad = jax.grad(lambda x: kernel_fn(x, None, "nngp").sum())(FLAT)
    assert grad.shape == FLAT.shape and np.isfinite(grad).all() and np.abs(grad).max() > 0
    step = 1e-6 * np.eye(FLAT.size)[5].reshape(FLAT.shape)
    slope = (kernel_fn(FLAT + step, None, "nngp").sum()
             - kernel_fn(FLAT - step, None, "nngp").sum()) / 2e-6
    np.testing.assert_allclose(grad.reshape(-1)[5], slope, rtol=1e-6)
    rows = jax.vmap(lambda x: kernel_fn(x[None], FLAT, "ntk"))(FLAT)
    np.testing.assert_allclose(rows[:, 0], kernel_fn(FLAT, FLAT, "ntk"), rtol=1e-12)


def test_apply_fn_receives_rng_and_a_layer_function_may_return_a_network():
    keys = []

    @stax.layer
    def Noisy():
        def apply_fn(params, x, rng=None, **kwargs):
            keys.append(rng)
            return x
        return (lambda key, s: (s, ()), apply_fn, lambda k: k)

    net = stax.serial(stax.Dense(2), Noisy())
    net[1](net[0](jax.random.PRNGKey(0), FLAT.shape)[1], FLAT, rng=jax.random.PRNGKey(1))
    assert keys[-1] is not None
    net[1](net[0](jax.random.PRNGKey(0), FLAT.shape)[1], FLAT)
    assert keys[-1] is None

    @stax.layer
    def AsList():  # neural-tangents unpacks any sequence of three
        return [lambda key, s: (s, ()), lambda params, x, **kwargs: x, lambda k: k]
    assert AsList()[2](FLAT).nngp.shape == (4, 4)

    @stax.layer
    def Block(width):
        return stax.serial(stax.Dense(width), stax.Relu())
    assert Block(3).layer == stax.serial(stax.Dense(3), stax.Relu()).layer


def test_supports_masking_calls_apply_with_no_mask_and_takes_a_mask_fn():
    masks = []

    @stax.layer
    @stax.supports_masking(remask_kernel=True)
    def Masked():
        def apply_fn(params, x, mask=None, **kwargs):
            masks.append(mask)
            return 2 * x
        return (lambda key, s: (s, ()), apply_fn, lambda k: k, lambda mask, shape: mask)

    init_fn, apply_fn, _ = stax.serial(stax.Dense(2), Masked())
    np.testing.assert_allclose(apply_fn(init_fn(jax.random.PRNGKey(0), FLAT.shape)[1], FLAT),
                               2 * stax.Dense(2)[1](init_fn(jax.random.PRNGKey(0),
                                                            FLAT.shape)[1][0], FLAT))
    assert masks and all(m is None for m in masks)


def test_masked_array_and_unmask_fn():
    value = jnp.arange(6.0).reshape(2, 3)
    mask = jnp.array([[False, True, False], [True, False, False]])
    masked = stax.MaskedArray(value, mask)
    leaves = jax.tree_util.tree_leaves(masked)
    assert len(leaves) == 2  # a pytree: jit and vmap carry it
    fn = stax.unmask_fn(lambda v: {"out": stax.MaskedArray(v, mask), "plain": v,
                                   "channel_mask": stax.MaskedArray(v, mask[:, :1])})
    out = jax.jit(fn)(value)
    np.testing.assert_array_equal(out["out"], [[0, 0, 2], [0, 4, 5]])
    np.testing.assert_array_equal(out["plain"], value)
    np.testing.assert_array_equal(out["channel_mask"], [[0, 1, 2], [0, 0, 0]])
    np.testing.assert_array_equal(stax.unmask_fn(lambda: stax.MaskedArray(value, None))(), value)


def test_refused_requirements():
    for name, value, allowed in (("batch_axis", 1, "0"), ("channel_axis", 1, "-1"),
                                 ("diagonal_batch", False, "True or None")):
        with pytest.raises(ValueError, match=rf"requires\({name}={value}\): this engine "
                                             rf"supports only {name}={allowed} \(batch axis "
                                             "first, channels last"):
            stax.requires(**{name: value})
    with pytest.raises(ValueError, match=r"requires\(diagonal_spatial='no'\): expected True, "
                                         r"False or a stax.Diagonal"):
        stax.requires(diagonal_spatial="no")
    stax.requires(diagonal_spatial=False, batch_axis=0, channel_axis=-1, diagonal_batch=True,
                  use_dropout=False)


def identity_init(key, s):
    return s, ()


def identity_apply(params, x, **kwargs):
    return x


REFUSALS = {
    "two functions": (lambda: (identity_init, identity_apply),
                      r"layer\(Bad\): Bad\(\.\.\.\) must return \(init_fn, apply_fn, kernel_fn\), "
                      r"three functions; got 2 items"),
    "not a tuple": (lambda: {"init_fn": identity_init},
                    r"must return \(init_fn, apply_fn, kernel_fn\), three functions; got dict"),
    "not functions": (lambda: [identity_init, identity_apply, None],
                      r"must return \(init_fn, apply_fn, kernel_fn\), three functions; got 3 "
                      r"items"),
    "kernel not a Kernel": (lambda: (identity_init, identity_apply, lambda k: k.nngp),
                            r"layer 1 \(Bad\): kernel_fn must return the Kernel it was given, "
                            r"changed with k\.replace\(\.\.\.\); got "),
    "apply not an array": (lambda: (identity_init, lambda p, x, **kw: (x, x), lambda k: k),
                           r"layer 1 \(Bad\): apply_fn must return one array \(N, \.\.\., "
                           r"channels\); got tuple"),
    "kernel shape": (lambda: (identity_init, lambda p, x, **kw: x[:, :2], lambda k: k),
                     r"layer 1 \(Bad\): kernel_fn returned nngp of shape \(2, 3, 5, 5\) for "
                     r"inputs of shape \('N', 5, 4\); apply_fn's outputs \('N', 2, 4\) "
                     r"need \(N1, N2\) \+ \(2, 2\)"),
    "batch axis": (lambda: (identity_init, identity_apply, lambda k: k.replace(batch_axis=1)),
                   r"kernel_fn: k\.replace\(batch_axis=\.\.\.\): this engine keeps the batch "
                   r"axis first"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_refused_layers(name):
    functions, message = REFUSALS[name]

    def Bad():
        return functions()
    with pytest.raises(ValueError, match=message):
        stax.serial(stax.Conv(4, (2,), padding="SAME"), stax.layer(Bad)())[2](SIGNALS)


def test_refused_masking_arguments():
    with pytest.raises(ValueError, match=r"supports_masking\(remask_kernel='yes'\): "
                                         "remask_kernel must be True or False"):
        stax.supports_masking("yes")

    def Bad():
        return identity_init, identity_apply, lambda k: k, "mask"
    with pytest.raises(ValueError, match=r"supports_masking: Bad\(\.\.\.\)'s fourth item must "
                                         r"be mask_fn\(mask, input_shape\); got 'mask'"):
        stax.layer(stax.supports_masking(False)(Bad))()
