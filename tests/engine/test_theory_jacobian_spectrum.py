"""The free-probability density of a deep network's squared Jacobian singular values
(Pennington et al. 2017): a probability density with jacobian_law's moments, Marchenko-Pastur
for one linear layer, and the law finite networks approach as their width grows."""
import math

import numpy as np
import pytest

from engine import stax
from engine.theory import jacobian_spectrum as js
from engine.theory import random_matrix as rm
from engine.theory import signal_propagation as sp

B_STD = math.sqrt(0.05)


def _mass(spectrum, power=0):
    """The integral of x^power rho(x), by the trapezoid rule in log x (the grid's spacing)."""
    f = spectrum.x ** power * spectrum.density * spectrum.x
    return float(np.sum(np.diff(np.log(spectrum.x)) * (f[1:] + f[:-1]) / 2))


def _critical(activation):
    return sp.critical_w_std(activation, B_STD, steps=30)


@pytest.mark.parametrize("activation, w_std, b_std, depth, zero_mass", [
    (stax.Erf(), None, B_STD, 4, 0.0),   # the critical line, closed-form dual
    (stax.Tanh(), None, B_STD, 6, 0.0),  # the critical line, quadrature dual
    (stax.Relu(), math.sqrt(2), 0.0, 3, 0.5),  # phi' = 0 half the time: an atom at 0
    (stax.Erf(), 2.0, 0.3, 3, 0.0),      # chaotic: the spectrum spreads over many decades
])
def test_density_integrates_to_one_with_the_moments_of_jacobian_law(activation, w_std, b_std,
                                                                    depth, zero_mass):
    """Mass 1 (with the atom) to 5e-5; mean and variance equal jacobian_law's (closed forms of
    the same S-transform) to 2e-4 relative: the trapezoid rule's error at the upper edge's
    square root, on a grid of 25 points per e-fold of x / (x+ - x)."""
    w_std = _critical(activation) if w_std is None else w_std
    spectrum = js.jacobian_spectrum(activation, w_std, b_std, depth)
    law = rm.jacobian_law(activation, w_std, b_std, depth)
    assert math.isclose(spectrum.zero_mass, zero_mass, abs_tol=1e-12)
    assert math.isclose(_mass(spectrum) + spectrum.zero_mass, 1, abs_tol=5e-5)
    mean = _mass(spectrum, 1)
    assert math.isclose(mean, law.mean, rel_tol=2e-4), (mean, law)
    assert math.isclose(_mass(spectrum, 2) - mean ** 2, law.variance, rel_tol=2e-4)
    assert np.all(spectrum.density >= 0) and np.all(np.diff(spectrum.x) > 0)
    assert spectrum.x[-1] <= spectrum.upper_edge < spectrum.x[-1] * (1 + 1e-6)
    np.testing.assert_allclose(spectrum.log10_density,
                               spectrum.density * spectrum.x * math.log(10))
    k = int(np.searchsorted(spectrum.x, law.mean))  # a grid point next to the mean
    above = type(spectrum)(spectrum.x[k:], spectrum.density[k:], 0.0, spectrum.upper_edge)
    below = spectrum.cdf([0.0, spectrum.x[0], spectrum.x[k], spectrum.upper_edge])
    assert below[0] == below[1] and abs(below[1] - zero_mass) < 5e-5 and below[3] == 1
    assert math.isclose(below[2], 1 - _mass(above), abs_tol=1e-12)


def test_quadrature_over_h_has_converged(monkeypatch):
    """The density of a chaotic erf network (D^2 spread over decades) with 1200 and with 2400
    nodes over h agrees to 1e-7 of its peak at every point of the grid (measured: 5e-8, in
    the tail near 10^-250; 1e-11 above 10^-70)."""
    coarse = js.jacobian_spectrum(stax.Erf(), 2.42, 0.472, 3)
    monkeypatch.setattr(js, "NODES", 2 * js.NODES)
    fine = js.jacobian_spectrum(stax.Erf(), 2.42, 0.472, 3)
    assert coarse.x.size == fine.x.size
    np.testing.assert_allclose(coarse.log10_density, fine.log10_density,
                               atol=1e-7 * fine.log10_density.max())


@pytest.mark.parametrize("w_std", [1.0, 0.7])
def test_linear_depth_one_is_marchenko_pastur(w_std):
    """J = W: the squared singular values of a square Gaussian matrix, W_std^2 times
    Marchenko-Pastur at ratio 1 (density to 1e-8 relative away from the edges)."""
    spectrum = js.jacobian_spectrum(stax.Identity(), w_std, 0.0, 1)
    scale = w_std ** 2
    assert math.isclose(spectrum.upper_edge, 4 * scale, rel_tol=1e-9)
    inside = (spectrum.x > 1e-6 * scale) & (spectrum.x < 3.99 * scale)
    expected = rm.marchenko_pastur_density(spectrum.x[inside] / scale, 1.0) / scale
    np.testing.assert_allclose(spectrum.density[inside], expected, rtol=1e-8)


def test_finite_networks_approach_the_law_as_width_grows():
    """Kolmogorov distance between the squared singular values of finite Jacobians (erf on
    the critical line, depth 4, 3 seeds per width) and the law. Measured (3 seeds): width 16
    0.127, 64 0.046, 256 0.013, 512 0.014, 1024 0.008 (the network's own lengths and
    derivatives fluctuate like 1 / sqrt(n); a linear network falls like 1 / n: 0.018, 0.006,
    0.0034 at 128, 512, 1024). Bounds: falling, and a quarter of width 16's at 256."""
    activation = stax.Erf()
    w_std = _critical(activation)
    spectrum = js.jacobian_spectrum(activation, w_std, B_STD, 4)
    distance = [np.mean([rm.kolmogorov_distance(
        rm.jacobian_singular_values(activation, w_std, B_STD, n, 4, seed=s) ** 2,
        spectrum.x, spectrum.density) for s in range(3)]) for n in (16, 64, 256)]
    assert distance[0] > distance[1] > distance[2], distance
    assert distance[2] < distance[0] / 4 and distance[2] < 0.03, distance


@pytest.mark.parametrize("call, message", [
    (lambda: js.jacobian_spectrum(stax.Erf(), 1.0, 0.0, 0),
     r"jacobian_spectrum\(depth=0\): the depth must be an integer >= 1"),
    (lambda: js.jacobian_spectrum(stax.Erf(), 1.0, 0.0, 2.5),
     r"jacobian_spectrum\(depth=2.5\): the depth must be an integer >= 1"),
    (lambda: js.jacobian_spectrum(stax.Erf(), 0.0, 0.0, 2),
     r"jacobian_spectrum\(w_std=0.0\): W_std must be a number in \(0, 1e100\)"),
    (lambda: js.jacobian_spectrum(stax.Erf(), 1.0, -0.1, 2),
     r"jacobian_spectrum\(b_std=-0.1\): b_std must be a number in \[0, 1e100\)"),
    (lambda: js.jacobian_spectrum(stax.Relu(), 2.0, 0.1, 3),
     r"jacobian_spectrum\(w_std=2.0\): the lengths grow without bound, there is no fixed "
     r"length q\* to start the Jacobian at"),
    (lambda: js.jacobian_spectrum(stax.Sign(), 1.0, 0.0, 2),
     r"jacobian_spectrum\(activation=Sign\): phi' is 0 almost everywhere at q\* = 1, so the "
     r"Jacobian is 0"),
    (lambda: rm.jacobian_law(stax.Sign(), 1.0, 0.0, 2),  # was a ZeroDivisionError
     r"jacobian_law\(activation=Sign\): phi' is 0 almost everywhere at q\* = 1, so the "
     r"Jacobian is 0"),
])
def test_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_a_newton_failure_is_reported_not_drawn(monkeypatch):
    monkeypatch.setattr(js, "ITERATIONS", 0)
    with pytest.raises(ArithmeticError, match=r"jacobian_spectrum: Newton's method did not "
                                              r"converge at x = "):
        js.jacobian_spectrum(stax.Erf(), 1.0, 0.0, 2)


def test_relu_derivative_moments_have_no_node_on_the_kink():
    """mu_1 = mu_2 = 1/2 for ReLU, so J J^T's variance is depth * 2 (an odd Gauss-Hermite
    rule put a node of weight 0.06 at h = 0, where JAX's phi'(0) is 1/2: mu_1 read 0.478)."""
    np.testing.assert_allclose(rm.derivative_moments(stax.Relu(), 1.0), [0.5, 0.5], rtol=1e-12)
    assert math.isclose(rm.jacobian_law(stax.Relu(), math.sqrt(2), 0.0, 3).variance, 6,
                        rel_tol=1e-12)
