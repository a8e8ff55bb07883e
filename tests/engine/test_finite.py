"""Finite ensembles trained with real gradient descent (engine.finite.training) and with_width."""
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import engine
from engine.finite import gradient_descent
from engine.finite.training import EnsembleRun, log_step_grid, train_ensemble
from engine.checks import Limits
from engine.sweeps.init_outputs import output_distribution
from engine.predict import gradient_descent_mse_ensemble, max_learning_rate
from engine.widths import with_width

#: training and Monte Carlo ensembles run their programs many times (tests/engine/conftest.py)
pytestmark = pytest.mark.xla_optimized


def mlp(activation="Erf", outputs=1, w_std=1.5, b_std=0.05, depth=2):
    dense = {"out_dim": 1, "W_std": w_std, "b_std": b_std}
    hidden = [[["Dense", dense], [activation, {}]] for _ in range(depth)]
    return [layer for pair in hidden for layer in pair] + \
        [["Dense", {**dense, "out_dim": outputs}]]


def circle(angles):
    angles = np.asarray(angles, np.float64)
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


X_TRAIN = circle([0.1, 1.7, 3.3, 4.6])
X_TEST = circle([0.9, 2.5, 4.0, 5.5])
Y_TRAIN = np.stack([np.sin(2 * np.array([0.1, 1.7, 3.3, 4.6]) + j) for j in range(2)], axis=1)


def small_run(y_test=Y_TRAIN, **kwargs):
    """Three width-16 networks; the same shapes everywhere so the compiled steps are reused."""
    options = dict(width=16, ensemble_size=3, learning_rate=0.5, steps=[0, 1, 5, 20])
    options.update(kwargs)
    return train_ensemble(mlp(outputs=2), X_TRAIN, Y_TRAIN, X_TEST, y_test, **options)


# ---------------------------------------------------------------- with_width

def test_with_width_sets_hidden_layers_and_keeps_the_readout():
    spec = [["Dense", {"out_dim": 1}], ["Relu", {}],
            ["serial", {"layers": [["Dense", {"out_dim": 2}], ["Relu", {}]]}],
            ["Dense", {"out_dim": 3}], ["Relu", {}]]
    wide = with_width(spec, 7)
    assert wide[0][1]["out_dim"] == 7 and wide[2][1]["layers"][0][1]["out_dim"] == 7
    assert wide[3][1]["out_dim"] == 3  # the readout, even with an activation after it
    assert with_width(spec, 7, readout=5)[3][1]["out_dim"] == 5
    assert spec[0][1]["out_dim"] == 1  # the input spec is not modified


def test_with_width_finds_a_readout_in_each_final_branch():
    spec = [["Dense", {"out_dim": 1}], ["FanOut", {"num": 2}],
            ["parallel", {"branches": [[["Dense", {"out_dim": 4}]], [["Dense", {"out_dim": 4}]]]}],
            ["FanInSum", {}]]
    wide = with_width(spec, 9)
    assert wide[0][1]["out_dim"] == 9
    assert [b[0][1]["out_dim"] for b in wide[2][1]["branches"]] == [4, 4]


@pytest.mark.parametrize("width, readout, message", [
    (0, None, r"with_width\(width=0\): width must be a positive integer"),
    (2.5, None, r"with_width\(width=2.5\): width must be a positive integer"),
    (4, -1, r"with_width\(readout=-1\): readout must be a positive integer"),
])
def test_with_width_errors(width, readout, message):
    with pytest.raises(ValueError, match=message):
        with_width(mlp(), width, readout)


# ---------------------------------------------------------------- the run

def test_result_shapes_and_record():
    run = small_run()
    assert isinstance(run, EnsembleRun) and not run.stopped
    np.testing.assert_array_equal(run.steps, [0, 1, 5, 20])
    assert run.test_outputs.shape == (3, 4, 4, 2) and run.train_outputs.shape == (3, 4, 4, 2)
    assert run.train_loss.shape == run.test_loss.shape == (3, 4)
    assert (run.width, run.seed, run.learning_rate, run.ensemble_size) == (16, 0, 0.5, 3)
    np.testing.assert_allclose(run.train_loss,
                               0.5 * np.mean((run.train_outputs - Y_TRAIN) ** 2, axis=(2, 3)))
    assert np.all(run.train_loss[:, -1] < run.train_loss[:, 0])


def test_members_are_the_networks_of_their_seeds_and_one_step_is_gd():
    """Member i starts as init_fn(PRNGKey(seed + i)) and takes theta - lr grad L, L = 0.5 mean."""
    run = small_run(seed=4)
    network = engine.build(with_width(mlp(outputs=2), 16))

    @jax.jit
    def one_step(params):
        loss = lambda p: 0.5 * jnp.mean((network.apply_fn(p, X_TRAIN) - Y_TRAIN) ** 2)  # noqa
        return jax.tree_util.tree_map(lambda w, g: w - 0.5 * g, params, jax.grad(loss)(params))

    for i in range(3):
        params = network.init_fn(jax.random.PRNGKey(4 + i), X_TRAIN.shape)[1]
        np.testing.assert_allclose(run.test_outputs[i, 0], network.apply_fn(params, X_TEST),
                                   rtol=1e-12)
        np.testing.assert_allclose(run.test_outputs[i, 1],
                                   network.apply_fn(one_step(params), X_TEST), rtol=1e-10)


def test_member_i_has_seed_plus_i():
    """So the first members of a larger ensemble are the same networks."""
    from_zero, from_one = small_run(seed=0), small_run(seed=1)
    np.testing.assert_allclose(from_one.test_outputs[:2], from_zero.test_outputs[1:], rtol=1e-12)


def test_member_groups_cover_the_members_in_order(monkeypatch):
    groups = gradient_descent.member_groups(7)
    assert np.array_equal(np.concatenate(groups), np.arange(7))
    assert max(map(len, groups)) - min(map(len, groups)) <= 1
    assert len(gradient_descent.member_groups(1)) == 1
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")  # one group on an accelerator
    assert len(gradient_descent.member_groups(7)) == 1


def test_training_side_by_side_equals_one_group(monkeypatch):
    assert len(gradient_descent.member_groups(3)) == min(3, len(os.sched_getaffinity(0)))
    grouped = small_run(steps=[0, 5, 40])
    monkeypatch.setattr(gradient_descent, "member_groups", lambda members: [np.arange(members)])
    single = small_run(steps=[0, 5, 40])
    np.testing.assert_allclose(grouped.test_outputs, single.test_outputs, rtol=1e-12)
    np.testing.assert_allclose(grouped.train_loss, single.train_loss, rtol=1e-12)


def test_float32_option():
    run64, run32 = small_run(), small_run(float32=True)
    assert run32.test_outputs.dtype == np.float32 and run64.test_outputs.dtype == np.float64
    np.testing.assert_allclose(run32.test_outputs, run64.test_outputs, atol=1e-4)


def test_without_test_targets_there_is_no_test_loss():
    run = small_run(y_test=None)
    assert run.test_loss is None and run.test_outputs.shape == (3, 4, 4, 2)


def test_progress_reaches_one_and_stop_returns_the_steps_reached():
    """The first chunk runs to the last recorded step within FIRST_CHUNK_STEPS (16): steps
    0, 1, 5 of [0, 1, 5, 20]; stopping after it keeps those."""
    fractions, parts = [], []
    full = small_run(on_progress=fractions.append)
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) > 1
    run = small_run(on_chunk=parts.append, should_stop=lambda: len(parts) > 0)
    assert run.stopped and list(run.steps) == [0, 1, 5] == list(parts[0].steps)
    assert run.test_outputs.shape[1] == 3 == run.train_loss.shape[1]
    np.testing.assert_allclose(run.test_outputs, full.test_outputs[:, :3])


def chunked(monkeypatch, first_steps, seconds, **kwargs):
    """small_run with chunks of FIRST_CHUNK_STEPS, then about ``seconds`` of work each."""
    monkeypatch.setattr(gradient_descent, "FIRST_CHUNK_STEPS", first_steps)
    monkeypatch.setattr(gradient_descent, "CHUNK_SECONDS", (seconds, seconds))
    parts = []
    return small_run(on_chunk=parts.append, **kwargs), parts


@pytest.mark.parametrize("float32, tolerance", [(False, 1e-12), (True, 1e-6)])
def test_chunked_training_gives_the_one_shot_snapshots_and_prefixes(monkeypatch, float32,
                                                                    tolerance):
    """Chunks of one step each (the first holds steps 0 and 1) against one chunk
    for the whole run: the same snapshots; each delivered run is a prefix of the final one."""
    steps = [0, 1, 2, 5, 9, 20]
    one_shot, whole = chunked(monkeypatch, 10 ** 6, 10.0 ** 6, steps=steps, float32=float32)
    run, parts = chunked(monkeypatch, 1, 1e-9, steps=steps, float32=float32)
    assert len(whole) == 1 and whole[0].steps.tolist() == steps
    assert [p.steps.tolist() for p in parts] == [steps[:i] for i in range(2, len(steps) + 1)]
    for name in ("test_outputs", "train_outputs", "train_loss", "test_loss"):
        np.testing.assert_allclose(getattr(run, name), getattr(one_shot, name), rtol=tolerance,
                                   atol=tolerance)
        for part in parts:
            np.testing.assert_array_equal(getattr(part, name),
                                          getattr(run, name)[:, :len(part.steps)])
    assert not any(p.stopped for p in parts) and parts[-1].ensemble_size == 3


def test_chunks_grow_to_the_measured_speed():
    """After the first chunk, a chunk's length is the measured steps per second times its
    seconds, cut back to the last recorded step inside it."""
    steps = np.array([0, 10, 100, 1000])
    assert gradient_descent.chunk_end(0, steps, None, 0.1) == 10  # FIRST_CHUNK_STEPS: 16
    assert gradient_descent.chunk_end(10, steps, 500.0, 0.1) == 60  # no recorded step inside
    assert gradient_descent.chunk_end(60, steps, 500.0, 0.1) == 100
    assert gradient_descent.chunk_end(900, steps, 1e6, 1.0) == 1000  # never past the last
    assert gradient_descent.chunk_end(100, steps, 0.001, 1.0) == 101  # at least one step


def test_stop_before_the_first_chunk_gives_an_empty_run():
    run = small_run(should_stop=lambda: True)
    assert run.stopped and run.steps.shape == (0,) and run.test_outputs.shape == (3, 0, 4, 2)


def test_log_step_grid():
    grid = log_step_grid(1000, 20)
    assert grid[0] == 0 and grid[1] == 1 and grid[-1] == 1000
    assert np.all(np.diff(grid) > 0) and len(grid) <= 20
    np.testing.assert_array_equal(log_step_grid(0), [0])


@pytest.mark.parametrize("change, message", [
    (dict(width=0), r"train_ensemble\(width=0\): width must be a positive integer <= 8192"),
    (dict(width=10_000), r"train_ensemble\(width=10000\): width must be a positive integer "
                         r"<= 8192"),
    (dict(width=64, limits=Limits(max_width=32)), r"width must be a positive integer <= 32"),
    (dict(ensemble_size=0), r"train_ensemble\(ensemble_size=0\): ensemble_size must be a "
                            r"positive integer <= 4096"),
    (dict(ensemble_size=5, limits=Limits(max_members=4)), r"ensemble_size must be a positive "
                                                          r"integer <= 4"),
    (dict(learning_rate=0.0), r"train_ensemble\(learning_rate=0.0\): learning_rate must be a "
                              r"positive finite number"),
    (dict(learning_rate=-1.0), r"learning_rate=-1.0\): learning_rate must be a positive"),
    (dict(steps=[0, 5, 5]), r"train_ensemble\(steps=<array of shape \(3,\)>\): steps must be "
                            r"strictly increasing"),
    (dict(steps=[-1, 5]), r"steps must be whole step counts >= 0"),
    (dict(steps=[0, 1.5]), r"steps must be whole step counts >= 0"),
    (dict(steps=[]), r"steps must be a non-empty 1-D array of step counts"),
    (dict(steps=[0, 200_000]), r"steps must be at most 100000 \(the largest is 200000\)"),
    (dict(steps=[0, 50], limits=Limits(max_steps=10)), r"steps must be at most 10"),
    (dict(seed=-1), r"train_ensemble\(seed=-1\): seed must be a whole number from 0 to 1073741824"),
    (dict(float32="yes"), r"train_ensemble\(float32='yes'\): float32 must be True or False"),
    (dict(on_progress=3), r"train_ensemble\(on_progress=3\): on_progress must be None or a "
                          r"callable"),
    (dict(should_stop="no"), r"should_stop must be None or a callable"),
    (dict(on_chunk=3), r"train_ensemble\(on_chunk=3\): on_chunk must be None or a callable"),
    (dict(limits="big"), r"train_ensemble\(limits='big'\): limits must be an engine.Limits"),
])
def test_argument_errors(change, message):
    with pytest.raises(ValueError, match=message):
        small_run(**change)


@pytest.mark.parametrize("data, message", [
    (dict(x_train=np.full((4, 2), np.nan)), r"train_ensemble\(x_train=<array of shape \(4, 2\)>\):"
                                            r" x_train must be finite \(it has 8 NaN or inf"),
    (dict(y_train=np.where(np.eye(4, 2) > 0, np.nan, Y_TRAIN)), r"y_train must be finite"),
    (dict(x_test=np.ones((3, 5))), r"train_ensemble\(x_test=<array of shape \(3, 5\)>\): x_test "
                                   r"must be an array of shape \(N, 2\)"),
    (dict(y_train=np.ones((4, 3))), r"train_ensemble\(y_train=<array of shape \(4, 3\)>\): "
                                    r"y_train must be a numeric array of shape \(4, 2\)"),
    (dict(y_test=np.ones((2, 2))), r"y_test must be a numeric array of shape \(4, 2\)"),
    (dict(x_train=np.ones(4)), r"x_train must be a numeric array of shape \(N, features...\)"),
])
def test_data_errors(data, message):
    arrays = dict(x_train=X_TRAIN, y_train=Y_TRAIN, x_test=X_TEST, y_test=Y_TRAIN)
    arrays.update(data)
    with pytest.raises(ValueError, match=message):
        train_ensemble(mlp(outputs=2), arrays["x_train"], arrays["y_train"], arrays["x_test"],
                       arrays["y_test"], width=8, ensemble_size=2, learning_rate=0.5, steps=[0, 1])


def test_limits_reject_bad_values():
    with pytest.raises(ValueError, match=r"Limits\(max_width=0\): max_width must be a positive"):
        Limits(max_width=0)


def test_log_step_grid_error():
    with pytest.raises(ValueError, match=r"log_step_grid\(max_steps=-3\): max_steps must be a "
                                         r"whole number >= 0"):
        log_step_grid(-3)


# ---------------------------------------------------------------- agreement with theory

#: four output units with the same target: independent copies of one output in the limit
Y_HEADS = np.repeat(np.sin(2 * np.array([0.1, 1.7, 3.3, 4.6]))[:, None], 4, axis=1)


def closed_form(spec, learning_rate, steps):
    """Exact discrete-time ensemble mean and covariance on X_TEST (engine.predict)."""
    predict_fn = gradient_descent_mse_ensemble(engine.build(spec).kernel_fn, X_TRAIN, Y_HEADS,
                                               learning_rate=learning_rate, discrete=True)
    gaussian = predict_fn(t=np.asarray(steps, np.float64), x_test=X_TEST, get="ntk",
                          compute_cov=True)
    return np.asarray(gaussian.mean), np.asarray(gaussian.covariance)


def ensemble_errors(run, mean, cov):
    """Max |mean - closed form| and max |cov - closed form| per recorded step.

    Both statistics pool the M networks and their k output units (as neural-tangents' own
    test does for the covariance): 128 x 4 samples.
    """
    f = run.test_outputs
    centred = f - f.mean(axis=0)
    cov_emp = np.einsum("mtik,mtjk->tij", centred, centred) / (f.shape[0] * f.shape[3])
    return (np.abs(f.mean(axis=(0, 3)) - mean.mean(axis=2)).max(axis=1),
            np.abs(cov_emp - cov).max(axis=(1, 2)))


@pytest.mark.slow
@pytest.mark.parametrize("activation, w_std", [("Erf", 1.5), ("Relu", 1.4)])
def test_trained_ensemble_agrees_with_the_closed_form(activation, w_std):
    """Width 512, 128 networks, two hidden layers: within 0.08 at t = 10, 100, 300 (seen:
    0.027 at most; 256 networks took twice the time for errors 0.002-0.022).

    The learning rate is half of max_learning_rate = 2 |Y| / lambda_max(Theta) and the
    closed form is the exact discrete-time one, (I - lr Theta / |Y|)^t. A narrow ensemble
    (width 32) is further off: the mismatch shrinks as the width grows.
    """
    spec = mlp(activation, outputs=4, w_std=w_std)
    theta = engine.build(spec).kernel_fn(X_TRAIN, None, get="ntk")
    learning_rate = 0.5 * max_learning_rate(theta, Y_HEADS.size)
    steps = [10, 100, 300]  # early, middle, late (most of the residual gone)
    mean, cov = closed_form(spec, learning_rate, steps)
    errors = {}
    for width in (32, 512):
        run = train_ensemble(spec, X_TRAIN, Y_HEADS, X_TEST, width=width, ensemble_size=128,
                             learning_rate=learning_rate, steps=steps, float32=True)
        errors[width] = ensemble_errors(run, mean, cov)
    mean_error, cov_error = errors[512]
    assert np.all(mean_error < 0.08), mean_error
    assert np.all(cov_error < 0.08), cov_error
    narrow = errors[32][0].max() + errors[32][1].max()
    assert narrow > 1.5 * (mean_error.max() + cov_error.max()), errors


@pytest.mark.slow
def test_outputs_at_initialisation_become_gaussian_with_width():
    x = circle([0.0, 2.0])
    result = output_distribution(mlp(), x, [1, 4, 256], samples=2000)
    ks = result.ks_statistic.mean(axis=1)
    assert result.samples.shape == (3, 2000, 2) and result.nngp_variance.shape == (3, 2)
    assert ks[0] > ks[1] > ks[2] and ks[2] < 0.04, ks
    np.testing.assert_allclose(result.samples[-1].var(axis=0), result.nngp_variance[-1],
                               rtol=0.1)


@pytest.mark.parametrize("change, message", [
    (dict(widths=[]), r"output_distribution\(widths=\[\]\): widths must be a non-empty list"),
    (dict(widths=[4, 4]), r"widths must be a list of distinct values"),
    (dict(samples=0), r"output_distribution\(samples=0\): samples must be a positive integer"),
    (dict(seed=-2), r"output_distribution\(seed=-2\): seed must be a whole number >= 0"),
])
def test_output_distribution_errors(change, message):
    options = dict(widths=[2], samples=10)
    options.update(change)
    widths = options.pop("widths")
    with pytest.raises(ValueError, match=message):
        output_distribution(mlp(), X_TEST, widths, **options)
