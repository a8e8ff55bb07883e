"""Impossible or meaningless specs and inputs are refused before any computation."""
import numpy as np
import pytest

import engine
from engine import stax

D = ["Dense", {"out_dim": 8}]
X = np.ones((3, 4))


def kernel(spec, x=X, x2=None, get="nngp"):
    return engine.build(spec).kernel_fn(x, x2, get=get)


@pytest.mark.parametrize("spec, message", [
    ([["Dnse", {}]], r"layer 0: unknown layer 'Dnse'; expected one of \[.*'Dense'"),
    ([D, ["Dense", {"widht": 3}]], r"layer 1 \(Dense\): unknown argument 'widht'; Dense accepts"),
    ([["Dense", {"out_dim": 0}]], r"layer 0 \(Dense\): Dense\(out_dim=0\): out_dim must be a positive integer"),
    ([["Dense", {"out_dim": 2.5}]], r"out_dim must be an integer"),
    ([["Dense", {"out_dim": 3, "W_std": -1.0}]], r"Dense\(W_std=-1.0\): W_std must be non-negative"),
    ([["Dense", {"out_dim": 3, "b_std": float("nan")}]], r"Dense\(b_std=nan\): b_std must be finite"),
    ([["Dense", {"out_dim": 3, "parameterization": "mup"}]],
     r"Dense\(parameterization='mup'\): expected one of \['ntk', 'standard'\]"),
    ([["Dense", 3]], r"layer 0: expected \[name, \{arguments\}\]"),
    ([], r"spec: expected a non-empty list"),
    ("Dense", r"spec: expected a non-empty list"),
    ([["parallel", {"branches": []}]], r"layer 0 \(parallel\): branches must be a non-empty list"),
    ([["serial", {}]], r"layer 0 \(serial\): missing argument 'layers'"),
    ([D, ["parallel", {"branches": [[D], [["Dense", {"out_dim": -2}]]]}]],
     r"layer 1 > branch 1 > layer 0 \(Dense\): Dense\(out_dim=-2\)"),
])
def test_build_rejects(spec, message):
    with pytest.raises(ValueError, match=message):
        engine.build(spec)


@pytest.mark.parametrize("spec, message", [
    ([["Relu", {}], D], r"layer 0 \(Relu\): its input must be Gaussian"),
    ([D, ["Erf", {}], ["Erf", {}]], r"layer 2 \(Erf\): its input must be Gaussian"),
    ([D, ["FanInSum", {}]], r"layer 1 \(FanInSum\): there are no branches to join"),
    ([D, ["FanOut", {"num": 2}], D], r"layer 2 \(Dense\): .*receives 2 parallel branches"),
    ([D, ["FanOut", {"num": 2}]], r"the network ends with 2 open branches"),
    ([D, ["FanOut", {"num": 3}], ["parallel", {"branches": [[D], [D]]}]],
     r"layer 2 \(parallel\): parallel with 2 branches needs FanOut\(2\) before it; got 3 branches"),
    ([D, ["FanOut", {"num": 2}], ["parallel", {"branches": [[D], [["Dense", {"out_dim": 5}]]]}],
      ["FanInSum", {}]], r"layer 3 \(FanInSum\): branches have different shapes"),
])
def test_static_pass_rejects(spec, message):
    with pytest.raises(ValueError, match=message):
        kernel(spec)


def test_inputs_rejected():
    spec = [D, ["Relu", {}], ["Dense", {"out_dim": 1}]]
    bad = X.copy()
    bad[1, 2] = np.nan
    with pytest.raises(ValueError, match=r"kernel_fn\(x1\): inputs contain NaN or infinite values"):
        kernel(spec, bad)
    with pytest.raises(ValueError, match=r"kernel_fn\(x2\): x2 has shape \(2, 5\) but x1 has \(3, 4\)"):
        kernel(spec, X, np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"kernel_fn\(x1\): expected shape \(N, features\)"):
        kernel(spec, np.ones(4))
    with pytest.raises(ValueError, match=r"kernel_fn\(x1\): expected a numeric array"):
        kernel(spec, np.array([["a", "b"]]))
    with pytest.raises(ValueError, match=r"kernel_fn\(get='cov'\): expected 'nngp', 'ntk'"):
        kernel(spec, get="cov")


def test_stax_api_matches_build():
    init_fn, apply_fn, kernel_fn = stax.serial(stax.Dense(16, W_std=1.5, b_std=0.05), stax.Erf(),
                                               stax.Dense(1, W_std=1.5, b_std=0.05))
    spec = [["Dense", {"out_dim": 16, "W_std": 1.5, "b_std": 0.05}], ["Erf", {}],
            ["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.05}]]
    k1 = kernel_fn(X, None, ("nngp", "ntk"))
    k2 = engine.build(spec).kernel_fn(X, None, ("nngp", "ntk"))
    np.testing.assert_array_equal(k1.nngp, k2.nngp)
    np.testing.assert_array_equal(k1.ntk, k2.ntk)
    out_shape, params = init_fn(__import__("jax").random.PRNGKey(0), (-1, 4))
    assert out_shape == (-1, 1)
    assert apply_fn(params, X).shape == (3, 1)
    assert kernel_fn(X, np.ones((5, 4)), "ntk").shape == (3, 5)
    assert kernel_fn(X).nngp.dtype == np.float64


def test_tiles_agree_with_one_block():
    spec = [D, ["Relu", {}], ["Dense", {"out_dim": 1}]]
    x = np.random.default_rng(0).standard_normal((23, 4))
    x2 = np.random.default_rng(1).standard_normal((11, 4))
    net = engine.build(spec)
    for other in (None, x2):
        whole = net.kernel_fn(x, other, ("nngp", "ntk"))
        tiled = engine.batch(net.kernel_fn, 8)(x, other, ("nngp", "ntk"))
        np.testing.assert_allclose(tiled.nngp, whole.nngp, rtol=1e-12)
        np.testing.assert_allclose(tiled.ntk, whole.ntk, rtol=1e-12)


def test_progress_is_reported_per_tile_and_can_stop():
    spec = [D, ["Relu", {}], ["Dense", {"out_dim": 1}]]
    x = np.random.default_rng(0).standard_normal((20, 4))
    seen = []
    engine.batch(engine.build(spec).kernel_fn, 8, progress=seen.append)(x, None, "nngp")
    assert seen == [1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1.0]

    def stop(fraction):
        raise InterruptedError("stopped")
    with pytest.raises(InterruptedError):
        engine.batch(engine.build(spec).kernel_fn, 8, progress=stop)(x, None, "nngp")
