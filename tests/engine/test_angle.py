"""engine.layers.angle.arccos: the vectorised arccos of the arc-cosine duals."""
import math

import jax
import numpy as np

from engine.layers.angle import arccos


def test_arccos_is_within_two_ulp_of_numpy_on_the_whole_interval():
    x = np.concatenate([np.linspace(-1, 1, 100_001), [0.5, -0.5, np.nextafter(0.5, 1),
                                                      np.nextafter(-0.5, -1), 0.0]])
    ours, ref = np.asarray(jax.jit(arccos)(x)), np.arccos(x)
    assert np.all(np.abs(ours - ref) <= 2 * np.spacing(ref))
    assert float(arccos(1.0)) == 0.0 and float(arccos(-1.0)) == math.pi


def test_arccos_slope_is_minus_one_over_sine():
    x = np.linspace(-0.999, 0.999, 2001)
    slope = np.asarray(jax.vmap(jax.grad(arccos))(x))
    np.testing.assert_allclose(slope, -1 / np.sqrt(1 - x * x), rtol=1e-12)
