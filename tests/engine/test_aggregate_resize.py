"""stax.Aggregate (graph networks) and stax.ImageResize: numbers, identities and messages.

The kernels agree with neural-tangents 0.6.5 on the cases of
make_nt_aggregate_resize_reference.py (the same network code, run once in the peer venv; its
values, inputs and graphs are in nt_aggregate_resize_reference.json) to 1e-6 relative in
float64 (seen: below 1e-15). neural-tangents' ImageResize after a Conv resizes the spatial
axes in swapped order (its Conv leaves the kernel's axes reversed, Kernel.is_reversed);
there ours equals an explicit linear computation and neural-tangents' with the shape's
entries swapped. Finite networks are checked against the kernels by Monte Carlo at the end.
"""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import engine.kernel_fn
from engine import stax
from tests.engine.make_nt_aggregate_resize_reference import (
    CONV_RESIZE_SHAPE, GRAPH_CASES, OUT, RESIZE_APPLY, RESIZE_CASES, conv_resize_net,
    graph_net, node_net)
from tests.engine.monte_carlo import rel_frobenius

REFERENCE = json.load(open(OUT))
RTOL = 1e-6


def close(ours, theirs):
    theirs = np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * np.abs(theirs).max())


def graph_case(name):
    r = REFERENCE[name]
    dtype = int if GRAPH_CASES[name][1].get("implementation") == "SPARSE" else float
    return (np.asarray(r["x1"]), np.asarray(r["x2"]), np.asarray(r["p1"], dtype),
            np.asarray(r["p2"], dtype))


# ---------------------------------------------------------------- neural-tangents' numbers

#: node_net's cases (Dense, Relu, Aggregate on grids) run as kernel_fn(kernel, pattern=...) on
#: one shared Dense, Relu kernel (grid_kernels below): one compile instead of three
GRID = sorted(name for name, case in GRAPH_CASES.items() if case[0] is node_net)


@pytest.mark.parametrize("name", sorted(set(GRAPH_CASES) - set(GRID)))
def test_graph_kernels_equal_neural_tangents(name):
    make, options = GRAPH_CASES[name][:2]
    x1, x2, p1, p2 = graph_case(name)
    k = make(stax, **options)[2](x1, x2, ("nngp", "ntk"), pattern=(p1, p2))
    close(k.nngp, REFERENCE[name]["nngp"])
    close(k.ntk, REFERENCE[name]["ntk"])
    close(stax.Aggregate(**options)[1]((), x1, pattern=p1), REFERENCE[name]["apply"])


def test_graph_kernel_of_inputs_with_themselves_in_row_chunks(monkeypatch):
    """x2 omitted; kernel_fn cuts x1 into chunks of 2 rows and pattern1 with it (padded)."""
    x1, _, p1, _ = graph_case("graph_dense")
    monkeypatch.setattr(engine.kernel_fn, "CHUNK_ELEMENTS", 2 * 3 * 16)
    k = graph_net(stax)[2](x1, None, ("nngp", "ntk"), pattern=(p1, p1))
    close(k.nngp, REFERENCE["graph_dense"]["nngp_self"])
    close(k.ntk, REFERENCE["graph_dense"]["ntk_self"])


@pytest.fixture(scope="module")
def image_kernels():
    """Dense, Relu on the images of each resize case (one compile): the Kernel entering
    resize_net's ImageResize (kernel_fn of inputs is checked in the Conv case below)."""
    front = stax.serial(stax.Dense(8, 1.5, 0.1), stax.Relu())[2]
    return {name: front(np.asarray(REFERENCE[name]["x1"]), np.asarray(REFERENCE[name]["x2"]))
            for name in RESIZE_CASES}


@pytest.mark.parametrize("name", sorted(RESIZE_CASES))
def test_resize_kernels_equal_neural_tangents(name, image_kernels):
    resize = RESIZE_CASES[name][0](stax).layer.children[-1]  # resize_net's ImageResize
    k = stax.serial(resize)[2](image_kernels[name])
    close(k.nngp, REFERENCE[name]["nngp"])
    close(k.ntk, REFERENCE[name]["ntk"])


def test_resize_apply_equals_neural_tangents_for_every_method():
    x = np.asarray(REFERENCE["apply_images"]["x"])
    for name, (shape, method) in RESIZE_APPLY.items():
        close(stax.ImageResize(shape, method)[1]((), x), REFERENCE["apply_images"][name])
    aliases = {"bilinear": "linear", "triangle": "linear", "bicubic": "cubic"}
    for alias, method in aliases.items():
        assert stax.ImageResize((-1, 3, 3, -1), alias).layer == \
            stax.ImageResize((-1, 3, 3, -1), method).layer


def test_resize_after_conv_is_the_linear_map_neural_tangents_applies_to_swapped_axes():
    """Ours for shape (5, 6) is resize(conv(x)) computed by explicit features, and equals
    neural-tangents' (N1, N2, 6, 6, 5, 5) kernel for shape (6, 5) with H and W swapped."""
    r = REFERENCE["conv_resize"]
    x1, x2 = np.asarray(r["x1"]), np.asarray(r["x2"])
    swapped = (-1, CONV_RESIZE_SHAPE[2], CONV_RESIZE_SHAPE[1], -1)
    k = conv_resize_net(stax, swapped)[2](x1, x2, ("nngp", "ntk"))  # (N1, N2, 5, 5, 6, 6)
    close(np.transpose(k.nngp, (0, 1, 4, 5, 2, 3)), r["nngp"])
    close(np.transpose(k.ntk, (0, 1, 4, 5, 2, 3)), r["ntk"])
    # a conv with one-hot filters picks each window's entries; the infinite-width kernel of
    # the Conv is their dot product times W_std^2 / fan_in, plus b_std^2
    filters = np.eye(8).reshape(2, 2, 2, 8)

    def features(x):
        y = jax.lax.conv_general_dilated(x, filters, (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return jax.image.resize(y * 1.5 / np.sqrt(8), (len(x), 5, 6, 8), "linear")
    explicit = jnp.einsum("ahwc,bijc->abhiwj", features(x1), features(x2)) + 0.1 ** 2
    np.testing.assert_allclose(k.nngp, explicit, rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------- identities and plumbing

def test_sparse_edges_are_the_dense_adjacency_they_count():
    """Repeated edges add up and an edge with a -1 (padding) is dropped (apply_fn; the
    kernels of both implementations equal neural-tangents' above)."""
    x1, _, p1, _ = graph_case("graph_sparse")
    adjacency = np.zeros((len(p1), 4, 4))
    for n, edges in enumerate(p1):
        for tail, head in edges:
            if tail >= 0 and head >= 0:
                adjacency[n, tail, head] += 1
    assert adjacency.sum() == 3 * 6 and adjacency.max() >= 2  # 7 edges each, one padding
    np.testing.assert_allclose(stax.Aggregate(implementation="SPARSE")[1]((), x1, pattern=p1),
                               stax.Aggregate()[1]((), x1, pattern=adjacency), rtol=1e-14)


@pytest.fixture(scope="module")
def grid_kernels():
    """Dense, Relu on the inputs of each grid case (one compile): the Kernel entering
    node_net's Aggregate, for kernel_fn(kernel, pattern=...)."""
    front = stax.serial(stax.Dense(8, 1.5, 0.1), stax.Relu())[2]
    return {name: front(*graph_case(name)[:2]) for name in GRID}


@pytest.mark.parametrize("name", GRID)
def test_grid_kernels_equal_neural_tangents(name, grid_kernels):
    options = GRAPH_CASES[name][1]
    x1, _, p1, p2 = graph_case(name)
    k = stax.Aggregate(**options)[2](grid_kernels[name], pattern=(p1, p2))
    close(k.nngp, REFERENCE[name]["nngp"])
    close(k.ntk, REFERENCE[name]["ntk"])
    close(stax.Aggregate(**options)[1]((), x1, pattern=p1), REFERENCE[name]["apply"])


def test_pattern_none_is_the_identity_and_jit_traces_the_pattern(grid_kernels):
    name = "grid_dense_axis_2"
    k, (x1, _, p1, p2) = grid_kernels[name], graph_case(name)
    aggregate = stax.Aggregate(aggregate_axis=2)[2]
    close(jax.jit(aggregate, static_argnames="get")(k, get="nngp", pattern=(p1, p2)),
          REFERENCE[name]["nngp"])
    for pattern in ({}, {"pattern": (None, None)}):
        np.testing.assert_array_equal(aggregate(k, **pattern).nngp, k.nngp)
    np.testing.assert_array_equal(stax.Aggregate()[1]((), x1), x1)


def test_to_dense_decodes_the_pattern(grid_kernels):
    """to_dense runs on what is passed (here the transposed adjacency), in apply and kernel."""
    name = "grid_dense_axis_2"
    k, (x1, _, p1, p2) = grid_kernels[name], graph_case(name)
    swapped = stax.Aggregate(aggregate_axis=2, to_dense=lambda p: jnp.swapaxes(p, 1, 2))
    t1, t2 = np.swapaxes(p1, 1, 2), np.swapaxes(p2, 1, 2)
    close(swapped[1]((), x1, pattern=t1), REFERENCE[name]["apply"])
    close(swapped[2](k, get="nngp", pattern=(t1, t2)), REFERENCE[name]["nngp"])


def test_aggregate_axes_in_the_given_order(grid_kernels):
    """aggregate_axis=(2, 1) reads the pattern's axes as (W, H), in apply and kernel alike."""
    name = "grid_dense_both_axes"  # inputs (N, 3, 2, 3), patterns (N, 3, 2, 3, 2)
    k, (x1, _, p1, p2) = grid_kernels[name], graph_case(name)

    def swap(p):
        return p.transpose(0, 2, 1, 4, 3)
    wh = stax.Aggregate(aggregate_axis=(2, 1))
    close(wh[2](k, get="nngp", pattern=(swap(p1), swap(p2))), REFERENCE[name]["nngp"])
    close(wh[1]((), x1, pattern=swap(p1)), REFERENCE[name]["apply"])


def test_repeat_hands_the_pattern_to_every_repetition_in_apply_fn():
    x1, _, p1, _ = graph_case("graph_dense")
    block = stax.serial(stax.Dense(5, 1.5, 0.1), stax.Relu(), stax.Aggregate())
    _, params = stax.repeat(block, 2)[0](jax.random.PRNGKey(0), x1.shape)
    unrolled = [jax.tree_util.tree_map(lambda a, i=i: a[i], params) for i in (0, 1)]
    repeated = stax.repeat(block, 2)[1](params, x1, pattern=p1)
    np.testing.assert_allclose(repeated, stax.serial(block, block)[1](unrolled, x1, pattern=p1),
                               rtol=0, atol=1e-13 * np.abs(repeated).max())
    assert not np.allclose(repeated, stax.repeat(block, 2)[1](params, x1))


# ---------------------------------------------------------------- messages

X_NODES, P_NODES = np.zeros((3, 4, 5)), np.zeros((3, 4, 4))
X_IMAGES = np.zeros((2, 4, 4, 2))
EDGES_FLOAT = np.zeros((3, 2, 2))


def _aggregate_kernel(pattern, **options):
    net = stax.serial(stax.Dense(4), stax.Aggregate(**options))
    return lambda: net[2](X_NODES, X_NODES[:2], "nngp", pattern=pattern)


CONSTRUCTION_ERRORS = [
    (lambda: stax.Aggregate(aggregate_axis=1.5),
     r"^Aggregate\(aggregate_axis=1.5\): aggregate_axis must be an integer$"),
    (lambda: stax.Aggregate(batch_axis=-1),
     r"^Aggregate\(batch_axis=-1, channel_axis=-1\): the batch and channel axes must differ"),
    (lambda: stax.Aggregate(implementation="dense"),
     r"^Aggregate\(implementation='dense'\): expected 'DENSE' or 'SPARSE'$"),
    (lambda: stax.Aggregate(to_dense=3), r"^Aggregate\(to_dense=3\): to_dense must be a "),
    (lambda: stax.ImageResize(5, "linear"),
     r"^ImageResize\(shape=5\): shape must be a sequence of positive integers or -1 "),
    (lambda: stax.ImageResize((-1, 0, 3, -1), "linear"), r"^ImageResize\(shape=\(-1, 0, 3, "),
    (lambda: stax.ImageResize((4, 3, 3, -1), "linear"),
     r"^ImageResize\(shape=\(4, 3, 3, -1\)\): the batch axis's entry \(shape\[0\]\) must be "
     r"-1; resizing the batch axis is not supported$"),
    (lambda: stax.ImageResize((-1, 3, 3, 4), "linear", batch_axis=3, channel_axis=0),
     r"^ImageResize\(shape=\(-1, 3, 3, 4\)\): the batch axis's entry \(shape\[3\]\) must be "),
    (lambda: stax.ImageResize((-1, 3, 3, -1), "bilinar"),
     r"^ImageResize\(method='bilinar'\): expected one of \[.*'linear'"),
    (lambda: stax.ImageResize((-1, 3, 3, -1), "linear", antialias=1),
     r"^ImageResize\(antialias=1\): antialias must be True or False$"),
    (lambda: stax.ImageResize((-1, 3, 3, -1), "linear", precision="best"),
     r"^ImageResize\(precision='best'\): expected None, a jax.lax.Precision or its name$"),
    (lambda: stax.ImageResize((-1, 3, 3, -1), "linear", channel_axis=2.0),
     r"^ImageResize\(channel_axis=2.0\): expected an integer axis$"),
]

CALL_ERRORS = [
    (lambda: stax.serial(stax.Dense(4), stax.Aggregate(aggregate_axis=0))[0](
        jax.random.PRNGKey(0), X_NODES.shape),
     r"^layer 1 \(Aggregate\): Aggregate\(aggregate_axis=0\): axis 0 is not a spatial axis "
     r"of inputs laid out as \(batch, spatial, channels\)$"),
    (lambda: stax.Aggregate(aggregate_axis=1, channel_axis=1)[0](jax.random.PRNGKey(0),
                                                                (2, 3, 4)),
     r"^Aggregate\(aggregate_axis=1\): axis 1 is not a spatial axis of inputs laid out as "
     r"\(batch, channels, spatial\)$"),
    (lambda: stax.Aggregate(aggregate_axis=(1, -3))[0](jax.random.PRNGKey(0), (2, 3, 2, 3)),
     r"^Aggregate\(aggregate_axis=\(1, -3\)\): repeated axis$"),
    (lambda: stax.Aggregate()[2](np.zeros((3, 5)), None, "nngp"),
     r"^Aggregate: needs inputs with 1 or 2 spatial axes \(NWC or NHWC\); got inputs of "
     r"shape \('N', 5\)$"),
    (lambda: stax.Aggregate()[2](X_NODES, None, "nngp", pattern=P_NODES),
     r"^kernel_fn\(pattern=...\): expected a pair \(pattern1, pattern2\) for x1 and x2; "
     r"got ndarray$"),
    (_aggregate_kernel((P_NODES, P_NODES)),
     r"^kernel_fn\(pattern=...\): pattern2 needs a leading axis of length 2 \(one entry per "
     r"input of x2\); got shape \(3, 4, 4\)$"),
    (_aggregate_kernel((P_NODES, None)),
     r"^Aggregate: kernel_fn got one of pattern=\(pattern1, pattern2\) as None; give both "),
    (lambda: stax.Dense(4)[2](X_NODES, None, "nngp", pattern=(P_NODES, P_NODES)),
     r"^kernel_fn\(pattern=...\): unknown argument; tiles and progress are engine.batch"),
    (_aggregate_kernel((P_NODES[:, :, :3], P_NODES[:2, :, :3])),
     r"^Aggregate: pattern1 \(after to_dense\) must have shape \(3, 4, 4\) \(inputs, then "
     r"tail and head vertex axes\); got \(3, 4, 3\)"),
    (lambda: stax.Aggregate()[1]((), X_NODES, pattern=P_NODES[:2]),
     r"^Aggregate: pattern \(after to_dense\) must have shape \(3, 4, 4\) "),
    (_aggregate_kernel((EDGES_FLOAT, EDGES_FLOAT[:2]), implementation="SPARSE"),
     r"^Aggregate\(implementation='SPARSE'\): pattern1 must hold integer vertex indices; got "
     r"dtype float64"),
    (lambda: stax.Aggregate(implementation="SPARSE")[1](
        (), X_NODES, pattern=np.zeros((3, 2, 3), int)),
     r"^Aggregate\(implementation='SPARSE'\): pattern must have shape \(N, n_edges, 1, 2\) "
     r"or \(N, n_edges, 2\) with N = 3; got \(3, 2, 3\)$"),
    (lambda: stax.ImageResize((-1, 3, -1), "linear")[0](jax.random.PRNGKey(0), X_IMAGES.shape),
     r"^ImageResize\(shape=\(-1, 3, -1\)\): inputs of shape \('N', 4, 4, 2\) need 4 "
     r"entries$"),
    (lambda: stax.ImageResize((-1, 3, 3, 5), "linear")[2](X_IMAGES, None, "nngp"),
     r"^ImageResize\(shape=\(-1, 3, 3, 5\)\): kernel_fn cannot resize the channel axis "),
    (lambda: stax.ImageResize((-1, 3, 3, -1), "cubic")[2](X_IMAGES, None, "nngp"),
     r"^ImageResize\(method='cubic'\): kernel_fn supports 'linear' and 'nearest' only "),
]


@pytest.mark.parametrize("make, message", CONSTRUCTION_ERRORS + CALL_ERRORS)
def test_messages(make, message):
    """(Errors met while kernel_fn traces its layers carry JAX's traceback note after them.)"""
    with pytest.raises(ValueError, match=message):
        make()


def test_what_kernel_fn_refuses_apply_fn_does():
    """As in neural-tangents: the channel axis and the other methods resize in apply_fn."""
    assert stax.ImageResize((-1, 3, 3, 5), "linear")[1]((), X_IMAGES).shape == (2, 3, 3, 5)
    for method in ("cubic", "lanczos3", "lanczos5"):
        layer = stax.ImageResize((-1, 3, 5, -1), method)
        assert layer[1]((), X_IMAGES).shape == (2, 3, 5, 2)
        assert layer[0](jax.random.PRNGKey(0), X_IMAGES.shape)[0] == (2, 3, 5, 2)


# ---------------------------------------------------------------- Monte Carlo

WIDTH, SAMPLES, TOLERANCE = 256, 64, 0.06


def monte_carlo(make, x1, x2, kwargs1, kwargs2):
    """(nngp, ntk) of finite networks: f(x1) f(x2)^T / WIDTH with WIDTH outputs, and
    J(x1) J(x2)^T with one output, averaged over SAMPLES initialisations."""
    wide_init, wide_apply, _ = make(WIDTH, WIDTH)
    init_fn, apply_fn, _ = make(WIDTH, 1)

    def one(key):
        _, params = wide_init(key, x1.shape)
        nngp = wide_apply(params, x1, **kwargs1) @ wide_apply(params, x2, **kwargs2).T / WIDTH
        _, params = init_fn(key, x1.shape)
        j1 = jax.jacrev(lambda p: apply_fn(p, x1, **kwargs1))(params)
        j2 = jax.jacrev(lambda p: apply_fn(p, x2, **kwargs2))(params)
        ntk = sum(a.reshape(len(x1), -1) @ b.reshape(len(x2), -1).T
                  for a, b in zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2)))
        return nngp, ntk

    keys = jax.random.split(jax.random.PRNGKey(0), SAMPLES)
    nngp, ntk = jax.jit(lambda keys: jax.lax.map(one, keys))(keys)
    return np.asarray(nngp.mean(0)), np.asarray(ntk.mean(0))


def _graph_net(n, r):
    return stax.serial(stax.Dense(n, 1.5, 0.1), stax.Relu(), stax.Aggregate(),
                       stax.Dense(n, 1.2, 0.2), stax.Relu(), stax.Aggregate(),
                       stax.GlobalAvgPool(), stax.Dense(r))


def _resize_net(n, r):
    return stax.serial(stax.Dense(n, 1.5, 0.1), stax.Relu(),
                       stax.ImageResize((-1, 3, 5, -1), "linear"), stax.Dense(n, 1.2, 0.2),
                       stax.Relu(), stax.GlobalAvgPool(), stax.Dense(r))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["graph", "resize"])
def test_finite_networks_match_the_kernels(name):
    """Within 6 % relative Frobenius at width 256 and 64 initialisations."""
    if name == "graph":
        x1, x2, p1, p2 = graph_case("graph_dense_weighted")
        make, kwargs1, kwargs2 = _graph_net, {"pattern": p1}, {"pattern": p2}
        exact = make(WIDTH, 1)[2](x1, x2, ("nngp", "ntk"), pattern=(p1, p2))
    else:
        x1, x2 = (np.asarray(REFERENCE["resize_linear_down"][k]) for k in ("x1", "x2"))
        make, kwargs1, kwargs2 = _resize_net, {}, {}
        exact = make(WIDTH, 1)[2](x1, x2, ("nngp", "ntk"))
    nngp, ntk = monte_carlo(make, jnp.asarray(x1), jnp.asarray(x2), kwargs1, kwargs2)
    assert rel_frobenius(nngp, exact.nngp) < TOLERANCE
    assert rel_frobenius(ntk, exact.ntk) < TOLERANCE
