"""Random-matrix laws at initialisation, against finite samples.

- Marchenko-Pastur: W of shape (p, n) with N(0, 1) entries, ratio = p / n in (0, 1]; the
  eigenvalues of W W^T / n have, as n -> inf, the density
      sqrt((l+ - x)(x - l-)) / (2 pi ratio x)  on [l-, l+],  l+- = (1 +- sqrt(ratio))^2.
- Wigner's semicircle: A = (G + G^T) / sqrt(2 n), G of shape (n, n) with N(0, 1) entries
  (off-diagonal variance 1 / n); its eigenvalues have the density sqrt(4 - x^2) / (2 pi).
- The input-output Jacobian of [Dense(W_std, b_std), phi] x depth at initialisation
  (Pennington, Schoenholz & Ganguli 2017, "Resurrecting the sigmoid in deep learning through
  dynamical isometry"): J J^T is, in the limit, the free product of `depth` scaled Wishart
  matrices and `depth` diagonals phi'(h)^2 with h ~ N(0, q*). S-transforms multiply, so its
  mean is chi_1^depth and its variance over the squared mean (mean 1 at chi_1 = 1) is
  depth * mu_2 / mu_1^2, mu_k = E[phi'(h)^(2k)] (Gaussian weights: the Wishart adds 1 per layer
  and each diagonal mu_2 / mu_1^2 - 1). Dynamical isometry is a spread that stays small with
  depth: chi_1 = 1 and mu_2 / mu_1^2 near 1 (small q*, i.e. small b_std, for tanh and erf).
Where the lengths shrink to q* = 0 (b_std = 0, ordered) the law is its limit q -> 0, taken at
the length LIMIT_LENGTH: D = phi'(0) I for smooth phi (mu_2 / mu_1^2 = 1), and for the ReLU
family the mu_k do not depend on q at all.

The distance between a sample and its law is Kolmogorov's, sup_x |F_sample(x) - F(x)|; for
these laws it falls like 1 / n (eigenvalues are rigid), much faster than for i.i.d. samples.
"""
from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .signal_propagation import LIMIT_LENGTH, _layer, propagation

LAWS = ("marchenko_pastur", "semicircle")
#: points of the grid on which a law's CDF is integrated
GRID = 4001
#: Gauss-Hermite nodes of the expectations over h ~ N(0, q*): an even number, so no node sits
#: on a kink at h = 0 (ReLU's phi'(0) would count as a third value, 1/2, of weight 0.06)
NODES = 200


def _check_ratio(ratio) -> float:
    if not (isinstance(ratio, (int, float)) and 0 < ratio <= 1):
        raise ValueError(f"marchenko_pastur(ratio={ratio!r}): the aspect ratio p / n must be "
                         f"a number in (0, 1]")
    return float(ratio)


def _check_width(name, n, least=1) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < least:
        raise ValueError(f"{name}(n={n!r}): the width must be an integer >= {least}")
    return int(n)


def marchenko_pastur_edges(ratio) -> tuple[float, float]:
    """(l-, l+) = ((1 - sqrt(ratio))^2, (1 + sqrt(ratio))^2)."""
    r = math.sqrt(_check_ratio(ratio))
    return (1 - r) ** 2, (1 + r) ** 2


def marchenko_pastur_density(x, ratio) -> np.ndarray:
    """The Marchenko-Pastur density of W W^T / n at x (zero outside its support)."""
    low, high = marchenko_pastur_edges(ratio)
    x = np.asarray(x, float)
    inside = (x > low) & (x < high)
    safe = np.where(inside, x, 1.0)
    return np.where(inside, np.sqrt(np.abs((high - safe) * (safe - low)))
                    / (2 * np.pi * ratio * safe), 0.0)


def semicircle_density(x) -> np.ndarray:
    """Wigner's semicircle density sqrt(4 - x^2) / (2 pi) on [-2, 2]."""
    x = np.asarray(x, float)
    return np.sqrt(np.clip(4 - x ** 2, 0, None)) / (2 * np.pi)


def law(name: str, ratio: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(x, density) of a law on a fine grid over its support."""
    if name == "marchenko_pastur":
        x = _support(*marchenko_pastur_edges(ratio))
        return x, marchenko_pastur_density(x, ratio)
    if name == "semicircle":
        x = _support(-2.0, 2.0)
        return x, semicircle_density(x)
    raise ValueError(f"law(name={name!r}): expected one of {', '.join(LAWS)}")


def _support(low, high) -> np.ndarray:
    """GRID points on [low, high], denser towards the edges (cosine spacing), where the
    densities have square-root edges (and MP at ratio 1 a 1 / sqrt(x) pole at 0)."""
    return low + (high - low) * (1 - np.cos(np.linspace(0, np.pi, GRID))) / 2


def wishart_eigenvalues(n: int, ratio: float, seed: int = 0) -> np.ndarray:
    """Eigenvalues of W W^T / n, W of shape (max(1, round(ratio n)), n), N(0, 1) entries."""
    n, ratio = _check_width("wishart_eigenvalues", n), _check_ratio(ratio)
    w = np.random.default_rng(seed).standard_normal((max(1, round(ratio * n)), n))
    return np.linalg.eigvalsh(w @ w.T / n)


def wigner_eigenvalues(n: int, seed: int = 0) -> np.ndarray:
    """Eigenvalues of (G + G^T) / sqrt(2 n), G of shape (n, n) with N(0, 1) entries."""
    n = _check_width("wigner_eigenvalues", n)
    g = np.random.default_rng(seed).standard_normal((n, n))
    return np.linalg.eigvalsh((g + g.T) / math.sqrt(2 * n))


def eigenvalues(name: str, n: int, ratio: float = 1.0, seed: int = 0) -> np.ndarray:
    """A sample of the law ``name`` (see ``law``) at width n."""
    law(name, ratio)  # checks the name
    if name == "marchenko_pastur":
        return wishart_eigenvalues(n, ratio, seed)
    return wigner_eigenvalues(n, seed)


def kolmogorov_distance(sample, x, density) -> float:
    """sup |F_sample - F| for the law with this density on the grid x (its whole support)."""
    cdf = np.concatenate([[0.0], np.cumsum(np.diff(x) * (density[1:] + density[:-1]) / 2)])
    cdf /= cdf[-1]
    sample = np.sort(np.asarray(sample, float))
    at = np.interp(sample, x, cdf)
    k = np.arange(1, sample.size + 1) / sample.size
    return float(max(np.max(k - at), np.max(at - (k - 1 / sample.size))))


@dataclass(frozen=True, eq=False)
class LawFit:
    """Sample eigenvalues at each width against a law: histograms and distances."""

    name: str
    ratio: float
    widths: np.ndarray        # (W,)
    distance: np.ndarray      # (W, S) Kolmogorov distance per width and seed
    eigenvalues: np.ndarray   # of the widest, first seed
    x: np.ndarray             # the law's grid
    density: np.ndarray
    edges: np.ndarray         # histogram of ``eigenvalues`` (a density)
    histogram: np.ndarray


def fit_law(name: str, widths, ratio: float = 1.0, seeds: int = 2, bins: int = 60,
            on_progress=None) -> LawFit:
    """Eigenvalues of the random matrices of each width against the law ``name``."""
    x, density = law(name, ratio)
    widths = [_check_width("fit_law", w) for w in widths]
    distance = np.empty((len(widths), seeds))
    for i, n in enumerate(widths):
        for s in range(seeds):
            distance[i, s] = kolmogorov_distance(eigenvalues(name, n, ratio, s), x, density)
        if on_progress is not None:
            on_progress((i + 1) / len(widths))
    sample = eigenvalues(name, widths[-1], ratio, 0)
    histogram, edges = np.histogram(sample, bins=bins, range=(x[0], x[-1]), density=True)
    return LawFit(name, ratio, np.asarray(widths), distance, sample, x, density, edges, histogram)


# ----------------------------------------------------------- the input-output Jacobian

def derivative_moments(activation, q, order: int = 2, nodes: int = NODES) -> list[float]:
    """[mu_1, ..., mu_order], mu_k = E[phi'(h)^(2k)] for h ~ N(0, q), by Gauss-Hermite."""
    z, weights = np.polynomial.hermite_e.hermegauss(nodes)
    d = np.asarray(_derivative(_layer(activation))(jnp.asarray(math.sqrt(q) * z)))
    weights = weights / weights.sum()
    return [float(weights @ d ** (2 * k)) for k in range(1, order + 1)]


@functools.lru_cache(maxsize=32)
def _derivative(layer):
    """phi' elementwise, compiled once per activation (layers hash by their arguments)."""
    return jax.jit(jax.vmap(jax.grad(lambda u: layer.apply((), u))))


@functools.lru_cache(maxsize=32)
def _function(layer):
    return jax.jit(lambda u: layer.apply((), u))


@dataclass(frozen=True)
class JacobianLaw:
    """The free-probability prediction for the squared singular values of J."""

    q_star: float
    chi_1: float
    mean: float      # E[sigma^2] = chi_1^depth
    variance: float  # of sigma^2: mean^2 depth mu_2 / mu_1^2


def jacobian_law(activation, w_std, b_std, depth) -> JacobianLaw:
    """Mean and variance of J J^T's spectrum at infinite width (see the module docstring)."""
    layer = _layer(activation)
    p = propagation(layer, w_std, b_std)
    q = p.q_star
    if not math.isfinite(q):
        raise ValueError(f"jacobian_law(w_std={w_std!r}): the lengths grow without bound, "
                         f"there is no fixed length q* to start the Jacobian at")
    mu_1, mu_2 = derivative_moments(layer, q if q > 0 else LIMIT_LENGTH)  # the limit at q* = 0
    if mu_1 == 0:
        raise ValueError(f"jacobian_law(activation={layer.name}): phi' is 0 almost everywhere "
                         f"at q* = {q:.4g}, so the Jacobian is 0")
    mean = p.chi_1 ** depth
    return JacobianLaw(q, p.chi_1, mean, mean ** 2 * depth * mu_2 / mu_1 ** 2)


def jacobian_singular_values(activation, w_std, b_std, width, depth, seed=0) -> np.ndarray:
    """Singular values of J = d z_depth / d z_0 of a finite network of this width with
    Gaussian weights, z_l = (W_std / sqrt(n)) W_l phi(z_(l-1)) + b_std b_l, z_0 at q* (at
    LIMIT_LENGTH where q* = 0)."""
    layer = _layer(activation)
    width = _check_width("jacobian_singular_values", width, least=2)
    q = propagation(layer, w_std, b_std).q_star or LIMIT_LENGTH
    rng = np.random.default_rng(seed)
    z = math.sqrt(q) * rng.standard_normal(width)
    derivative, jacobian = _derivative(layer), np.eye(width)
    for _ in range(depth):
        w = w_std / math.sqrt(width) * rng.standard_normal((width, width))
        jacobian = w @ (np.asarray(derivative(jnp.asarray(z)))[:, None] * jacobian)
        z = w @ np.asarray(_function(layer)(jnp.asarray(z))) + b_std * rng.standard_normal(width)
    return np.linalg.svd(jacobian, compute_uv=False)
