"""Random-matrix laws against samples: Marchenko-Pastur, the semicircle, and the singular
values of a deep network's input-output Jacobian against the free-probability prediction."""
import math

import numpy as np
import pytest

from engine import stax
from engine.theory import random_matrix as rm
from engine.theory import signal_propagation as sp

B_STD = math.sqrt(0.05)


@pytest.mark.parametrize("name, ratio", [("marchenko_pastur", 0.3), ("marchenko_pastur", 1.0),
                                         ("semicircle", 1.0)])
def test_laws_are_densities_with_the_sample_moments(name, ratio):
    x, density = rm.law(name, ratio)
    mass = np.trapezoid(density, x)
    mean, second = (np.trapezoid(x ** k * density, x) for k in (1, 2))
    assert math.isclose(mass, 1, abs_tol=2e-3)  # the square-root edges cost the rule ~1e-3
    expected = (1.0, 1 + ratio) if name == "marchenko_pastur" else (0.0, 1.0)
    np.testing.assert_allclose([mean, second], expected, atol=3e-3)
    sample = rm.eigenvalues(name, 400, ratio, seed=0)
    np.testing.assert_allclose([sample.mean(), (sample ** 2).mean()], expected, atol=0.03)


@pytest.mark.parametrize("name", rm.LAWS)
def test_kolmogorov_distance_falls_with_width(name):
    fit = rm.fit_law(name, [16, 64, 256], ratio=0.5, seeds=2)
    d = fit.distance.mean(axis=1)
    assert np.all(np.diff(d) < 0) and d[-1] < d[0] / 6, d  # rigid eigenvalues: ~1 / n
    assert d[-1] < 0.03
    assert math.isclose(np.sum(fit.histogram * np.diff(fit.edges)), 1, rel_tol=1e-9)


def test_kolmogorov_distance_of_a_law_with_itself_is_small():
    x, density = rm.law("semicircle")
    fine = np.linspace(-2, 2, 20001)
    cdf = np.cumsum(rm.semicircle_density(fine))
    quantiles = np.interp((np.arange(500) + 0.5) / 500, cdf / cdf[-1], fine)
    assert rm.kolmogorov_distance(quantiles, x, density) < 3e-3


@pytest.mark.parametrize("call, message", [
    (lambda: rm.marchenko_pastur_density(1.0, 1.5), r"marchenko_pastur\(ratio=1.5\): the aspect "
                                                     r"ratio p / n must be a number in \(0, 1\]"),
    (lambda: rm.law("wishart"), r"law\(name='wishart'\): expected one of marchenko_pastur, semicircle"),
    (lambda: rm.wigner_eigenvalues(0), r"wigner_eigenvalues\(n=0\): the width must be an integer >= 1"),
    (lambda: rm.jacobian_law(stax.Relu(), 2.0, 0.1, 3),
     r"jacobian_law\(w_std=2.0\): the lengths grow without bound"),
])
def test_errors_name_the_argument(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_jacobian_singular_values_match_free_probability_on_the_critical_line():
    """Pennington et al. 2017: mean chi_1^L, variance L mu_2 / mu_1^2 of J J^T's spectrum.
    Tolerances: 8 % on the mean and 20 % on the variance at width 256, depth 4, 2 seeds
    (the spectrum's upper tail makes the sample variance the noisier)."""
    act = stax.Erf()  # closed-form dual: compiles in a fraction of tanh's time
    w = sp.critical_w_std(act, B_STD, steps=30)
    law = rm.jacobian_law(act, w, B_STD, 4)
    assert math.isclose(law.chi_1, 1, abs_tol=1e-5) and math.isclose(law.mean, 1, abs_tol=1e-4)
    squares = np.concatenate([rm.jacobian_singular_values(act, w, B_STD, 256, 4, seed=s) ** 2
                              for s in range(2)])
    assert math.isclose(squares.mean(), law.mean, rel_tol=0.08), (squares.mean(), law)
    assert math.isclose(squares.var(), law.variance, rel_tol=0.2), (squares.var(), law)
    # towards isometry: on the critical line a smaller bias (smaller q*) narrows the spectrum
    # to the floor of Gaussian weights, the depth (orthogonal weights would remove it)
    w_small = sp.critical_w_std(act, 0.01, steps=30)
    small = rm.jacobian_law(act, w_small, 0.01, 4).variance
    assert 4 < small < 1.02 * 4 < 1.3 * 4 < law.variance
