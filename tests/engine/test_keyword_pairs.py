"""Keyword pairs (Aggregate's pattern=(pattern1, pattern2)) through engine.batch, the empirical
kernels, monte_carlo_kernel_fn and the overflow diagnosis, with neural-tangents' convention:
the first entry goes with x1 (its rows), the second with x2.

Tiled kernels equal the unbatched kernel_fn to 1e-12 (float64; seen ~1e-15). Empirical
kernels equal hand-written Jacobian contractions to 1e-12. The Monte Carlo row compares the
mean over SAMPLES networks of width WIDTH with the closed form (tolerance below).
"""
import concurrent.futures
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import engine
from engine import stax

batch_module = importlib.import_module("engine.batch")  # engine.batch is the function

W, B = 1.5, 0.1


def close(actual, expected, rtol=1e-12):
    expected = np.asarray(expected)
    np.testing.assert_allclose(np.asarray(actual), expected, rtol=rtol,
                               atol=rtol * np.abs(expected).max())


def graph_net(width=8, readout=1, **aggregate):
    """Dense, Relu, Aggregate (message passing), Dense, Relu, GlobalAvgPool, Dense."""
    return stax.serial(stax.Dense(width, W, B), stax.Relu(), stax.Aggregate(**aggregate),
                       stax.Dense(width, 1.2, 0.2), stax.Relu(), stax.GlobalAvgPool(),
                       stax.Dense(readout, 1.0, 0.1))


@pytest.fixture(scope="module")
def graphs():
    """5 and 3 graphs of 3 vertices with 2 features; weighted adjacencies p1, p2, and q, a
    second set for x1 (x2=None with different entries)."""
    rng = np.random.default_rng(0)
    return dict(x1=rng.standard_normal((5, 3, 2)), x2=rng.standard_normal((3, 3, 2)),
                p1=rng.uniform(0, 1, (5, 3, 3)), p2=rng.uniform(0, 1, (3, 3, 3)),
                q=rng.uniform(0, 1, (5, 3, 3)))


# ---------------------------------------------------------------- engine.batch

def _two_threads(monkeypatch):
    """batch's own thread pool, one thread per device: the one CPU device listed twice."""
    device = jax.local_devices()[0]
    monkeypatch.setattr(batch_module, "_devices", lambda count: [device, device])
    return {}


PATHS = {"inline": lambda mp: {}, "executor": lambda mp: {"executor": "pool"},
         "device_threads": _two_threads}


@pytest.mark.parametrize("path", sorted(PATHS))
def test_batch_cuts_pattern_pairs_with_the_rows(path, graphs, monkeypatch):
    """batch_size=2 on 5 x 3 graphs (ragged, padded blocks); x2 given, x2=None with equal
    entries (mirrored blocks) and x2=None with different entries (every block computed)."""
    g = graphs
    kernel_fn = graph_net()[2]
    options = PATHS[path](monkeypatch)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        if options.get("executor"):
            options["executor"] = pool
        batched = engine.batch(kernel_fn, 2, store_on_device=False, **options)
        for x2, pattern in [(g["x2"], (g["p1"], g["p2"])), (None, (g["p1"], g["p1"])),
                            (None, (g["p1"], g["q"]))]:
            whole, tiles = kernel_fn(g["x1"], x2, pattern=pattern), \
                batched(g["x1"], x2, pattern=pattern)
            for name in ("nngp", "ntk", "cov1", "cov2"):
                close(getattr(tiles, name), getattr(whole, name))
            close(batched(g["x1"], x2, "nngp", pattern=pattern), whole.nngp)


def test_batch_cuts_sparse_edge_lists(graphs):
    """Integer edge lists (SPARSE) keep their dtype when cut and padded: the tiles equal the
    DENSE kernel of the adjacencies that count the edges."""
    rng = np.random.default_rng(1)
    e1, e2 = rng.integers(0, 3, (5, 4, 2)), rng.integers(0, 3, (3, 4, 2))

    def counts(edges):
        a = np.zeros((len(edges), 3, 3))
        for n, e in enumerate(edges):
            np.add.at(a[n], (e[:, 0], e[:, 1]), 1.0)
        return a

    whole = graph_net()[2](graphs["x1"], graphs["x2"], pattern=(counts(e1), counts(e2)))
    tiles = engine.batch(graph_net(implementation="SPARSE")[2], 2)(
        graphs["x1"], graphs["x2"], ("nngp", "ntk"), pattern=(e1, e2))
    close(tiles.nngp, whole.nngp)
    close(tiles.ntk, whole.ntk)


def test_batch_refuses_a_pair_without_one_entry_per_input(graphs):
    g = graphs
    with pytest.raises(ValueError, match=r"batch\(kernel_fn\)\(pattern=\.\.\.\): pattern2 "
                                         r"needs a leading axis of length 3 \(one entry per "
                                         r"input of x2\); got shape \(5, 3, 3\)"):
        engine.batch(graph_net()[2], 2)(g["x1"], g["x2"], "nngp", pattern=(g["p1"], g["p1"]))


# ---------------------------------------------------------------- empirical kernels

def test_empirical_ntk_of_aggregate_then_dense_is_the_hand_written_contraction(graphs):
    """f = Dense(k) after Aggregate on (N, V, C): J(x1) J(x2)^T has, for equal output units,
    W^2 / C a1[n, v] . a2[m, u] + b^2 with a = P^T x (the aggregated features), and 0 for
    different units."""
    g, k, c = graphs, 2, 2
    init_fn, apply_fn, _ = stax.serial(stax.Aggregate(), stax.Dense(k, W, B))
    params = init_fn(jax.random.PRNGKey(0), g["x1"].shape)[1]
    a1 = np.einsum("nij,nic->njc", g["p1"], g["x1"])
    a2 = np.einsum("mij,mic->mjc", g["p2"], g["x2"])
    per_unit = W ** 2 / c * np.einsum("nvc,muc->nmvu", a1, a2) + B ** 2
    full = engine.empirical_ntk_fn(apply_fn, trace_axes=())(g["x1"], g["x2"], params,
                                                           pattern=(g["p1"], g["p2"]))
    assert full.shape == (5, 3, 3, 3, k, k)
    close(full, per_unit[..., None, None] * np.eye(k))
    traced = engine.empirical_ntk_fn(apply_fn)(g["x1"], g["x2"], params,
                                               pattern=(g["p1"], g["p2"]))
    assert traced.shape == (5, 3, 3, 3)
    close(traced, per_unit)


@pytest.mark.parametrize("implementation", ["jacobian", engine.NtkImplementation.NTK_VECTOR_PRODUCTS])
def test_empirical_kernels_hand_each_side_its_entry(implementation, graphs):
    """NTK: J1 J2^T with J1 of f(., x1, pattern=p1), J2 of f(., x2, pattern=p2); NNGP:
    f(x1; p1) f(x2; p2)^T; x2=None uses the first entry on both sides (neural-tangents)."""
    g = graphs
    init_fn, apply_fn, _ = graph_net(width=4)
    params = init_fn(jax.random.PRNGKey(0), g["x1"].shape)[1]

    @jax.jit
    def by_hand(x1, p1, x2, p2):
        j1 = jax.jacrev(lambda p: apply_fn(p, x1, pattern=p1))(params)
        j2 = jax.jacrev(lambda p: apply_fn(p, x2, pattern=p2))(params)
        ntk = sum(jnp.einsum("aoz,boz->ab", u.reshape(u.shape[:2] + (-1,)),
                             v.reshape(v.shape[:2] + (-1,)))
                  for u, v in zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2)))
        return ntk, apply_fn(params, x1, pattern=p1) @ apply_fn(params, x2, pattern=p2).T

    kernel_fn = engine.empirical_kernel_fn(apply_fn, implementation=implementation)
    ntk, nngp = by_hand(g["x1"], g["p1"], g["x2"], g["p2"])
    k = kernel_fn(g["x1"], g["x2"], None, params, pattern=(g["p1"], g["p2"]))
    close(k.ntk, ntk)
    close(k.nngp, nngp)
    ntk, nngp = by_hand(g["x1"], g["p1"], g["x1"], g["p1"])
    k = kernel_fn(g["x1"], None, None, params, pattern=(g["p1"], g["q"]))
    close(k.ntk, ntk)
    close(k.nngp, nngp)


def test_empirical_rng_gives_x2_another_key_unless_x2_is_x1():
    """neural-tangents' rule: x2's side gets fold_in(rng, 1) when x2 differs from x1, the
    same key when it equals x1 (a copy counts)."""
    init_fn, apply_fn, _ = stax.serial(stax.Dense(16), stax.Relu(), stax.Dropout(0.5),
                                       stax.Dense(4))
    x1 = np.random.default_rng(2).standard_normal((3, 5))
    x2 = x1[::-1] + 0.5
    params = init_fn(jax.random.PRNGKey(0), x1.shape)[1]
    key = jax.random.PRNGKey(7)
    nngp_fn = engine.empirical_nngp_fn(apply_fn)
    f1 = apply_fn(params, x1, rng=key)
    close(nngp_fn(x1, x2, params, rng=key),
          f1 @ apply_fn(params, x2, rng=jax.random.fold_in(key, 1)).T / 4)
    close(nngp_fn(x1, x1.copy(), params, rng=key), f1 @ f1.T / 4)


def test_dense_chain_with_dropout_takes_its_key():
    """The structured (layer by layer) NTK ran the layers without rng=: Dropout failed. With a
    key it takes the Jacobian path, equal to implementation='jacobian'."""
    init_fn, apply_fn, _ = stax.serial(stax.Dense(16), stax.Relu(), stax.Dropout(0.5),
                                       stax.Dense(1))
    x = np.random.default_rng(3).standard_normal((4, 3))
    params = init_fn(jax.random.PRNGKey(0), x.shape)[1]
    key = jax.random.PRNGKey(1)
    auto = engine.empirical_ntk_fn(apply_fn)(x, None, params, rng=key)
    close(auto, engine.empirical_ntk_fn(apply_fn, implementation="jacobian")(x, None, params,
                                                                            rng=key))


# ---------------------------------------------------------------- Monte Carlo

#: width, networks and relative Frobenius tolerance of the Monte Carlo row. One network's
#: NNGP of these graphs is off by about 3.5 / sqrt(WIDTH) (measured: 20-29 % at width 256,
#: 2-7 % at 4096), so the mean of SAMPLES is off by about 3.5 / sqrt(WIDTH * SAMPLES) ~ 4 %;
#: seen 0.7-3.8 % (NNGP) and 1.8-2.8 % (NTK) for keys 0-3. A kernel computed without the
#: patterns (Aggregate as the identity) is 55 % off.
WIDTH, SAMPLES, TOLERANCE = 512, 16, 0.12


@pytest.mark.slow
def test_monte_carlo_of_an_aggregate_network_tends_to_its_closed_form(graphs):
    g = graphs
    x1, x2, pattern = g["x1"][:3], g["x2"], (g["p1"][:3], g["p2"])
    exact = graph_net()[2](x1, x2, ("nngp", "ntk"), pattern=pattern)
    estimates = {}
    for get, readout in (("nngp", WIDTH), ("ntk", 1)):
        init_fn, apply_fn, _ = graph_net(WIDTH, readout)
        mc = engine.monte_carlo_kernel_fn(init_fn, apply_fn, jax.random.PRNGKey(0), SAMPLES,
                                          batch_size=2)
        estimates[get] = np.asarray(mc(x1, x2, get, pattern=pattern))
    for get in ("nngp", "ntk"):
        ref = np.asarray(getattr(exact, get))
        error = np.linalg.norm(estimates[get] - ref) / np.linalg.norm(ref)
        assert error < TOLERANCE, f"{get}: relative error {error:.3f}"
    identity = np.asarray(graph_net()[2](x1, x2, "nngp"))
    assert np.linalg.norm(identity - exact.nngp) / np.linalg.norm(exact.nngp) > 0.5


# ---------------------------------------------------------------- overflow diagnosis

def test_overflow_diagnosis_runs_the_layers_with_the_pattern(graphs):
    """Input 1's graph has weights of 1e160: its kernel leaves float64 at the first
    Aggregate. The diagnosis reruns the layers on that pair with its entries of the pattern
    (without them Aggregate is the identity and no layer would be named)."""
    g = graphs
    huge = g["p1"].copy()
    huge[1] *= 1e160
    with pytest.raises(ValueError, match=r"^layer 2 \(Aggregate\): kernel overflows float64 "
                                         r"\(inf or NaN; the largest variance entering the "
                                         r"layer is"):
        graph_net()[2](g["x1"], g["x2"], "nngp", pattern=(huge, g["p2"]))
