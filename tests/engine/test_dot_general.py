"""DotGeneral: a constant linear map by lax.dot_general; neural-tangents' numbers, its finite
network, the refusals, Monte Carlo.

- neural-tangents 0.6.5's kernels (make_nt_gabor_dot_general_reference.py, run by hand in the
  peer venv; values in nt_gabor_dot_general_reference.json) to 1e-9 relative to the largest
  entry (seen: below 3e-15): a scalar rhs, a vector contracted with a signal's axis as rhs
  and as lhs, a matrix contracted with both image axes in crossed order, a vector contracted
  with one image axis (the kernel of every pair of kept positions).
- apply_fn is lax.dot_general itself; init_fn gives its output shape and no parameters.
- Finite networks (tests/engine/monte_carlo.py), width 256, 128 initialisations, within 6 %
  relative Frobenius on NNGP and NTK (seen 0.6-3.2 % over four seeds): Conv, Relu, a vector
  contracted with the signal axis, Dense; and Dense, Relu, an lhs matrix contracted with both
  image axes, Dense.
"""
import json

import jax
import numpy as np
import pytest
from jax import lax

from engine import stax
from tests.engine.make_nt_gabor_dot_general_reference import MATRIX, OUT, VECTOR, network
from tests.engine.monte_carlo import mc_network_kernels, rel_frobenius

CASES = ["dot_scalar", "dot_rhs_vector", "dot_lhs_vector", "dot_images_matrix",
         "dot_images_one_axis"]
CONTRACT_1 = (((1,), (0,)), ((), ()))


@pytest.fixture(scope="module")
def reference():
    with open(OUT) as f:
        return json.load(f)


@pytest.mark.parametrize("name", CASES)
def test_kernel_equals_neural_tangents(name, reference):
    case = reference[name]
    x1, x2 = np.array(case["x1"]), np.array(case["x2"])
    kernel_fn = network(stax, name)[2]
    k12, k11 = kernel_fn(x1, x2, ("nngp", "ntk")), kernel_fn(x1, None, ("nngp", "ntk"))
    for got, key in ((k12.nngp, "nngp"), (k12.ntk, "ntk"), (k11.nngp, "nngp_11"),
                     (k11.ntk, "ntk_11")):
        want = np.asarray(case[key])
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-9 * np.abs(want).max())


def test_apply_is_dot_general_and_init_gives_the_shape():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5))
    m = np.array(MATRIX)
    for layer, want in [
        (stax.DotGeneral(rhs=m, dimension_numbers=(((2, 1), (0, 1)), ((), ()))),
         lax.dot_general(x, m, (((2, 1), (0, 1)), ((), ())))),
        (stax.DotGeneral(lhs=m[0], dimension_numbers=(((0,), (1,)), ((), ()))),
         lax.dot_general(m[0], x, (((0,), (1,)), ((), ())))),
        (stax.DotGeneral(lhs=-1.5), -1.5 * x),
        (stax.DotGeneral(), x),
    ]:
        init_fn, apply_fn, _ = layer
        shape, params = init_fn(jax.random.PRNGKey(0), x.shape)
        assert params == () and shape == want.shape
        np.testing.assert_allclose(apply_fn(params, x), want, rtol=1e-14)


def test_scalar_keeps_per_position_variances_and_contraction_needs_pairs():
    """A scalar scales the diagonal layout by C^2; a contraction tracks pairs of positions."""
    x = np.random.default_rng(1).standard_normal((3, 5, 2))
    base = stax.serial(stax.Conv(4, (2,), padding="SAME"), stax.Relu())
    plain = base[2](x)
    scaled = stax.serial(base, stax.DotGeneral(rhs=3.0))[2](x)
    for name in ("nngp", "ntk", "cov1", "cov2"):
        np.testing.assert_allclose(getattr(scaled, name), 9 * getattr(plain, name), rtol=1e-14)
    assert not stax.DotGeneral(rhs=3.0).layer.needs_full_covariance
    assert stax.DotGeneral(rhs=np.array(VECTOR), dimension_numbers=CONTRACT_1
                           ).layer.needs_full_covariance


def test_equal_constants_build_one_layer():
    a = stax.DotGeneral(rhs=np.array(VECTOR), dimension_numbers=CONTRACT_1)
    b = stax.DotGeneral(rhs=list(VECTOR), dimension_numbers=CONTRACT_1)
    c = stax.DotGeneral(rhs=np.array(VECTOR) * 2, dimension_numbers=CONTRACT_1)
    assert a.layer == b.layer and hash(a.layer) == hash(b.layer) and a.layer != c.layer


REFUSALS = [
    (dict(lhs=1.0, rhs=2.0), r"DotGeneral\(lhs=\.\.\., rhs=\.\.\.\): give at most one of lhs "
                             r"and rhs"),
    (dict(rhs="a"), r"DotGeneral\(rhs='a'\): expected a finite number or array of numbers"),
    (dict(lhs=np.array([1.0, np.nan]), dimension_numbers=(((0,), (1,)), ((), ()))),
     r"DotGeneral\(lhs=array\(\[ 1., nan\]\)\): expected a finite number"),
    (dict(rhs=np.ones(5), dimension_numbers=((1, 0), ((), ()))),
     r"DotGeneral\(dimension_numbers=\(\(1, 0\), \(\(\), \(\)\)\)\): expected "
     r"\(\(lhs_contracting_dims, rhs_contracting_dims\), \(lhs_batch_dims, rhs_batch_dims\)\)"),
    (dict(rhs=np.ones(5), dimension_numbers=(((1, 2), (0,)), ((), ()))),
     r"the contracting ones of equal length"),
    (dict(rhs=np.ones((2, 5)), dimension_numbers=(((1,), (1,)), ((0,), (0,)))),
     r"batch dimensions are not supported; they would move the inputs' batch axis"),
    (dict(rhs=np.ones((5, 2)), dimension_numbers=CONTRACT_1),
     r"DotGeneral\(rhs of shape \(5, 2\), dimension_numbers=.*\): every axis of rhs must be "
     r"contracted exactly once; a free axis would come after the inputs' channel axis"),
    (dict(lhs=np.ones((2, 2)), dimension_numbers=(((1,), (1,)), ((), ()))),
     r"every axis of lhs must be contracted exactly once; a free axis would come before the "
     r"inputs' batch axis"),
    (dict(rhs=np.ones(3), dimension_numbers=(((0,), (0,)), ((), ()))),
     r"the inputs' batch axis 0 cannot be contracted"),
    (dict(rhs=2.0, batch_axis=1, channel_axis=1), r"DotGeneral\(batch_axis=1, "
                                                  r"channel_axis=1\): the batch and channel "
                                                  r"axes must differ"),
    (dict(rhs=np.ones(3), dimension_numbers=(((2,), (0,)), ((), ())), batch_axis=2,
          channel_axis=0), r"the inputs' batch axis 2 cannot be contracted"),
]


@pytest.mark.parametrize("kwargs, message", REFUSALS)
def test_refusals_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        stax.DotGeneral(**kwargs)


def test_refusals_for_the_inputs_shape():
    x = np.ones((2, 5, 3))
    channel = stax.DotGeneral(rhs=np.ones(3), dimension_numbers=(((2,), (0,)), ((), ())))
    with pytest.raises(ValueError, match=r"DotGeneral\(dimension_numbers=.*\): can contract "
                                         r"only spatial axes 1\.\.1 of inputs of shape "
                                         r"\('N', 5, 3\); got axis 2"):
        channel[2](x)
    wrong_size = stax.DotGeneral(rhs=np.ones(4), dimension_numbers=CONTRACT_1)
    with pytest.raises(ValueError, match=r"DotGeneral: axis 1 of inputs of shape \('N', 5, 3\)"
                                         r" has size 5, but the constant's axis 0 it is "
                                         r"contracted with has size 4"):
        wrong_size[0](jax.random.PRNGKey(0), x.shape)
    channel_first = stax.DotGeneral(rhs=np.ones(5), dimension_numbers=(((1,), (0,)), ((), ())),
                                    channel_axis=1)
    with pytest.raises(ValueError, match=r"DotGeneral\(dimension_numbers=.*\): can contract "
                                         r"only spatial axes of inputs laid out as \(batch, "
                                         r"channels, spatial\); got axis 1"):
        channel_first[2](np.ones((2, 5, 3)))
    batch_last = stax.DotGeneral(rhs=np.ones(2), dimension_numbers=(((2,), (0,)), ((), ())),
                                 batch_axis=-1, channel_axis=0)
    with pytest.raises(ValueError, match=r"can contract only spatial axes of inputs laid out "
                                         r"as \(channels, spatial, batch\); got axis 2"):
        batch_last[0](jax.random.PRNGKey(0), (3, 5, 2))


MONTE_CARLO = {
    "signal_vector": (
        (3, 5, 2), lambda n, r: stax.serial(
            stax.Conv(n, (2,), padding="SAME", W_std=1.5, b_std=0.1), stax.Relu(),
            stax.DotGeneral(rhs=np.array(VECTOR), dimension_numbers=CONTRACT_1),
            stax.Dense(r, 1.2, 0.2))),
    "image_matrix": (
        (3, 3, 4, 2), lambda n, r: stax.serial(
            stax.Dense(n, 1.5, 0.1), stax.Relu(),
            stax.DotGeneral(lhs=np.array(MATRIX), dimension_numbers=(((0, 1), (2, 1)),
                                                                      ((), ()))),
            stax.Dense(r, 1.2, 0.2))),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MONTE_CARLO))
def test_kernel_matches_finite_networks(name):
    shape, make = MONTE_CARLO[name]
    rng = np.random.default_rng(1)
    x1, x2 = rng.standard_normal(shape), rng.standard_normal((2,) + shape[1:])
    nngp, ntk = mc_network_kernels(make, x1, x2, width=256, samples=128)
    k = make(256, 1)[2](x1, x2, ("nngp", "ntk"))
    assert rel_frobenius(nngp, k.nngp) < 0.06
    assert rel_frobenius(ntk, k.ntk) < 0.06
