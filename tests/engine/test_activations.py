"""Activations: closed forms agree with the numerical dual, definitions, stability, errors.

The dual of a layer is read through its kernel function on a hand-made Kernel whose entries
cover variances 0.2..5 and correlations from -1 to 1 (including 1 -+ 1e-6).
"""
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.special import erf
from numpy.polynomial import hermite_e

import engine
from engine import stax
from engine.kernel import Kernel
from engine.layers.arccosine import arccos_polynomials

Q1 = np.array([0.2, 1.0, 2.5, 5.0])
Q2 = np.array([0.5, 1.0, 1.7, 4.0, 0.5, 1.0, 1.7, 4.0])
RHO = np.array([-1.0, -1 + 1e-6, -0.6, 0.0, 0.3, 0.9, 1 - 1e-6, 1.0])


def dual(network, q1=Q1, q2=Q2, rho=RHO):
    """(E[phi phi], E[phi' phi'], E[phi(u)^2] for u ~ N(0, q1)) of a one-layer network."""
    q12 = rho[None, :] * np.sqrt(q1)[:, None] * np.sqrt(q2)[None, :]
    k = Kernel(nngp=jnp.asarray(q12), ntk=jnp.ones_like(q12), cov1=jnp.asarray(q1),
               cov2=jnp.asarray(q2), channels=1, spatial=0, diagonal=False, is_gaussian=True)
    out = jax.jit(network.layer.kernel)(k)
    return np.asarray(out.nngp), np.asarray(out.ntk), np.asarray(out.cov1)


def rel(a, b):
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12))


def normal_cdf_times_x(x):
    return x * 0.5 * (1 + erf(x / math.sqrt(2)))


def erf_abc(x):
    return 0.7 * erf(1.3 * x) + 0.1


def erf_nngp(cov12, var1, var2):
    return 2 / jnp.pi * jnp.arcsin(2 * cov12 / jnp.sqrt((1 + 2 * var1) * (1 + 2 * var2)))


CLOSED_VS_NUMERICAL = {
    "Erf": (stax.Erf(0.7, 1.3, 0.1), erf_abc),
    "Sigmoid_like": (stax.Sigmoid_like(), lambda x: 0.5 * erf(x / 2.4020563531719796) + 0.5),
    "Gelu": (stax.Gelu(), normal_cdf_times_x),
    "Sin": (stax.Sin(1.2, 0.9, 0.3), lambda x: 1.2 * jnp.sin(0.9 * x + 0.3)),
    "Cos": (stax.Cos(1.2, 0.9, 0.3), lambda x: 1.2 * jnp.cos(0.9 * x + 0.3)),
    "Rbf": (stax.Rbf(0.5), lambda x: math.sqrt(2) * jnp.sin(x + math.pi / 4)),
    "Exp": (stax.Exp(0.8, 0.5), lambda x: 0.8 * jnp.exp(0.5 * x)),
    "Gaussian": (stax.Gaussian(0.8, -0.7), lambda x: 0.8 * jnp.exp(-0.7 * x ** 2)),
    "Polynomial": (stax.Polynomial([0.1, 1.0, 0.5, -0.2]),
                   lambda x: 0.1 + x + 0.5 * x ** 2 - 0.2 * x ** 3),
    "Monomial0": (stax.Monomial(0), lambda x: jnp.ones_like(x)),
    "Monomial3": (stax.Monomial(3), lambda x: x ** 3),
    "Hermite4": (stax.Hermite(4), lambda x: (x ** 4 - 6 * x ** 2 + 3) / math.sqrt(24)),
}


@pytest.mark.parametrize("name", sorted(CLOSED_VS_NUMERICAL))
def test_closed_form_matches_numerical_dual(name):
    closed, fn = CLOSED_VS_NUMERICAL[name]
    exact = dual(closed)
    numerical = dual(stax.Elementwise(fn))
    for a, b in zip(numerical, exact):
        assert rel(a, b) < 1e-6


def test_user_nngp_fn_gets_its_ntk_by_autodiff():
    exact = dual(stax.Erf())
    auto = dual(stax.Elementwise(erf, nngp_fn=erf_nngp))
    for a, b in zip(auto, exact):
        assert rel(a, b) < 1e-12


def reference_2d(fn, q11, q12, q22, nodes=801, half_width=12.0):
    """An independent E[f(u) f(v)] by the 2-D trapezoidal rule (NumPy, Cholesky transform)."""
    z = np.linspace(-half_width, half_width, nodes)
    w = np.exp(-z ** 2 / 2)
    w /= w.sum()
    rho = np.clip(q12 / np.sqrt(q11 * q22), -1, 1)
    z1, z2 = np.meshgrid(z, z, indexing="ij")
    v = np.sqrt(q22) * (rho * z1 + np.sqrt(1 - rho ** 2) * z2)
    return float(np.sum(np.outer(w, w) * fn(np.sqrt(q11) * z1) * fn(v)))


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


NUMERICAL = {  # name: (network, phi, phi') in NumPy
    "Tanh": (stax.Tanh(), np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "Sigmoid": (stax.Sigmoid(), sigmoid, lambda x: sigmoid(x) * (1 - sigmoid(x))),
    "Softplus": (stax.Softplus(), lambda x: np.logaddexp(0, x), sigmoid),
    "Silu": (stax.Silu(), lambda x: x * sigmoid(x),
             lambda x: sigmoid(x) * (1 + x * (1 - sigmoid(x)))),
}


@pytest.mark.parametrize("name", sorted(NUMERICAL))
def test_numerical_dual_matches_2d_reference(name):
    network, fn, dfn = NUMERICAL[name]
    q1, q2 = np.array([0.2, 5.0]), np.array([1.0, 4.0, 1.7, 4.0])
    rho = np.array([-1, -0.6, 0.9, 1])
    nngp, ntk, _ = dual(network, q1, q2, rho)
    for f, mine in ((fn, nngp), (dfn, ntk)):
        ref = np.array([[reference_2d(f, q1[i], rho[j] * math.sqrt(q1[i] * q2[j]), q2[j])
                         for j in range(4)] for i in range(2)])
        assert rel(mine, ref) < 1e-9


def test_hermite_has_neural_tangents_dual_at_unit_variance():
    ones, rho = np.ones(4), np.array([-1.0, -0.3, 0.5, 1.0])
    for degree in range(7):
        nngp, ntk, cov1 = dual(stax.Hermite(degree), ones, ones, rho)
        np.testing.assert_allclose(nngp, np.broadcast_to(rho ** degree, (4, 4)), atol=1e-12)
        slope = degree * rho ** (degree - 1) if degree else 0 * rho
        np.testing.assert_allclose(ntk, np.broadcast_to(slope, (4, 4)), atol=1e-12)
        np.testing.assert_allclose(cov1, 1.0, atol=1e-12)


def test_monomial_matches_isserlis():
    nngp, ntk, cov1 = dual(stax.Monomial(2))
    q12 = RHO[None, :] * np.sqrt(Q1[:, None] * Q2[None, :])
    np.testing.assert_allclose(nngp, 2 * q12 ** 2 + Q1[:, None] * Q2[None, :], rtol=1e-12)
    np.testing.assert_allclose(ntk, 4 * q12, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(cov1, 3 * Q1 ** 2, rtol=1e-12)


def test_rectified_monomials_extend_relu_and_sign():
    for a, b in zip(dual(stax.RectifiedMonomial(1)), dual(stax.Relu())):
        assert rel(a, b) < 1e-12
    step, sign = dual(stax.RectifiedMonomial(0)), dual(stax.Sign())
    assert rel(4 * step[0] - 1, sign[0]) < 1e-12  # sign = 2 step - 1, E[step] = 1/2
    assert np.all(step[1] == 0) and np.all(sign[1] == 0)  # NTK factor taken as 0
    # Cho & Saul's J_2 = 3 sin cos + (pi - t)(1 + 2 cos^2),
    # J_3 = 4 sin^3 + 15 sin cos^2 + (pi - t)(9 cos + 6 cos^3) = sin (4 + 11 cos^2) + ...
    assert arccos_polynomials(3)[2:] == [((0.0, 3.0), (1.0, 0.0, 2.0)),
                                         ((4.0, 0.0, 11.0), (0.0, 9.0, 0.0, 6.0))]
    for degree in (2, 3):
        exact = dual(stax.RectifiedMonomial(degree))
        numerical = dual(stax.Elementwise(lambda x, n=degree: jnp.where(x >= 0, x ** n, 0.0)))
        assert rel(numerical[0], exact[0]) < 1e-6  # kinks: the expansion converges slowly
        assert rel(numerical[1], exact[1]) < 1e-4


@pytest.mark.parametrize("name", ["Gelu", "Sin", "Cos", "Rbf", "Exp", "Gaussian", "Sign",
                                  "Monomial", "Polynomial", "Hermite", "RectifiedMonomial",
                                  "Sigmoid_like", "Tanh", "Sigmoid", "Softplus", "Silu", "Relu",
                                  "Erf"])
def test_no_nan_on_equal_or_zero_variances(name):
    args = {"Monomial": (3,), "Hermite": (3,), "RectifiedMonomial": (1,), "Polynomial": ([1, 2, 3],)}
    network = stax.LAYERS[name](*args.get(name, ()))
    q = np.array([0.0, 1e-300, 1e-8, 1.0, 7.0])
    out = dual(network, q, q, np.ones(5))  # q12 = q11 = q22 on the diagonal, 0 for q = 0
    assert all(np.isfinite(a).all() for a in out)
    np.testing.assert_allclose(np.diag(out[0]), out[2], rtol=1e-12, atol=1e-300)


def test_exp_does_not_overflow_at_moderate_variances():
    q = np.array([20.0, 50.0])
    nngp, ntk, cov1 = dual(stax.Exp(1.0, 1.0), q, q, np.array([1.0, -1.0]))
    assert np.isfinite(nngp).all() and np.isfinite(ntk).all()
    np.testing.assert_allclose(cov1, np.exp(2 * q), rtol=1e-12)


def test_divergent_gaussian_is_inf_not_nan():
    nngp, ntk, _ = dual(stax.Gaussian(1.0, 1.0), np.array([0.1, 1.0]), np.array([0.1, 1.0]),
                        np.array([0.5, 0.5]))
    assert np.isfinite(nngp[0, 0]) and np.isinf(nngp[1, 1]) and not np.isnan(ntk).any()


def test_numerical_dual_memory_bounded_path_agrees(monkeypatch):
    from engine.layers import quadrature
    network = stax.Elementwise(jnp.tanh)
    whole = dual(network)
    monkeypatch.setattr(quadrature, "BUDGET", 3000)  # 2 variances per batch: lax.map path
    for a, b in zip(dual(stax.Elementwise(jnp.tanh)), whole):
        assert rel(a, b) < 1e-13


X = np.linspace(-3, 3, 13)[:, None]


@pytest.mark.parametrize("network, phi", [
    (stax.Gelu(), lambda x: x * 0.5 * (1 + np.vectorize(math.erf)(x / math.sqrt(2)))),
    (stax.Sin(1.5, 2.0, 0.3), lambda x: 1.5 * np.sin(2 * x + 0.3)),
    (stax.Cos(1.5, 2.0, 0.3), lambda x: 1.5 * np.cos(2 * x + 0.3)),
    (stax.Rbf(0.7), lambda x: math.sqrt(2) * np.sin(math.sqrt(1.4) * x + math.pi / 4)),
    (stax.Exp(0.5, 0.7), lambda x: 0.5 * np.exp(0.7 * x)),
    (stax.Gaussian(), lambda x: np.exp(-x ** 2)),
    (stax.Sign(), np.sign),
    (stax.Monomial(3), lambda x: x ** 3),
    (stax.Polynomial([0.1, -1.0, 0.5]), lambda x: 0.1 - x + 0.5 * x ** 2),
    (stax.Hermite(5), lambda x: hermite_e.hermeval(x, [0] * 5 + [1]) / math.sqrt(120)),
    (stax.Hermite(0), lambda x: np.ones_like(x)),
    (stax.RectifiedMonomial(2), lambda x: np.where(x >= 0, x ** 2, 0.0)),
    (stax.RectifiedMonomial(0), lambda x: (x >= 0) * 1.0),
    (stax.Sigmoid_like(), lambda x: 0.5 * np.vectorize(math.erf)(x / 2.4020563531719796) + 0.5),
    (stax.Tanh(), np.tanh),
    (stax.Sigmoid(), sigmoid),
    (stax.Softplus(), lambda x: np.log1p(np.exp(x))),
    (stax.Silu(), lambda x: x * sigmoid(x)),
    (stax.Elementwise(jnp.arctan), np.arctan),
    (stax.ElementwiseNumerical(jnp.arctan, 50), np.arctan),
])
def test_apply_is_the_documented_function(network, phi):
    np.testing.assert_allclose(network.apply_fn((), X), phi(X), rtol=1e-12, atol=1e-14)


def test_gelu_approximate_changes_only_the_finite_network():
    exact, approx = stax.Gelu(), stax.Gelu(approximate=True)
    assert not np.allclose(exact.apply_fn((), X), approx.apply_fn((), X), rtol=1e-6)
    for a, b in zip(dual(exact), dual(approx)):
        np.testing.assert_array_equal(a, b)


def test_layers_are_hashable_and_compare_by_arguments():
    assert stax.Tanh().layer == stax.Tanh().layer
    assert stax.Polynomial([1, 2]).layer == stax.Polynomial((1, 2)).layer
    assert hash(stax.Sin(1.0, 2.0).layer) == hash(stax.Sin(1.0, 2.0).layer)
    assert stax.Sin().layer != stax.Cos().layer
    assert stax.Elementwise(jnp.sin).layer == stax.Elementwise(jnp.sin).layer
    assert stax.Elementwise(jnp.sin).layer != stax.Elementwise(jnp.cos).layer
    assert stax.Elementwise(nngp_fn=erf_nngp).layer != stax.Elementwise(erf, erf_nngp).layer


def test_json_spec_builds_every_closed_form():
    spec = [["Dense", {"out_dim": 4, "W_std": 1.1}], ["Polynomial", {"coef": [0.1, 1.0, 0.5]}],
            ["Dense", {"out_dim": 4}], ["Hermite", {"degree": 2}], ["Dense", {"out_dim": 4}],
            ["Cos", {"a": 1.0, "b": 0.9}], ["Dense", {"out_dim": 4}], ["Tanh", {}],
            ["Dense", {"out_dim": 1}]]
    k = engine.build(spec).kernel_fn(np.eye(3), get="ntk")
    assert k.shape == (3, 3) and np.isfinite(k).all()


ERRORS = [
    (lambda: stax.Sin(a="x"), r"^Sin\(a='x'\): a must be a number$"),
    (lambda: stax.Sin(b=float("nan")), r"^Sin\(b=nan\): b must be finite$"),
    (lambda: stax.Cos(c=float("inf")), r"^Cos\(c=inf\): c must be finite$"),
    (lambda: stax.Rbf(gamma=-1.0), r"^Rbf\(gamma=-1.0\): gamma must be non-negative$"),
    (lambda: stax.Exp(a=None), r"^Exp\(a=None\): a must be a number$"),
    (lambda: stax.Exp(b=True), r"^Exp\(b=True\): b must be a number$"),
    (lambda: stax.Gaussian(a="1"), r"^Gaussian\(a='1'\): a must be a number$"),
    (lambda: stax.Gaussian(b=float("-inf")), r"^Gaussian\(b=-inf\): b must be finite$"),
    (lambda: stax.Gelu(approximate="yes"),
     r"^Gelu\(approximate='yes'\): approximate must be True or False$"),
    (lambda: stax.Relu(do_stabilize=1), r"^Relu\(do_stabilize=1\): do_stabilize must be True or False$"),
    (lambda: stax.LeakyRelu(0.1, do_stabilize=None),
     r"^LeakyRelu\(do_stabilize=None\): do_stabilize must be True or False$"),
    (lambda: stax.Abs(do_stabilize="no"), r"^Abs\(do_stabilize='no'\): do_stabilize must be True or False$"),
    (lambda: stax.ABRelu(0.0, 1.0, 2), r"^ABRelu\(do_stabilize=2\): do_stabilize must be True or False$"),
    (lambda: stax.Monomial(degree=-1), r"^Monomial\(degree=-1\): degree must be a non-negative integer$"),
    (lambda: stax.Monomial(2.0), r"^Monomial\(degree=2.0\): degree must be a non-negative integer$"),
    (lambda: stax.Monomial(True), r"^Monomial\(degree=True\): degree must be a non-negative integer$"),
    (lambda: stax.Monomial(101), r"^Monomial\(degree=101\): degree must be at most 100$"),
    (lambda: stax.Hermite(-2), r"^Hermite\(degree=-2\): degree must be a non-negative integer$"),
    (lambda: stax.RectifiedMonomial("2"),
     r"^RectifiedMonomial\(degree='2'\): degree must be a non-negative integer$"),
    (lambda: stax.Polynomial([]),
     r"^Polynomial\(coef=\[\]\): coef must be a non-empty sequence of numbers, lowest power first$"),
    (lambda: stax.Polynomial(3), r"^Polynomial\(coef=3\): coef must be a non-empty sequence"),
    (lambda: stax.Polynomial("12"), r"^Polynomial\(coef='12'\): coef must be a non-empty sequence"),
    (lambda: stax.Polynomial([1.0, "a"]), r"^Polynomial\(coef\[1\]='a'\): coef\[1\] must be a number$"),
    (lambda: stax.Polynomial([1.0, float("nan")]), r"^Polynomial\(coef\[1\]=nan\): coef\[1\] must be finite$"),
    (lambda: stax.Polynomial([0.0] * 102),
     r"^Polynomial\(coef=<102 numbers>\): at most 101 coefficients \(degree 100\)$"),
    (lambda: stax.Elementwise(), r"^Elementwise\(fn=None, nngp_fn=None\): give fn \(the activation\) "
                                 r"or nngp_fn \(its kernel map\), or both$"),
    (lambda: stax.Elementwise(fn=3),
     r"^Elementwise\(fn=3\): fn must be a function \(a JAX-traceable callable\) or None$"),
    (lambda: stax.Elementwise(jnp.sin, nngp_fn="k"),
     r"^Elementwise\(nngp_fn='k'\): nngp_fn must be a function \(a JAX-traceable callable\) or None$"),
    (lambda: stax.Elementwise(jnp.sin, d_nngp_fn=erf_nngp),
     r"^Elementwise\(d_nngp_fn=...\): d_nngp_fn needs nngp_fn; without nngp_fn both kernel maps "
     r"are computed numerically from fn$"),
    (lambda: stax.Elementwise(nngp_fn=erf_nngp).apply_fn((), X),
     r"^Elementwise\(fn=None\): the finite network needs fn; this layer defines only the kernel \(nngp_fn\)$"),
    (lambda: stax.ElementwiseNumerical(None, 10),
     r"^ElementwiseNumerical\(fn=None\): fn must be a function \(a JAX-traceable callable\)$"),
    (lambda: stax.ElementwiseNumerical(jnp.tanh, 0), r"^ElementwiseNumerical\(deg=0\): deg must be a positive integer$"),
    (lambda: stax.ElementwiseNumerical(jnp.tanh, 2.5), r"^ElementwiseNumerical\(deg=2.5\): deg must be an integer$"),
    (lambda: stax.ElementwiseNumerical(jnp.tanh, 10, df=1.0),
     r"^ElementwiseNumerical\(df=1.0\): df must be a function \(a JAX-traceable callable\) or None$"),
    (lambda: engine.build([["Tanh", {}], ["Dense", {"out_dim": 1}]]).kernel_fn(X),
     r"^layer 0 \(Tanh\): its input must be Gaussian"),
    (lambda: engine.build([["Dense", {"out_dim": 2}], ["Sin", {"a": "x"}]]),
     r"^layer 1 \(Sin\): Sin\(a='x'\): a must be a number$"),
    (lambda: engine.build([["Dense", {"out_dim": 2}], ["Tanh", {"b": 1.0}]]),
     r"^layer 1 \(Tanh\): unknown argument 'b'; Tanh accepts \[\]$"),
    (lambda: engine.build([["Dense", {"out_dim": 2}], ["Hermite", {"degree": -1}]]),
     r"^layer 1 \(Hermite\): Hermite\(degree=-1\): degree must be a non-negative integer$"),
]


@pytest.mark.parametrize("make, message", ERRORS, ids=[m[1:40] for _, m in ERRORS])
def test_error_messages(make, message):
    with pytest.raises(ValueError, match=message):
        make()
