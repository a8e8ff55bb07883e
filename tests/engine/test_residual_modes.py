"""The train residual along the analytic NTK's eigenvectors (engine.residual_modes).

Linearised GD maps v_i^T r_t = (1 - eta lambda_i / |Y|)^t v_i^T r_0 (Jacot et al. 2018, §5):
wide networks follow it direction by direction, narrow ones do not."""
import numpy as np
import pytest

import engine
from engine.sweeps.angles import circle
from engine.finite.residual_modes import _magnitude

RELU = [["Dense", {"out_dim": 1, "W_std": 1.4, "b_std": 0.1}], ["Relu", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.4, "b_std": 0.1}], ["Relu", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.4, "b_std": 0.1}]]
ANGLES = np.linspace(0.0, 2 * np.pi, 8, endpoint=False) + 0.3
X = circle(ANGLES)
Y = np.sin(2 * ANGLES)[:, None]
STEPS = [0, 1, 5, 20, 50]


def test_magnitude_of_linear_dynamics_is_the_decay_factor():
    """p_t = c^t p_0 for every network and output: mean |p_t| / mean |p_0| = |c|^t."""
    rng = np.random.default_rng(0)
    start = rng.normal(size=(5, 1, 3, 2))                  # (M, 1, N, k)
    factors = np.array([0.5, -0.9, 1.0])                   # one per direction
    t = np.arange(4)[None, :, None, None]
    projections = start * factors[None, None, :, None] ** t
    np.testing.assert_allclose(_magnitude(projections), np.abs(factors)[None, :] ** t[0, :, :, 0],
                               rtol=1e-12)
    assert _magnitude(projections[:, :0]).shape == (0, 3)


def test_residual_modes_is_exported_with_its_record():
    assert engine.residual_modes.__module__ == "engine.finite.residual_modes"
    assert "magnitude" in engine.ResidualModes.__dataclass_fields__


@pytest.mark.slow
def test_wide_networks_follow_each_direction_narrow_ones_do_not():
    """8 networks of width 256 against width 4 (about 20 s, two compilations).

    Tolerance: a network's NTK deviates from the limit by O(1/sqrt(width)) (Jacot et al.
    2018), i.e. ~0.06 x a constant of order 1 at width 256. Seen over seeds 0, 8, ..., 32:
    the largest |magnitude - |prediction|| per direction 0.01-0.23, the mean 0.012-0.031;
    at width 4 the mean is 0.37-0.64. Asserted: every direction within 0.3 at every step,
    the mean within 0.05, and width 4 at least 5 times further off on average."""
    errors = {}
    for width in (256, 4):
        r = engine.residual_modes(RELU, X, Y, width=width, ensemble_size=8,
                                  learning_rate=1.0, steps=STEPS)
        assert r.projections.shape == (8, len(STEPS), 8, 1) and not r.stopped
        np.testing.assert_allclose(r.magnitude[0], 1.0)
        errors[width] = np.abs(r.magnitude - np.abs(r.predicted_discrete))
    # the prediction: each direction at its own rate, the largest eigenvalues first
    rate = 1.0 * r.eigenvalues / Y.size
    np.testing.assert_allclose(r.predicted_discrete,
                               (1 - rate[None, :]) ** np.array(STEPS)[:, None], rtol=1e-12)
    assert np.all(np.diff(r.eigenvalues) <= 0) and r.eigenvalues[0] > 4 * r.eigenvalues[-1]
    wide, narrow = errors[256], errors[4]
    assert np.all(wide.max(axis=0) < 0.3), wide.max(axis=0)
    assert wide.mean() < 0.05, wide.mean()
    assert narrow.mean() > 5 * wide.mean(), (narrow.mean(), wide.mean())
