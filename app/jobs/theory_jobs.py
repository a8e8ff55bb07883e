"""The theory views' computations: engine calls on hashable settings, cached server-wide.

Keys hold only hashable settings (design.md §1): the repeated [Dense, phi] block of the
validated spec (``engine.Block``), the views' own settings and fixed grids. Each
``compute_*(key, report, should_stop)`` runs in the job service (app/jobs/background.py) and
returns plain arrays and numbers the views only draw.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import engine

from ..state.theory_settings import B_STD_GRID, W_STD_GRID
from .background import Cancelled
from .cache import Cache

PHASE_DIAGRAMS = Cache(8)
PROPAGATION_CURVES = Cache(32)
LAW_FITS = Cache(16)
JACOBIANS = Cache(16)
MATRICES = Cache(16)

#: starting correlations of the iterated correlation map
MAP_STARTS = (-0.5, 0.0, 0.5, 0.9, 0.99)
#: smallest width of the distance-vs-width sweeps, and seeds per width
SWEEP_FROM, LAW_SEEDS = 16, 2
#: rows of the phase diagram per engine call (the grid's 12 rows in 3 equal calls)
ROWS_PER_STEP = 4
#: the widest Jacobian computed (a product of `depth` n x n matrices)
MAX_JACOBIAN_WIDTH = 512
#: most points of the Jacobian's law sent to the browser
CURVE_POINTS = 400


def block_of(spec) -> engine.Block | None:
    """The spec's [Dense, phi] block, or None when it has none."""
    try:
        return engine.repeated_block(spec)
    except ValueError:
        return None


def _stop(should_stop) -> None:
    if should_stop():
        raise Cancelled()


# ------------------------------------------------------------ signal propagation

@dataclass(frozen=True, eq=False)
class PhaseResult:
    w_std: np.ndarray
    b_std: np.ndarray
    chi_1: np.ndarray            # (b, W)
    log10_chi_1: np.ndarray      # 0 on the critical line
    critical_w_std: np.ndarray   # per row of b_std (NaN: no crossing on the grid)
    reference_b_std: float       # sqrt(0.05): Schoenholz et al. 2017, Fig. 1
    reference_w_std: float       # the diagram's critical W_std there


def compute_phase_diagram(key, report, should_stop) -> PhaseResult:
    """key: (block.activation,). A few rows of b_std at a time (progress, stop between)."""
    (activation,) = key
    layer = engine.Block(activation, 1.0, 0.0).layer()
    w, b, rows = np.asarray(W_STD_GRID), np.asarray(B_STD_GRID), []
    for start in range(0, len(b), ROWS_PER_STEP):  # equal shapes: one compile
        _stop(should_stop)
        rows.append(engine.chi_1_diagram(layer, w, b[start:start + ROWS_PER_STEP]))
        report(min(start + ROWS_PER_STEP, len(b)) / len(b))
    chi = np.concatenate(rows)
    diagram = PhaseResult(w, b, chi, np.log10(np.maximum(chi, 1e-300)), None, math.nan, math.nan)
    line = engine.critical_line(diagram)
    reference = B_STD_GRID.index(0.05 ** 0.5)
    return PhaseResult(w, b, chi, diagram.log10_chi_1, line, B_STD_GRID[reference],
                       float(line[reference]))


@dataclass(frozen=True, eq=False)
class PropagationCurves:
    propagation: object          # engine.Propagation at the stack's (W_std, b_std)
    critical_w_std: float        # at the stack's b_std (bisection; NaN outside [0.1, 10])
    map_starts: tuple
    map_depth: np.ndarray        # 0 ... depth
    map_curves: np.ndarray | None  # (starts, depth + 1); None without a fixed length q*
    kernel_depth: np.ndarray     # 1 ... depth
    nngp: np.ndarray
    ntk: np.ndarray


def compute_curves(key, report, should_stop) -> PropagationCurves:
    """key: (block, depth, input_correlation)."""
    block, depth, c0 = key
    layer = block.layer()
    p = engine.propagation(layer, block.w_std, block.b_std)
    report(0.3)
    critical = engine.critical_w_std(layer, block.b_std)
    _stop(should_stop)
    report(0.6)
    curves = None
    if math.isfinite(p.q_star):
        iterates = engine.correlation_map_over_depth(layer, block.w_std, block.b_std,
                                                     list(MAP_STARTS), depth)
        curves = np.concatenate([np.asarray(MAP_STARTS)[:, None], iterates], axis=1)
    kernels = engine.kernel_correlations_over_depth(layer, block.w_std, block.b_std,
                                                    1.0, c0, 1.0, depth)
    return PropagationCurves(p, critical, MAP_STARTS, np.arange(depth + 1), curves,
                             kernels.depth, kernels.nngp, kernels.ntk)


# ------------------------------------------------------------ random matrices

@dataclass(frozen=True, eq=False)
class JacobianResult:
    squares: np.ndarray      # squared singular values of J (finite network)
    edges: np.ndarray        # their histogram (a density) on log10 sigma^2
    histogram: np.ndarray
    law: object | None       # engine.JacobianLaw, None without a fixed length q*
    reason: str              # why there is no law, else ''
    mean: float              # sample mean and variance of sigma^2
    variance: float
    curve_x: np.ndarray      # log10 sigma^2 over the histogram's range, up to the law's edge
    curve: np.ndarray        # the law's density of log10 sigma^2 there (engine.JacobianSpectrum)
    zero_mass: float         # the law's atom at sigma^2 = 0 (not on a log axis)
    curve_reason: str        # why there is no curve, else ''
    floor: float             # sigma^2 below this are rounding errors of float64 (not histogrammed)
    below_floor: float       # the fraction of the finite network's sigma^2 below the floor
    law_below_floor: float   # the law's probability there


@dataclass(frozen=True, eq=False)
class MatrixResult:
    fits: dict               # law name -> engine.LawFit
    mean_distance: dict      # law name -> (widths,) mean Kolmogorov distance over seeds
    jacobian: JacobianResult | None


def sweep_widths(width: int) -> list[int]:
    """16, 32, ... up to ``width``: the widths of the distance-vs-width curves."""
    widths, n = [], SWEEP_FROM
    while n < width:
        widths.append(n)
        n *= 2
    return widths + [width]


def law_fit(name: str, width: int, ratio: float):
    key = (name, width, ratio if name == "marchenko_pastur" else 1.0)
    return LAW_FITS.get(key, lambda: engine.fit_law(name, sweep_widths(width), key[2],
                                                    seeds=LAW_SEEDS))


def jacobian(block, width: int, depth: int) -> JacobianResult:
    def compute():
        layer = block.layer()
        try:
            law, reason = engine.jacobian_law(layer, block.w_std, block.b_std, depth), ""
        except ValueError as err:
            law, reason = None, str(err)
        if law is None:
            empty = np.zeros(0)
            return JacobianResult(empty, empty, empty, None, reason, math.nan, math.nan,
                                  empty, empty, math.nan, reason, math.nan, math.nan, math.nan)
        squares = engine.jacobian_singular_values(layer, block.w_std, block.b_std, width,
                                                  depth) ** 2
        floor = rounding_floor(squares)
        edges, histogram = log_histogram(squares, floor)
        curve_x, curve, zero_mass, law_below, curve_reason = jacobian_curve(block, depth, floor)
        return JacobianResult(squares, edges, histogram, law, "", float(squares.mean()),
                              float(squares.var()), curve_x, curve, zero_mass, curve_reason,
                              floor, float(np.mean(squares < floor)), law_below)
    return JACOBIANS.get((block, width, depth), compute)


def rounding_floor(squares: np.ndarray) -> float:
    """(n eps sigma_max)^2: J is a float64 product of n x n matrices, so its singular values
    are known to about n eps sigma_max; smaller ones cannot be told from 0."""
    return float((squares.size * np.finfo(float).eps) ** 2 * squares.max())


def log_histogram(squares: np.ndarray, floor: float, bins: int = 40):
    """(edges, density) of log10 sigma^2 above the floor, normalised by all values: the bars'
    mass is the fraction above the floor, comparable with the law's curve there."""
    above = np.log10(squares[squares >= floor])
    top = max(above.max(), math.log10(floor) + 1) if above.size else math.log10(floor) + 1
    counts, edges = np.histogram(above, bins=bins, range=(math.log10(floor), top))
    return edges, counts / (squares.size * np.diff(edges))


def jacobian_curve(block, depth: int, floor: float):
    """(log10 sigma^2, density of log10 sigma^2, atom at 0, law's P(sigma^2 < floor), '') of
    the free-probability law from the floor up to its upper edge, at most CURVE_POINTS
    points; empty arrays and the reason where the law has no density."""
    try:
        spectrum = engine.jacobian_spectrum(block.layer(), block.w_std, block.b_std, depth)
    except (ValueError, ArithmeticError) as err:
        return np.zeros(0), np.zeros(0), math.nan, math.nan, str(err)
    logs, below = np.log10(spectrum.x), float(spectrum.cdf(floor))
    keep = np.flatnonzero(logs >= math.log10(floor))
    if keep.size == 0:
        return np.zeros(0), np.zeros(0), spectrum.zero_mass, below, ("the law lies below the "
                                                                      "float64 floor")
    keep = keep[np.unique(np.linspace(0, keep.size - 1, CURVE_POINTS).astype(int))]
    return logs[keep], spectrum.log10_density[keep], spectrum.zero_mass, below, ""


def compute_matrices(key, report, should_stop) -> MatrixResult:
    """key: (width, ratio, block or None, depth)."""
    width, ratio, block, depth = key
    fits = {}
    for i, name in enumerate(engine.LAWS):
        fits[name] = law_fit(name, width, ratio)
        report(0.3 * (i + 1))
        _stop(should_stop)
    means = {name: fit.distance.mean(axis=1) for name, fit in fits.items()}
    jacobian_width = min(width, MAX_JACOBIAN_WIDTH)
    return MatrixResult(fits, means,
                        None if block is None else jacobian(block, jacobian_width, depth))
