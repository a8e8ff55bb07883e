"""Width sweeps: empirical NTK spectrum and convergence, its motion in training, residual
modes and the kernels along the unit circle.

The slow tests share one ReLU network family, data and seeds so that compiled functions are
reused between them."""
import numpy as np
import pytest

import engine
from engine.sweeps.angles import angle_kernels, circle
from engine.checks import Limits
from engine.finite.residual_modes import residual_modes
from engine.sweeps.spectrum import eigenvalues, loglog_slope, ntk_change, ntk_spectrum

SPEC = [["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.1}], ["Erf", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.1}], ["Erf", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.1}]]
RELU = [["Dense", {"out_dim": 1, "W_std": 1.4, "b_std": 0.1}], ["Relu", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.4, "b_std": 0.1}], ["Relu", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.4, "b_std": 0.1}]]
ANGLES = np.linspace(0.0, 2 * np.pi, 8, endpoint=False) + 0.3
X = circle(ANGLES)
Y = np.sin(2 * ANGLES)[:, None]


def test_eigenvalues_are_descending_and_negatives_are_clipped_and_counted():
    matrix = np.diag([3.0, -1e-3, 1.0])
    matrix[0, 1] = 1e-9  # slightly asymmetric: symmetrised first
    values, clipped = eigenvalues(matrix)
    np.testing.assert_allclose(values, [3.0, 1.0, 0.0], atol=1e-9)
    assert clipped == 1


def test_loglog_slope_of_a_power_law():
    widths = [16, 64, 256]
    values = [[2.0 * w ** -0.5] * 3 for w in widths]
    assert loglog_slope(widths, values) == pytest.approx(-0.5)
    assert np.isnan(loglog_slope([16], [[1.0]]))


@pytest.mark.slow
def test_spectrum_converges_at_rate_one_over_sqrt_width():
    result = ntk_spectrum(RELU, X, [64, 256, 1024], range(4))
    assert result.eigenvalues.shape == (3, 4, 8) and result.distance.shape == (3, 4)
    assert np.all(result.eigenvalues >= 0) and np.all(np.diff(result.eigenvalues, axis=-1) <= 0)
    assert np.all(np.diff(result.analytic_eigenvalues, axis=-1) <= 0)
    assert not result.stopped and result.clipped.shape == (3, 4)
    assert -0.8 <= result.slope <= -0.3, result.slope
    # the top eigenvalue of the widest networks is within a few percent of the analytic one
    top = result.eigenvalues[-1, :, 0] / result.analytic_eigenvalues[-1, 0]
    assert np.all(np.abs(top - 1) < 0.1), top


def test_sweeps_report_progress_and_stop_between_widths():
    seen = []
    result = ntk_spectrum(SPEC, X[:4], [8, 16], [0], on_progress=seen.append,
                          should_stop=lambda: len(seen) >= 1)
    assert result.stopped and list(result.widths) == [8] and seen == [0.5]
    assert result.eigenvalues.shape == (1, 1, 4) and np.isnan(result.slope)


@pytest.mark.slow
def test_ntk_moves_less_in_training_as_width_grows():
    """Lazy regime: ||Theta_t - Theta_0|| / ||Theta_0|| falls like 1/sqrt(width)."""
    result = ntk_change(RELU, X, Y, [64, 1024], [0, 1, 2], learning_rate=1.0, steps=50)
    change = result.relative_change.mean(axis=1)
    assert result.relative_change.shape == (2, 3) and np.all(change > 0)
    assert change[1] < change[0] / 2, change  # a factor 4 in theory
    assert result.slope < -0.25 and result.steps == 50


@pytest.mark.slow
def test_residual_decays_along_ntk_eigenvectors_at_their_rates():
    """v_i^T r_t / v_i^T r_0 of width-512 networks follows (1 - lr lambda_i / |Y|)^t."""
    result = residual_modes(RELU, X, Y, width=512, ensemble_size=16, learning_rate=1.0,
                            steps=[0, 2, 10, 50])
    assert np.all(np.diff(result.eigenvalues) <= 0) and np.all(result.eigenvalues >= 0)
    np.testing.assert_allclose(result.decay[0], 1.0)
    np.testing.assert_allclose(result.decay, result.predicted_discrete, atol=0.1)
    assert result.projections.shape == (16, 4, 8, 1)
    # large eigenvalues are learnt first
    assert result.predicted[2, 0] < result.predicted[2, -1]


def test_angle_curves_match_kernel_fn_on_the_grid():
    gammas = np.linspace(-np.pi, np.pi, 9)
    result = angle_kernels(SPEC, gammas)
    exact = engine.build(SPEC).kernel_fn(circle([0.0]), circle(gammas), get=("nngp", "ntk"))
    np.testing.assert_allclose(result.ntk, exact.ntk[0], rtol=1e-12)
    np.testing.assert_allclose(result.nngp, exact.nngp[0], rtol=1e-12)
    np.testing.assert_allclose(result.ntk, result.ntk[::-1], rtol=1e-10)  # symmetric in gamma
    assert result.ntk_init.shape == (0, 1, 9)


@pytest.mark.slow
def test_wide_networks_follow_the_angle_curves_before_and_after_training():
    gammas = np.linspace(-np.pi, np.pi, 9)
    # the width, seeds, data and steps of the ntk_change test: the same compiled training
    result = angle_kernels(RELU, gammas, widths=[1024], seeds=[0, 1, 2], x_train=X, y_train=Y,
                           learning_rate=1.0, steps=50)
    for name, analytic in (("ntk", result.ntk), ("nngp", result.nngp)):
        for when in ("init", "trained"):
            curve = getattr(result, f"{name}_{when}")[0].mean(axis=0)
            assert np.max(np.abs(curve - analytic)) < 0.1 * np.max(analytic), (name, when)
    moved = np.abs(result.ntk_trained - result.ntk_init).max()
    assert 0 < moved < 0.05 * result.ntk.max()


@pytest.mark.parametrize("call, message", [
    (lambda: ntk_spectrum(SPEC, X, [], [0]), r"ntk_spectrum\(widths=\[\]\): widths must be a "
                                             r"non-empty list of positive integers <= 8192"),
    (lambda: ntk_spectrum(SPEC, X, [0, 4], [0]), r"ntk_spectrum\(widths=0\): widths must be a "
                                                 r"positive integer"),
    (lambda: ntk_spectrum(SPEC, X, [64], [0], limits=Limits(max_width=32)),
     r"widths=64\): widths must be a positive integer <= 32"),
    (lambda: ntk_spectrum(SPEC, X, [4, 4], [0]), r"widths must be a list of distinct values"),
    (lambda: ntk_spectrum(SPEC, X, [4], []), r"ntk_spectrum\(seeds=\[\]\): seeds must be a "
                                             r"non-empty list"),
    (lambda: ntk_spectrum(SPEC, X, [4], [-1]), r"seeds must be a non-empty list of at most "
                                               r"4096 whole numbers >= 0"),
    (lambda: ntk_spectrum(SPEC, X, [4], [1, 1]), r"seeds must be a list of distinct seeds"),
    (lambda: ntk_spectrum(SPEC, np.full((3, 2), np.nan), [4], [0]),
     r"ntk_spectrum\(x=<array of shape \(3, 2\)>\): x must be finite"),
    (lambda: ntk_spectrum(SPEC, X, [4], [0], on_progress="x"),
     r"ntk_spectrum\(on_progress='x'\): on_progress must be None or a callable"),
    (lambda: ntk_change(SPEC, X, Y, [4], [0], learning_rate=-1.0, steps=5),
     r"ntk_change\(learning_rate=-1.0\): learning_rate must be a positive finite number"),
    (lambda: ntk_change(SPEC, X, Y, [4], [0], learning_rate=1.0, steps=-5),
     r"ntk_change\(steps=<array of shape \(1,\)>\): steps must be whole step counts >= 0"),
    (lambda: ntk_change(SPEC, X, Y[:3], [4], [0], learning_rate=1.0, steps=5),
     r"ntk_change\(y_train=<array of shape \(3, 1\)>\): y_train must be a numeric array of "
     r"shape \(8, 1\)"),
    (lambda: angle_kernels(SPEC, []), r"angle_kernels\(angles=<array of shape \(0,\)>\): angles "
                                      r"must be a 1-D array of 1 to 4096 finite angles"),
    (lambda: angle_kernels(SPEC, [0.0, np.inf]), r"angles must be a 1-D array"),
    (lambda: angle_kernels(SPEC, [0.0], widths=[8], steps=5),
     r"angle_kernels\(x_train=None\): x_train must be given \(with y_train\) when steps > 0"),
    (lambda: angle_kernels(SPEC, [0.0], widths=[8], x_train=np.ones((3, 3)), y_train=Y[:3],
                           steps=5),
     r"angle_kernels\(x_train=<array of shape \(3, 3\)>\): x_train must be an array of shape "
     r"\(N, 2\)"),
    (lambda: residual_modes(SPEC, X, Y, width=0, ensemble_size=2, learning_rate=1.0,
                            steps=[0, 1]),
     r"train_ensemble\(width=0\): width must be a positive integer"),
])
def test_argument_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
