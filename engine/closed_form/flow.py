"""Gradient-descent flow on a train kernel, diagonalised once and evaluated at any time.

With the regularised train kernel A_r = A + lambda I = V diag(w) V^T, the step size
``step = learning_rate / |Y|`` (|Y| = number of training outputs, because the loss is
0.5 * mean over all outputs) and training time t (the step count):

    decay   d(t) = exp(-step * t * w)            (continuous time, tau = step * t)
            d(t) = (1 - step * w) ** t           (discrete=True: the exact GD map)
    factor  g(t) = (1 - d(t)) / w                so that M_t = A_r^-1 (I - d(A_r)) = V diag(g) V^T

g(2t) = (1 - d(t)^2) / w is the factor of the NNGP-mode covariance. Eigenvalues at or below
the noise floor n * eps * max|w| (negative ones from rounding included) are clipped: their
factor is 0, i.e. A_r^-1 is the pseudo-inverse, and their number is reported in
``clipped_eigenvalues`` instead of turning into NaN or inf.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from engine import checks
from engine.closed_form.lapack_threads import side_by_side


def time_factor(w: jax.Array, step, t, discrete: bool) -> jax.Array:
    """g(t) = (1 - d(t)) / w for one time ``t`` and each eigenvalue in ``w`` (n,)."""
    one_minus_decay = _discrete_rise(w, step, t) if discrete else -jnp.expm1(-step * t * w)
    kept = w > 0
    return jnp.where(kept, one_minus_decay / jnp.where(kept, w, 1.0), 0.0)


def _discrete_rise(w, step, t):
    """1 - (1 - step w)^t for whole t >= 0, exact in sign for negative bases (large steps)."""
    base = 1.0 - step * w
    log_abs = jnp.where(base > 0, jnp.log1p(-step * w), jnp.log(jnp.abs(base)))
    exponent = jnp.where(t == 0, 0.0, t * log_abs)
    odd = (base < 0) & (jnp.mod(t, 2.0) == 1.0)
    return jnp.where(odd, 1.0 + jnp.exp(exponent), -jnp.expm1(exponent))


@jax.tree_util.register_dataclass
@dataclass(frozen=True, eq=False)
class TrainFlow:
    """The eigendecomposition A_r = V diag(w) V^T and the step of one training run.

    ``diag_reg`` is the absolute lambda that was added; ``min_eigenvalue`` is the smallest
    eigenvalue of A_r before clipping; ``clipped_eigenvalues`` counts those set to 0.
    """

    eigenvalues: jax.Array
    eigenvectors: jax.Array
    step: float
    discrete: bool = field(metadata=dict(static=True))
    diag_reg: float
    clipped_eigenvalues: int
    min_eigenvalue: float

    def factor(self, t) -> jax.Array:
        """g(t) of shape (n,) for one (traced) time t."""
        return time_factor(self.eigenvalues, self.step, t, self.discrete)

    def project(self, k_test_train) -> jax.Array:
        """k_test_train V: a kernel against the training inputs in the eigenbasis (float64).

        Jitted like the eigendecomposition, so that every BLAS call runs in XLA's threads
        (NumPy's OpenBLAS threads beside XLA's slow both down on a small machine).
        """
        return _matmul(as_float64(k_test_train), self.eigenvectors)

    def times(self, fn: str, t) -> tuple[np.ndarray, bool]:
        """Validated times (see checks.times); refuses t = inf when GD diverges."""
        t, scalar = checks.times(fn, t, self.discrete)
        if self.discrete and not checks.traced(t) and np.any(np.isinf(t)) and self._diverges():
            raise checks.fail(fn, "t", "inf", "finite: with this learning_rate "
                                    "discrete gradient descent diverges (see max_learning_rate)")
        return t, scalar

    def _diverges(self) -> bool:
        """Discrete GD diverges when |1 - step * w_max| >= 1, i.e. step * w_max >= 2."""
        return self.step * float(jnp.max(self.eigenvalues)) >= 2.0


@dataclass(frozen=True, eq=False)
class Eigensystem:
    """A = V diag(w) V^T of the symmetrised, unregularised train kernel, computed once.

    Regularising shifts only the eigenvalues (A + lambda I = V diag(w + lambda) V^T), so
    ``flow`` gives the flow of any learning rate and diag_reg without another eigh.
    """

    eigenvalues: np.ndarray
    eigenvectors: jax.Array
    eps: float

    def flow(self, y_size: int, learning_rate: float, diag_reg: float,
             diag_reg_absolute_scale: bool, discrete: bool) -> TrainFlow:
        """lambda = diag_reg, or diag_reg * trace(A) / n; eigenvalues below the floor clipped."""
        n = len(self.eigenvalues)
        lam = regularizer(np.sum(self.eigenvalues) / n, diag_reg, diag_reg_absolute_scale)
        w = self.eigenvalues + lam
        floor = n * self.eps * max(float(np.max(np.abs(w))), np.finfo(np.float64).tiny)
        kept = w > floor
        return TrainFlow(jnp.asarray(np.where(kept, w, 0.0)), self.eigenvectors,
                         learning_rate / y_size, discrete, float(lam), int(np.sum(~kept)),
                         float(np.min(w)))


def regularizer(mean_diagonal: float, diag_reg: float, diag_reg_absolute_scale: bool) -> float:
    """lambda = diag_reg, or diag_reg * trace(A) / n (``mean_diagonal`` = trace(A) / n)."""
    return diag_reg if diag_reg_absolute_scale else diag_reg * float(mean_diagonal)


def eigensystem(k_train_train) -> Eigensystem:
    """Symmetrise and eigh a validated (n, n) kernel; float32 input raises the noise floor."""
    w, v = _symmetric_eigh(as_float64(k_train_train))
    return Eigensystem(np.asarray(w), v, machine_eps(k_train_train))


def eigensystems(kernels) -> list[Eigensystem]:
    """``eigensystem`` of each kernel, two or more side by side (engine.closed_form.lapack_threads)."""
    return side_by_side(eigensystem, kernels)


def as_float64(array) -> jax.Array:
    """A validated array on the device in float64 (a float32 kernel is widened), or float32
    when JAX runs without jax_enable_x64 (where asking for float64 only warned and gave
    float32 on every prediction)."""
    return jnp.asarray(array, dtype=jnp.result_type(float))


@jax.jit
def _symmetric_eigh(a):
    return jnp.linalg.eigh(0.5 * (a + a.T), symmetrize_input=False)


@jax.jit
def _matmul(a, b):
    return a @ b


def machine_eps(array) -> float:
    """Machine epsilon of the precision the kernel was computed in (float64 if not a float)."""
    dtype = np.asarray(array).dtype
    return float(np.finfo(dtype if np.issubdtype(dtype, np.floating) else np.float64).eps)
