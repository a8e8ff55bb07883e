"""Conv, AvgPool, GlobalAvgPool, Flatten, LayerNorm: rules, finite layers, layouts, errors."""
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import engine
from engine import stax
from engine.kernel import input_kernel
from engine.layers.layer import Layer

W, B = 1.3, 0.2


def conv(out_chan=4, filter_shape=(3, 3), **kwargs):
    return ["Conv", {"out_chan": out_chan, "filter_shape": filter_shape, "W_std": W,
                     "b_std": B, **kwargs}]


def close(actual, expected):
    """Equal to 1e-12 relative to the largest entry (cancellation makes small entries noisy)."""
    expected = np.asarray(expected)
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def images(n, shape, seed=0):
    return np.random.default_rng(seed).standard_normal((n,) + shape)


# ---------------------------------------------------------------- reference rules (loops)

def _pads(size, window, stride, padding):
    """JAX's SAME rule written out: out = ceil(size / stride), the excess split low-first."""
    if padding == "VALID":
        return 0, 0
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2


def _pad_pair(k, lo, hi, padding):
    mode = "wrap" if padding == "CIRCULAR" else "constant"
    return np.pad(k, [(0, 0)] * (k.ndim - 2) + [(lo, hi)] * 2, mode=mode)


def ref_conv_axis(k, f, s, padding):
    """conv on the last pair of axes: (1/f) sum_a K[p s + a, q s + a]."""
    lo, hi = _pads(k.shape[-1], f, s, padding)
    kp = _pad_pair(k, lo, hi, padding)
    out = (kp.shape[-1] - f) // s + 1
    res = np.zeros(k.shape[:-2] + (out, out))
    for p, q, a in itertools.product(range(out), range(out), range(f)):
        res[..., p, q] += kp[..., p * s + a, q * s + a] / f
    return res


def ref_pool_axis(k, w, s, padding):
    """AvgPool on the last pair of axes: sum_{a, b} K[p s + a, q s + b] / w^2."""
    lo, hi = _pads(k.shape[-1], w, s, padding)
    kp = _pad_pair(k, lo, hi, padding)
    out = (kp.shape[-1] - w) // s + 1
    res = np.zeros(k.shape[:-2] + (out, out))
    for p, q, a, b in itertools.product(range(out), range(out), range(w), range(w)):
        res[..., p, q] += kp[..., p * s + a, q * s + b] / w ** 2
    return res


def ref_separable(k, rule, windows, strides, padding):
    """Apply a per-axis rule to every (h1, h2) pair of the (N1, N2, H1, H2, W1, W2) layout."""
    spatial = len(windows)
    for d in range(spatial):
        axes = (2 + 2 * d, 3 + 2 * d)
        k = np.moveaxis(rule(np.moveaxis(k, axes, (-2, -1)), windows[d], strides[d], padding),
                        (-2, -1), axes)
    return k


def ref_input(x1, x2):
    spatial = x1.ndim - 2
    p1, p2 = "hw"[:spatial], "ij"[:spatial]
    pairs = "".join(a + b for a, b in zip(p1, p2))
    return np.einsum(f"a{p1}c,b{p2}c->ab{pairs}", x1, x2) / x1.shape[-1]


# ---------------------------------------------------------------- kernel rules

CONV_GEOMETRIES = [((3,), (1,), "VALID"), ((3,), (2,), "SAME"), ((2,), (1,), "SAME"),
                   ((3,), (2,), "CIRCULAR"), ((3, 2), (1, 2), "SAME"), ((2, 3), (2, 1), "VALID"),
                   ((3, 3), (1, 1), "CIRCULAR"), ((4, 2), (3, 1), "SAME")]


@pytest.mark.parametrize("filter_shape,strides,padding", CONV_GEOMETRIES)
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_conv_kernel_matches_reference_rule(filter_shape, strides, padding, parameterization):
    shape = (7, 3) if len(filter_shape) == 1 else (7, 6, 3)
    x1, x2 = images(3, shape, 1), images(2, shape, 2)
    spec = [conv(5, filter_shape, strides=strides, padding=padding,
                 parameterization=parameterization)]
    k = engine.build(spec).kernel_fn(x1, x2)
    conv_k0 = ref_separable(ref_input(x1, x2), ref_conv_axis, filter_shape, strides, padding)
    close(k.nngp, W ** 2 * conv_k0 + B ** 2)
    fan_in = 3 * np.prod(filter_shape)
    expected_ntk = k.nngp if parameterization == "ntk" else fan_in * conv_k0 + 1.0
    close(k.ntk, expected_ntk)


@pytest.mark.parametrize("window,strides,padding", [
    ((2, 2), None, "VALID"), ((3, 2), (2, 1), "SAME"), ((2, 3), (1, 2), "CIRCULAR"),
    ((3,), (2,), "SAME")])
def test_avgpool_kernel_matches_reference_rule(window, strides, padding):
    shape = (6, 3) if len(window) == 1 else (6, 5, 3)
    x1, x2 = images(3, shape, 3), images(2, shape, 4)
    spec = [conv(5, (1,) * len(window)), ["AvgPool", {"window_shape": window,
                                                      "strides": strides, "padding": padding}]]
    k = engine.build(spec).kernel_fn(x1, x2)
    pooled = ref_separable(W ** 2 * ref_input(x1, x2) + B ** 2, ref_pool_axis, window,
                           strides or (1,) * len(window), padding)
    close(k.nngp, pooled)
    close(k.ntk, pooled)


CNN = [conv(padding="SAME"), ["Relu", {}], conv(filter_shape=(2, 2), strides=(2, 1)),
       ["Erf", {}], conv(padding="CIRCULAR")]


def test_global_avg_pool_and_flatten_average_the_spatial_kernel():
    x1, x2 = images(3, (6, 5, 2)), images(2, (6, 5, 2), 1)
    full = engine.build(CNN).kernel_fn(x1, x2)
    gap = engine.build(CNN + [["GlobalAvgPool", {}]]).kernel_fn(x1, x2)
    flat = engine.build(CNN + [["Flatten", {}]]).kernel_fn(x1, x2)
    for name in ("nngp", "ntk"):
        k = getattr(full, name)
        close(getattr(gap, name), k.mean(axis=(2, 3, 4, 5)))
        diagonal = np.einsum("abhhww->ab", k) / (k.shape[2] * k.shape[4])
        close(getattr(flat, name), diagonal)


def test_full_avg_pool_then_flatten_is_global_avg_pool():
    x = images(4, (4, 3, 2))
    pooled = engine.build(CNN[:2] + [["AvgPool", {"window_shape": (4, 3)}], ["Flatten", {}]])
    gap = engine.build(CNN[:2] + [["GlobalAvgPool", {}]])
    close(pooled.kernel_fn(x).nngp, gap.kernel_fn(x).nngp)


def test_one_by_one_conv_is_dense_per_position():
    x = images(3, (4, 5, 2))
    as_conv = engine.build([conv(3, (1, 1)), ["Relu", {}], conv(3, (1, 1))]).kernel_fn(x)
    dense = [["Dense", {"out_dim": 3, "W_std": W, "b_std": B}], ["Relu", {}],
             ["Dense", {"out_dim": 3, "W_std": W, "b_std": B}]]
    as_dense = engine.build(dense).kernel_fn(x)
    close(as_conv.nngp, as_dense.nngp)
    close(as_conv.ntk, as_dense.ntk)


def test_circular_conv_is_translation_equivariant():
    x1, x2 = images(2, (7, 3)), images(3, (7, 3), 1)
    spec = [conv(2, (3,), padding="CIRCULAR"), ["Relu", {}], conv(2, (2,), padding="CIRCULAR")]
    kernel_fn = engine.build(spec).kernel_fn
    k = kernel_fn(x1, x2).ntk
    shifted = kernel_fn(np.roll(x1, 2, axis=1), np.roll(x2, 2, axis=1)).ntk
    close(shifted, np.roll(k, (2, 2), axis=(2, 3)))


@pytest.mark.parametrize("tail", [[["Flatten", {}]],
                                  [["LayerNorm", {}], ["Relu", {}], ["Flatten", {}]]])
def test_diagonal_and_full_layouts_agree(tail):
    """The diagonal layout (chosen for Conv + Flatten nets) loses nothing they need."""
    layer = engine.build(CNN + tail + [["Dense", {"out_dim": 1}]]).layer
    x1, x2 = jnp.asarray(images(3, (6, 5, 2))), jnp.asarray(images(2, (6, 5, 2), 1))
    run = jax.jit(lambda a, b, diagonal: layer.kernel(input_kernel(a, b, diagonal)),
                  static_argnums=2)
    diag, full = run(x1, x2, True), run(x1, x2, False)
    for name in ("nngp", "ntk", "cov1", "cov2"):
        close(getattr(diag, name), getattr(full, name))


def test_layernorm_kernel_has_unit_variances_and_keeps_gaussianity():
    x = images(5, (4,))
    net = engine.build([["Dense", {"out_dim": 8, "W_std": W, "b_std": B}], ["LayerNorm", {}]])
    k = net.kernel_fn(x)
    np.testing.assert_allclose(np.diag(k.nngp), 1.0, rtol=1e-10)
    assert net.output_shape((4,)).is_gaussian
    images_net = engine.build([conv(padding="SAME"), ["LayerNorm", {"axis": 3}], ["Relu", {}]])
    spatial = images_net.kernel_fn(images(2, (3, 4, 2))).nngp
    assert spatial.shape == (2, 2, 3, 3, 4, 4)


def test_flatten_output_is_not_gaussian():
    with pytest.raises(ValueError, match=r"layer 2 \(Relu\): its input must be Gaussian"):
        engine.build([conv(), ["Flatten", {}], ["Relu", {}]]).kernel_fn(images(2, (4, 4, 2)))


# ---------------------------------------------------------------- finite layers

@pytest.mark.parametrize("filter_shape,strides,padding", CONV_GEOMETRIES)
def test_conv_apply_is_a_lax_convolution(filter_shape, strides, padding):
    shape = (7, 3) if len(filter_shape) == 1 else (7, 6, 3)
    x = jnp.asarray(images(2, shape))
    init_fn, apply_fn, _ = stax.Conv(4, filter_shape, strides, padding, W_std=W, b_std=B)
    out_shape, params = init_fn(jax.random.PRNGKey(0), x.shape)
    lhs = x
    if padding == "CIRCULAR":
        pads = lax.padtype_to_pads(shape[:-1], filter_shape, strides, "SAME")
        lhs = jnp.pad(x, [(0, 0)] + list(pads) + [(0, 0)], mode="wrap")
    spec = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}[len(filter_shape)]
    weights, bias = params  # neural-tangents' layout: (W in HWIO, b of shape (1, ..., out))
    expected = lax.conv_general_dilated(lhs, weights, strides,
                                        "VALID" if padding == "CIRCULAR" else padding,
                                        dimension_numbers=spec)
    expected = W / np.sqrt(3 * np.prod(filter_shape)) * expected + B * bias
    y = apply_fn(params, x)
    assert y.shape == out_shape
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_pool_and_flatten_apply():
    x = jnp.asarray(images(2, (5, 4, 3)))
    _, avg, _ = stax.AvgPool((2, 3), strides=(2, 1), padding="SAME")
    y = avg((), x)  # SAME pads rows (0, 1) and columns (1, 1); zeros count in the mean
    padded = np.pad(np.asarray(x), [(0, 0), (0, 1), (1, 1), (0, 0)])
    expected = np.stack([np.stack([padded[:, 2 * p:2 * p + 2, q:q + 3].mean(axis=(1, 2))
                                   for q in range(4)], axis=1) for p in range(3)], axis=1)
    close(y, expected)
    np.testing.assert_allclose(stax.GlobalAvgPool().apply_fn((), x), x.mean(axis=(1, 2)))
    assert stax.Flatten().apply_fn((), x).shape == (2, 60)
    normed = stax.LayerNorm().apply_fn((), x)
    np.testing.assert_allclose(normed.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(normed.var(axis=-1), 1.0, rtol=1e-9)


def test_output_shapes():
    net = engine.build([conv(6, (3, 3), strides=(2, 2), padding="SAME"), ["Relu", {}],
                        ["AvgPool", {"window_shape": (2, 2)}], conv(5, (2, 1)),
                        ["Flatten", {}], ["Dense", {"out_dim": 2}]])
    out_shape, params = net.init_fn(jax.random.PRNGKey(0), (3, 9, 8, 2))
    assert out_shape == (3, 2)
    assert net.output_shape((9, 8, 2)).dims == (2,)
    assert engine.build([conv(7, (3,), strides=(2,)), ["GlobalAvgPool", {}]]).output_shape(
        (9, 2)).dims == (7,)


# ---------------------------------------------------------------- layouts, memory, tiling

def _probe(seen):
    """An identity layer that records the kernel layout it is traced with."""
    def kernel(k):
        seen.append((k.diagonal, k.nngp.shape))
        return k
    return Layer(key=("Probe", id(seen)), shape=lambda s: s, kernel=kernel,
                 apply=lambda params, x: x)


def test_cnn_flatten_uses_the_diagonal_layout_at_scale():
    """N=64 images of 32x32x3: the full layout would need 64^2 * 32^4 * 8 bytes = 34 GB."""
    seen = []
    layers = [engine.build([conv(8, padding="SAME"), ["Relu", {}], conv(8, padding="SAME"),
                            ["Relu", {}]]).layer, _probe(seen),
              engine.build([["Flatten", {}], ["Dense", {"out_dim": 1}]]).layer]
    net = stax.serial(*layers)
    k = net.kernel_fn(images(64, (32, 32, 3)), get="ntk")
    assert k.shape == (64, 64) and np.isfinite(k).all()
    assert seen and all(diagonal and shape[1:] == (64, 32, 32) for diagonal, shape in seen)


@pytest.mark.parametrize("spec", [
    CNN[:3] + [["Flatten", {}], ["Dense", {"out_dim": 1}]],
    CNN[:3] + [["GlobalAvgPool", {}], ["Dense", {"out_dim": 1}]],
    CNN[:3]])
def test_tiled_and_untiled_kernels_agree(spec):
    """To rounding: XLA's reductions and vectorised math round differently for different array
    shapes (a flat Dense-Relu-Dense kernel differs in the last bit too), so not bitwise."""
    x1, x2 = images(19, (5, 4, 2)), images(13, (5, 4, 2), 1)
    kernel_fn = engine.build(spec).kernel_fn
    for a, b in ((x1, None), (x1, x2)):
        whole, tiled = kernel_fn(a, b), engine.batch(kernel_fn, 6)(a, b)
        for name in ("nngp", "ntk"):
            np.testing.assert_allclose(getattr(tiled, name), getattr(whole, name), rtol=0,
                                       atol=1e-14 * np.abs(getattr(whole, name)).max())


# ---------------------------------------------------------------- errors

CONV = dict(out_chan=2, filter_shape=(3,))


@pytest.mark.parametrize("constructor,kwargs,message", [
    (stax.Conv, dict(out_chan=0, filter_shape=(3,)),
     r"Conv\(out_chan=0\): out_chan must be a positive integer"),
    (stax.Conv, dict(out_chan=2, filter_shape=(3, 0)),
     r"Conv\(filter_shape=\(3, 0\)\): filter_shape must be a tuple of 1 or 2 positive integers"),
    (stax.Conv, dict(CONV, filter_shape=(3, 3, 3)), r"filter_shape must be a tuple of 1 or 2"),
    (stax.Conv, dict(out_chan=2, filter_shape=3),
     r"Conv\(filter_shape=3\): filter_shape must be a tuple"),
    (stax.Conv, dict(CONV, strides=(0,)),
     r"Conv\(strides=\(0,\)\): strides must be a tuple of 1 or 2 positive"),
    (stax.Conv, dict(CONV, filter_shape=(3, 3), strides=(2,)),
     r"Conv\(strides=\(2,\)\): strides must have one entry per axis of filter_shape=\(3, 3\)"),
    (stax.Conv, dict(CONV, padding="FULL"),
     r"Conv\(padding='FULL'\): expected one of \['VALID', 'SAME', 'CIRCULAR'\]"),
    (stax.Conv, dict(CONV, W_std=-1.0), r"Conv\(W_std=-1.0\): W_std must be non-negative"),
    (stax.Conv, dict(CONV, b_std=-0.1), r"Conv\(b_std=-0.1\): b_std must be non-negative"),
    (stax.Conv, dict(CONV, parameterization="mup"),
     r"Conv\(parameterization='mup'\): expected one of"),
    (stax.AvgPool, dict(window_shape=(0, 2)),
     r"AvgPool\(window_shape=\(0, 2\)\): window_shape must be a tuple"),
    (stax.AvgPool, dict(window_shape=(2, 2), strides=(1, -1)),
     r"AvgPool\(strides=\(1, -1\)\): strides must be"),
    (stax.AvgPool, dict(window_shape=(2,), padding=None),
     r"AvgPool\(padding=None\): expected one of"),
    (stax.LayerNorm, dict(axis="channels"),
     r"LayerNorm\(axis='channels'\): axis must be an integer or a tuple"),
    (stax.LayerNorm, dict(eps=-1e-3), r"LayerNorm\(eps=-0.001\): eps must be non-negative"),
])
def test_constructor_errors(constructor, kwargs, message):
    with pytest.raises(ValueError, match=message):
        constructor(**kwargs)


@pytest.mark.parametrize("spec,shape,message", [
    ([conv()], (5,), r"layer 0 \(Conv\): needs inputs with 1 or 2 spatial axes \(NWC or NHWC\); "
                     r"got inputs of shape \('N', 5\)"),
    ([["Dense", {"out_dim": 3}], ["Flatten", {}]], (5,),
     r"layer 1 \(Flatten\): needs inputs with 1 or 2 spatial axes"),
    ([["GlobalAvgPool", {}]], (5,), r"layer 0 \(GlobalAvgPool\): needs inputs with 1 or 2 spatial"),
    ([["AvgPool", {"window_shape": (2,)}]], (5,),
     r"layer 0 \(AvgPool\): needs inputs with 1 or 2 spatial axes"),
    ([conv(filter_shape=(5, 5))], (4, 6, 2),
     r"layer 0 \(Conv\): filter_shape \(5, 5\) is larger than the input's spatial size \(4, 6\) "
     r"with padding='VALID'; use padding='SAME' or a smaller filter_shape"),
    ([conv(filter_shape=(3,))], (6, 6, 2),
     r"layer 0 \(Conv\): filter_shape \(3,\) has one entry per spatial axis, but inputs of "
     r"shape \('N', 6, 6, 2\) have 2"),
    ([conv(filter_shape=(3, 3)), conv(filter_shape=(3, 3))], (4, 4, 2),
     r"layer 1 \(Conv\): filter_shape \(3, 3\) is larger"),
    ([["AvgPool", {"window_shape": (3, 3)}]], (2, 6, 2),
     r"AvgPool\): window_shape \(3, 3\) is larger than the input's spatial size \(2, 6\)"),
    ([["AvgPool", {"window_shape": (3, 3)}]], (6, 2),
     r"window_shape \(3, 3\) has one entry per spatial axis, but inputs of shape \('N', 6, 2\)"),
    ([["LayerNorm", {"axis": (1, 2)}]], (4, 4, 2),
     r"LayerNorm\(axis=\(1, 2\)\): only the channel axis \(-1, or 3 for inputs of shape "
     r"\('N', 4, 4, 2\)\) can be normalised"),
    ([["LayerNorm", {"axis": 5}]], (4,), r"LayerNorm\(axis=5\): only the channel axis"),
    ([["FanOut", {"num": 2}], conv()], (4, 4, 2),
     r"layer 1 \(Conv\): receives 2 parallel branches"),
])
def test_shape_errors_before_any_computation(spec, shape, message):
    net = engine.build(spec)
    with pytest.raises(ValueError, match=message):
        net.output_shape(shape)
    with pytest.raises(ValueError, match=message):
        net.kernel_fn(images(2, shape))


def test_spec_errors_name_the_position():
    with pytest.raises(ValueError, match=r"layer 1 \(Conv\): Conv\(padding='same '\): expected"):
        engine.build([["Dense", {"out_dim": 2}], ["Conv", {"out_chan": 2, "filter_shape": [3],
                                                            "padding": "same "}]])


def test_pooling_kernels_refuse_the_diagonal_layout():
    k = input_kernel(jnp.asarray(images(2, (4, 4, 2))), None, diagonal=True)
    for layer in (engine.stax.GlobalAvgPool().layer, engine.stax.AvgPool((2, 2)).layer):
        with pytest.raises(ValueError, match="needs the full spatial layout"):
            layer.kernel(k)


# ---------------------------------------------------------------- SumPool, GlobalSumPool, edges

def _edge_counts(n, w, s, padding):
    lo, _ = _pads(n, w, s, padding)
    out = (n + sum(_pads(n, w, s, padding)) - w) // s + 1
    if padding != "SAME":
        return np.full(out, float(w))
    return np.array([min(p * s - lo + w, n) - max(p * s - lo, 0) for p in range(out)], float)


def ref_edge_pool_axis(k, w, s, padding):
    """AvgPool(normalize_edges=True): window sums over each window's real inputs count."""
    counts = _edge_counts(k.shape[-1], w, s, padding)
    summed = ref_pool_axis(k, w, s, padding) * w ** 2
    return summed / counts[:, None] / counts[None, :]


@pytest.mark.parametrize("window,strides,padding", [
    ((3, 2), (2, 1), "SAME"), ((2, 3), (1, 2), "CIRCULAR"), ((3,), (2,), "SAME"),
    ((2, 2), None, "VALID")])
def test_sum_pool_and_edge_normalised_avg_pool_kernels(window, strides, padding):
    shape = (6, 3) if len(window) == 1 else (6, 5, 3)
    x1, x2 = images(3, shape, 3), images(2, shape, 4)
    geometry = dict(strides=strides, padding=padding)
    first = stax.Conv(5, (1,) * len(window), W_std=W, b_std=B)
    k0 = W ** 2 * ref_input(x1, x2) + B ** 2
    strides = strides or (1,) * len(window)
    k = stax.serial(first, stax.SumPool(window, **geometry)).kernel_fn(x1, x2)
    summed = ref_separable(k0, ref_pool_axis, window, strides, padding) * np.prod(window) ** 2
    close(k.nngp, summed)
    close(k.ntk, summed)
    k = stax.serial(first, stax.AvgPool(window, normalize_edges=True, **geometry)).kernel_fn(
        x1, x2)
    close(k.nngp, ref_separable(k0, ref_edge_pool_axis, window, strides, padding))


def test_global_sum_pool_is_positions_squared_times_global_avg_pool():
    x1, x2 = images(3, (4, 3, 2)), images(2, (4, 3, 2), 1)
    first = stax.Conv(3, (2, 2), padding="SAME", W_std=W, b_std=B)
    total = stax.serial(first, stax.Relu(), stax.GlobalSumPool()).kernel_fn(x1, x2)
    mean = stax.serial(first, stax.Relu(), stax.GlobalAvgPool()).kernel_fn(x1, x2)
    close(total.nngp, 144 * mean.nngp)
    close(total.ntk, 144 * mean.ntk)


def test_sum_pool_and_edge_normalised_apply():
    x = jnp.asarray(images(2, (5, 4, 3)))
    padded = np.pad(np.asarray(x), [(0, 0), (0, 1), (1, 1), (0, 0)])
    ones = np.pad(np.ones((5, 4)), [(0, 1), (1, 1)])
    sums = np.stack([np.stack([padded[:, 2 * p:2 * p + 2, q:q + 3].sum(axis=(1, 2))
                               for q in range(4)], axis=1) for p in range(3)], axis=1)
    counts = np.array([[ones[2 * p:2 * p + 2, q:q + 3].sum() for q in range(4)]
                       for p in range(3)])
    close(stax.SumPool((2, 3), strides=(2, 1), padding="SAME").apply_fn((), x), sums)
    close(stax.AvgPool((2, 3), strides=(2, 1), padding="SAME", normalize_edges=True)
          .apply_fn((), x), sums / counts[None, :, :, None])
    close(stax.GlobalSumPool().apply_fn((), x), np.asarray(x).sum(axis=(1, 2)))


def test_normalize_edges_must_be_a_flag():
    with pytest.raises(ValueError, match=r"AvgPool\(normalize_edges=1\): normalize_edges must "
                                         "be True or False"):
        stax.AvgPool((2, 2), normalize_edges=1)
