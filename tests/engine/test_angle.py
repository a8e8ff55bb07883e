"""engine.layers.angle: the vectorised arccos of the arc-cosine duals, which arrays get it, and
the derivatives of arccos, arcsin and sine (exact inside (-1, 1), 0 at the ends)."""
import math

import jax
import jax.numpy as jnp
import numpy as np

from engine import stax
from engine.layers import angle
from engine.layers.angle import POLYNOMIAL_SIZE, arccos, arcsin, polynomial_arccos, sine


def test_the_polynomial_is_within_two_ulp_of_numpy_on_the_whole_interval():
    x = np.concatenate([np.linspace(-1, 1, 100_001), [0.5, -0.5, np.nextafter(0.5, 1),
                                                      np.nextafter(-0.5, -1), 0.0]])
    ours, ref = np.asarray(jax.jit(polynomial_arccos)(x)), np.arccos(x)
    assert np.all(np.abs(ours - ref) <= 2 * np.spacing(ref))
    assert float(polynomial_arccos(1.0)) == 0.0 and float(polynomial_arccos(-1.0)) == math.pi


def test_the_polynomial_slope_is_minus_one_over_sine():
    x = np.linspace(-0.999, 0.999, 2001)
    slope = np.asarray(jax.vmap(jax.grad(polynomial_arccos))(x))
    np.testing.assert_allclose(slope, -1 / np.sqrt(1 - x * x), rtol=1e-12)


def test_arccos_arcsin_and_sine_have_exact_slopes_inside_and_zero_at_the_ends():
    """Their slopes are infinite at +-1, where the kernels built on them are not differentiable
    in every direction; 0 there (neural-tangents' convention) keeps derivatives finite."""
    x = np.linspace(-0.999, 0.999, 2001)
    root = np.sqrt(1 - x * x)
    for fn, slope in ((arccos, -1 / root), (arcsin, 1 / root), (sine, -x / root)):
        for size in (x.size, POLYNOMIAL_SIZE):  # jnp.arccos and the polynomial
            inside = np.resize(x, size)
            ours = np.asarray(jax.grad(lambda v: fn(v).sum())(jnp.asarray(inside)))
            np.testing.assert_allclose(ours, np.resize(slope, size), rtol=1e-12)
        ends = jnp.array([-1.0, 1.0])
        assert np.array_equal(jax.grad(lambda v: fn(v).sum())(ends), [0.0, 0.0]), fn
    assert np.array_equal(sine(jnp.array([-1.0, 0.0, 1.0])), [0.0, 1.0, 0.0])
    assert float(arcsin(1.0)) == math.pi / 2 and float(arccos(1.0)) == 0.0


def test_large_arrays_take_the_polynomial_and_small_ones_jnp_arccos():
    large = np.linspace(-1, 1, POLYNOMIAL_SIZE)
    small = large[::2]
    np.testing.assert_array_equal(jax.jit(arccos)(large), jax.jit(polynomial_arccos)(large))
    np.testing.assert_array_equal(jax.jit(arccos)(small), jax.jit(jnp.arccos)(small))


def test_a_large_relu_kernel_agrees_with_jnp_arccos(monkeypatch):
    """One ReLU network's kernel on 200 inputs (row chunks of 40,000 entries: the polynomial)
    and with jnp.arccos everywhere (the threshold raised, for a copy of the network whose
    hidden width differs so it is compiled anew; widths do not change a kernel) agree to
    rounding."""
    def net(width):
        return stax.serial(stax.Dense(width, 1.4, 0.1), stax.Relu(), stax.Dense(width, 1.4, 0.1),
                           stax.Relu(), stax.Dense(1, 1.4, 0.1))[2]
    x = np.random.default_rng(0).standard_normal((200, 8))
    fast = net(64)(x, None, ("nngp", "ntk"))
    monkeypatch.setattr(angle, "POLYNOMIAL_SIZE", 10 ** 9)
    slow = net(65)(x, None, ("nngp", "ntk"))
    np.testing.assert_allclose(fast.nngp, slow.nngp, rtol=1e-14)
    np.testing.assert_allclose(fast.ntk, slow.ntk, rtol=1e-14)
    assert not np.array_equal(fast.ntk, slow.ntk)  # two computations, not one cached
