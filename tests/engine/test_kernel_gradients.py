"""Derivatives of kernel_fn with respect to its inputs, also where an input of x2 equals one of
x1 (correlation 1: a test point that is a training point, ``kernel_fn(x, x)``, the diagonal of
``kernel_fn(x, None)``).

Against neural-tangents 0.6.5: nt_gradient_reference.json (make_nt_gradient_reference.py, peer
venv) holds jax.jacrev of its nngp and ntk for MLPs with every closed-form activation, deep
ones, LayerNorm and CNNs with pooling. At correlation 1 the arc-cosine kernels (ReLU family,
RectifiedMonomial) are not differentiable in every direction (sqrt(1 - rho^2) ~ |angle|);
neural-tangents gives those square roots slope 0 there, and so do we (engine.layers.angle), so
the derivative is the one along the pair's own direction. Independently of it: central finite
differences along a direction that keeps the pair equal (both inputs moved together), and the
derivative of kernel_fn(x, x) equal to that of kernel_fn(x, None).
"""
import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from engine import Kernel, stax
from tests.engine.make_nt_masking_reference import decode, network

REFERENCE = json.load(open(os.path.join(os.path.dirname(__file__),
                                        "nt_gradient_reference.json")))
#: stages with pairs at correlation 1: neural-tangents' derivative there carries rounding noise
#: of ~1e-8 (the slope of its sqrt(q11 q22 - q12^2) at a rounding-size argument, times a
#: rounding-size tangent: 2^-27 in its Sign), which bounds the agreement
AT_CORRELATION_ONE = {"x2_equal", "x2_shared", "x1_alone"}
#: cases where neural-tangents' derivative at correlation 1 is NaN (0 * inf in its
#: RectifiedMonomial); the finite-difference tests below check ours there
NAN_IN_NT = {"mlp_rectifiedmonomial", "mlp_rectifiedmonomial_1"}


def _jacobians(kernel_fn, x1, at):
    """{get: d kernel_fn(x1, at)[get] / d at} for nngp and ntk, or d kernel_fn(x1, None) / d x1
    when ``at`` is None (one compiled program for both)."""
    if at is None:
        fn, at = (lambda y: kernel_fn(y, None, ("nngp", "ntk"))), x1
    else:
        fn = lambda y: kernel_fn(x1, y, ("nngp", "ntk"))  # noqa: E731
    nngp, ntk = jax.jit(jax.jacrev(fn))(at)
    return {"nngp": np.asarray(nngp), "ntk": np.asarray(ntk)}


def _stage_jacobians(kernel_fn, x1, x2s: dict) -> dict:
    """{stage: _jacobians(kernel_fn, x1, x2)} for each stage's x2 (None: x1 alone). The x2
    stages are one program: kernel_fn(x1, x2) of the x2s stacked, whose column j depends on
    row j of x2 only, so a stage's Jacobian is its block of columns and rows of x2 (and the
    rest is 0): one trace of the reverse pass instead of one per stage, tracing being most of
    this test's time."""
    stacked = {stage: x2 for stage, x2 in x2s.items() if x2 is not None}
    whole = _jacobians(kernel_fn, x1, np.concatenate(list(stacked.values())))
    jacobians, blocks, start = {}, {get: np.zeros_like(j) for get, j in whole.items()}, 0
    for stage, x2 in stacked.items():
        rows = slice(start, start + len(x2))
        jacobians[stage] = {get: jac[:, rows, rows] for get, jac in whole.items()}
        for get in whole:
            blocks[get][:, rows, rows] = jacobians[stage][get]
        start += len(x2)
    for get, jac in whole.items():  # no column moves with another column's input
        np.testing.assert_array_equal(jac, blocks[get], err_msg=get)
    jacobians.update({stage: _jacobians(kernel_fn, x1, None)
                      for stage, x2 in x2s.items() if x2 is None})
    return jacobians


def _points(ref):
    x1 = decode(ref["x1"])
    return x1, {"x2_equal": x1, "x2_shared": decode(ref["x2_shared"]), "x1_alone": None}


def _central_difference(fn, x, h=1e-5):
    """d fn / d x by central differences, shaped like jax.jacrev's (fn compiled once)."""
    fn = jax.jit(fn)
    out = np.asarray(fn(x))
    jac = np.zeros(out.shape + x.shape)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        jac[(...,) + index] = (np.asarray(fn(x + step)) - np.asarray(fn(x - step))) / (2 * h)
    return jac


@pytest.mark.parametrize("case", sorted(REFERENCE))
def test_kernel_derivatives_equal_neural_tangents_and_finite_differences(case):
    """Ours equal neural-tangents' Jacobians (all finite, also where its are NaN). Then,
    independently of it: kernel_fn(x, None) is smooth in x (its diagonal is each input's own
    kernel), so its derivative is checked by central differences; at x2 = x1, the derivative of
    K(x1_i, x2_i) in x2_i is half that of K(x_i, x_i) in x_i (K is symmetric), and the entries
    of distinct inputs equal central differences."""
    ref = REFERENCE[case]
    _, _, kernel_fn = network(stax, ref["layers"])
    x1, points = _points(ref)
    jacobians = _stage_jacobians(kernel_fn, x1, points)
    for stage, ours in jacobians.items():
        for get in ("nngp", "ntk"):
            theirs = decode(ref[f"d_{get}_{stage}"])
            assert np.isfinite(ours[get]).all(), (get, stage)
            if not np.isfinite(theirs).all():
                assert case in NAN_IN_NT and stage in AT_CORRELATION_ONE, (get, stage)
                continue
            noise = 1e-7 * np.abs(theirs).max() if stage in AT_CORRELATION_ONE else 1e-12
            np.testing.assert_allclose(ours[get], theirs, rtol=1e-9, atol=noise,
                                       err_msg=f"{get}, {stage}")
    _check_against_finite_differences(kernel_fn, x1, jacobians)


def _check_against_finite_differences(kernel_fn, x1, jacobians):
    both = ("nngp", "ntk")
    # d K(y_i, y_j) / d y for kernel_fn(y, None), one entry of y moved at a time
    alone = _central_difference(lambda y: jnp.stack(kernel_fn(y, None, both)), x1)
    # d K(x1_i, x2_j) / d x2_j at x2 = x1: entry (i, j) depends on x2_j only, so every row of
    # x2 moves by the same step at once (at distinct inputs, i != j, away from correlation 1)
    pairs = _central_difference(lambda v: jnp.stack(kernel_fn(x1, x1 + v, both)), x1[0] * 0)
    n = len(x1)
    for g, get in enumerate(both):
        ours_alone, equal = jacobians["x1_alone"][get], jacobians["x2_equal"][get]
        scale = np.abs(alone[g]).max()
        assert scale > 0.01, get  # not vacuous: the kernel moves with its inputs
        np.testing.assert_allclose(ours_alone, alone[g], rtol=1e-6, atol=1e-8 * scale,
                                   err_msg=get)
        for i in range(n):
            np.testing.assert_allclose(equal[i, i, i], ours_alone[i, i, i] / 2, rtol=1e-12,
                                       atol=1e-14, err_msg=get)
            for j in set(range(n)) - {i}:
                np.testing.assert_allclose(equal[i, j, j], pairs[g, i, j], rtol=1e-6,
                                           atol=1e-8 * scale, err_msg=get)


@pytest.mark.parametrize("activation", [stax.Tanh(), stax.ElementwiseNumerical(jnp.sin, deg=25)],
                         ids=["Tanh", "ElementwiseNumerical"])
def test_derivatives_of_activations_neural_tangents_lacks_equal_finite_differences(activation):
    """Ours only: the same checks by central differences for a quadrature dual (Tanh; Silu,
    Softplus, Sigmoid use the same code) and ElementwiseNumerical."""
    _, _, kernel_fn = stax.serial(stax.Dense(4, W_std=1.3, b_std=0.2), activation,
                                  stax.Dense(1, W_std=1.3, b_std=0.2))
    x1 = np.random.default_rng(3).normal(size=(3, 3))
    jacobians = _stage_jacobians(kernel_fn, x1, {"x1_alone": None, "x2_equal": x1})
    for ours in jacobians.values():
        assert all(np.isfinite(j).all() for j in ours.values())
    _check_against_finite_differences(kernel_fn, x1, jacobians)


def test_the_phase_diagram_notebooks_chi_1_is_the_derivative_of_the_correlation_map():
    """neural-tangents' phase_diagram notebook: chi_1 = d c_out / d c at c = 1 of one
    Dense + Erf layer applied to an input Kernel q [[1, c], [c, 1]] (kernel_fn(kernel)), under
    jit and vmap over a traced W_std. For Erf it is W_var E[phi'(u)^2] =
    W_var (4 / pi) / sqrt(1 + 4 q_pre), q_pre = W_var q + b_var (it was 0 when the rounded
    correlation carried no derivative)."""
    q, b_var = 0.7, 0.05
    w_var = jnp.array([0.5, 1.0, 2.0, 3.0])

    def chi_1(w):
        _, _, kernel_fn = stax.serial(stax.Dense(1024, jnp.sqrt(w), jnp.sqrt(b_var)), stax.Erf())

        def c_map(c):
            k = q * jnp.array([[1.0, c], [c, 1.0]])
            d = jnp.diag(k)
            inputs = Kernel(nngp=k, ntk=jnp.zeros_like(k), cov1=d, cov2=d, channels=1024,
                            spatial=0, diagonal=False, is_gaussian=True, is_input=True)
            return kernel_fn(inputs).nngp[1, 0] / q
        return jax.grad(c_map)(1.0)

    ours = jax.jit(jax.vmap(chi_1))(w_var)
    q_pre = w_var * q + b_var
    np.testing.assert_allclose(ours, w_var * (4 / np.pi) / np.sqrt(1 + 4 * q_pre), rtol=1e-12)
