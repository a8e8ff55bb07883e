"""Side-by-side eigendecompositions: the same results, and the BLAS limits restored."""
import os
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import engine
from engine.closed_form.flow import eigensystem, eigensystems
from engine.closed_form.lapack_threads import limited_blas, side_by_side


def _blas_threads():
    return sorted((i["filepath"], i["num_threads"]) for i in threadpool_info()
                  if i["user_api"] == "blas")


def _kernels(n=60, count=2):
    rng = np.random.default_rng(0)
    out = []
    for _ in range(count):
        a = rng.standard_normal((n, n))
        out.append(a @ a.T / n)
    return out


def test_side_by_side_eigensystems_equal_one_after_the_other():
    kernels = _kernels(count=3)
    together = eigensystems(kernels)
    for k, e in zip(kernels, together):
        alone = eigensystem(k)
        np.testing.assert_array_equal(e.eigenvalues, alone.eigenvalues)
        # eigenvectors up to sign: compare the reconstructed kernel and |V|
        np.testing.assert_allclose(np.abs(np.asarray(e.eigenvectors)),
                                   np.abs(np.asarray(alone.eigenvectors)), atol=1e-10)


def test_the_blas_limit_is_restored_after_a_call_and_after_an_error():
    eigensystem(_kernels(count=1)[0])  # JAX's LAPACK loaded
    before = _blas_threads()
    seen = []

    def inside(k):
        seen.append(_blas_threads())
        return eigensystem(k)

    side_by_side(inside, _kernels())
    assert all(n == max(1, os.cpu_count() // 2) for s in seen for _, n in s)
    assert _blas_threads() == before

    def fails(_):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        side_by_side(fails, [1, 2])
    assert _blas_threads() == before


def test_overlapping_callers_restore_the_original_limit_only_when_the_last_leaves():
    eigensystem(_kernels(count=1)[0])
    before = _blas_threads()
    entered, release = threading.Event(), threading.Event()

    def hold():
        with limited_blas(1):
            entered.set()
            release.wait(10)

    other = threading.Thread(target=hold)
    other.start()
    entered.wait(10)
    with limited_blas(1):
        pass
    inside = _blas_threads()
    assert all(n == 1 for _, n in inside), inside  # the other caller is still inside
    release.set()
    other.join(10)
    assert _blas_threads() == before


def test_a_prediction_of_both_modes_equals_each_mode_alone():
    """gradient_descent_mse_ensemble eigendecomposes the NNGP and the NTK side by side."""
    spec = [["Dense", {"out_dim": 64, "W_std": 1.5, "b_std": 0.1}], ["Relu", {}],
            ["Dense", {"out_dim": 1}]]
    kernel_fn = engine.build(spec).kernel_fn
    rng = np.random.default_rng(1)
    x, y, xt = rng.standard_normal((40, 3)), rng.standard_normal((40, 1)), \
        rng.standard_normal((15, 3))
    ts = np.array([0.5, 10.0, 1000.0])
    both = engine.predict.gradient_descent_mse_ensemble(kernel_fn, x, y, diag_reg=1e-4)(
        t=ts, x_test=xt, get=("nngp", "ntk"), compute_cov=True)
    for name in ("nngp", "ntk"):
        alone = engine.predict.gradient_descent_mse_ensemble(kernel_fn, x, y, diag_reg=1e-4)(
            t=ts, x_test=xt, get=name, compute_cov=True)
        np.testing.assert_allclose(getattr(both, name).mean, alone.mean, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(getattr(both, name).covariance, alone.covariance,
                                   rtol=1e-12, atol=1e-14)
