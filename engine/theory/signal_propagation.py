"""Signal propagation in deep random networks: the order-to-chaos transition.

For [Dense(W_std, b_std), phi] repeated, at infinite width (Poole et al. 2016, "Exponential
expressivity in deep neural networks through transient chaos"; Schoenholz et al. 2017, "Deep
information propagation"), with V(q) = E[phi(u)^2], u ~ N(0, q):

  length map       q -> W_std^2 V(q) + b_std^2,            fixed point q*
  correlation map  c -> (W_std^2 E[phi(u) phi(v)] + b_std^2) / q*,  (u, v) ~ N(0, q* [[1, c],
                   [c, 1]]), fixed point c* (1 in the ordered phase, < 1 in the chaotic one)
  chi_1  = W_std^2 E[phi'(u)^2] at q*: the slope of the correlation map at c = 1; chi_1 < 1
           ordered, chi_1 > 1 chaotic, chi_1 = 1 the critical line
  chi_c  = W_std^2 E[phi'(u) phi'(v)] at (q*, c*): the slope at c* (computed as
           W_std^2 E[phi'(u) phi'(v)] q* / length_map(q*), the slope of the map below)
  xi_q   = -1 / log(dq'/dq at q*),   xi_c = -1 / log(chi_c):  depths over which lengths and
           correlations approach their fixed points (xi_c diverges on the critical line)

q* is the length the iterated map reaches from q0 = 1: 0 where the lengths shrink to 0 (b_std =
0 and phi(0) = 0 in the ordered phase, e.g. ReLU at W_std^2 < 2), inf where they grow without
bound, q0 itself where the map keeps every length (ReLU at W_std^2 = 2, b_std = 0). Next to the
critical line the iterates approach q* only like a power of the depth, so after ITERATIONS
steps the root of q -> length_map(q) - q is bracketed beyond the last iterate (doubling or
halving) and bisected. At q* = 0 the slopes are their limits q -> 0, taken at LIMIT_LENGTH
(for the ReLU family they do not depend on q at all); the correlation map is then the limit
of the correlation of the next layer's pre-activations, which divides by length_map(q), not
by q (the two agree at any q* > 0). A dual that loses digits at small q would stop the search
where its rounding outweighs the map's drift (Sin's closed form once had 1 - exp(-2 q), and a
spurious q* = 9e-17 at W_std = 0.9, b_std = 0; it is written with expm1 now).

Every expectation is the activation layer's own dual (its kernel function on a 2 x 2
covariance), so any activation the engine has, closed form or quadrature, has a phase
diagram. Functions of (w_std, b_std) are pure JAX and vectorise over grids.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..kernel import Kernel

#: most iterations of a map towards its fixed point (next to the critical line correlations
#: approach it only like a power of the depth), and the relative step that counts as there
ITERATIONS = 2000
TOLERANCE = 1e-13
#: lengths below SMALLEST_LENGTH count as 0 (the duals' formulas multiply two lengths, so
#: stay far above float64's 1e-308), above LARGEST_LENGTH as unbounded
SMALLEST_LENGTH, LARGEST_LENGTH = 1e-150, 1e300
#: where q* = 0 the slopes are their limits q -> 0, taken at this length: smooth duals differ
#: from the limit by O(q), a closed form with a difference such as 1 - exp(-2 q) loses O(eps / q)
LIMIT_LENGTH = 1e-8
#: bisections of a bracket [x, 2 x]: its width falls below float64's resolution
BISECTIONS = 60


def _pair(activation, q11, q12, q22) -> Kernel:
    """The activation's kernel function on one pair of inputs with these second moments."""
    one = jnp.ones((1, 1))
    return activation.kernel(Kernel(nngp=one * q12, ntk=one, cov1=jnp.reshape(q11, (1,)),
                                    cov2=jnp.reshape(q22, (1,)), channels=1, spatial=0,
                                    diagonal=False, is_gaussian=True))


def dual(activation, q11, q12, q22):
    """(E[phi(u) phi(v)], E[phi'(u) phi'(v)]) for scalars, from the layer's kernel function."""
    out = _pair(activation, q11, q12, q22)
    return out.nngp[0, 0], out.ntk[0, 0]


def length_map(activation, q, w_std, b_std):
    """q -> W_std^2 E[phi(u)^2] + b_std^2, u ~ N(0, q)."""
    return w_std ** 2 * dual(activation, q, q, q)[0] + b_std ** 2


def _iterate(step, x0):
    """Iterate ``step`` from x0 until it moves by less than TOLERANCE (relative), its value is
    not finite, or ITERATIONS; returns the last three iterates (newest first). ``step`` is
    traced once (the loop's condition only compares iterates)."""
    def moving(carry):
        i, x, previous, _ = carry
        return (i < ITERATIONS) & jnp.isfinite(x) & (jnp.abs(x - previous) > TOLERANCE * jnp.abs(x))

    def advance(carry):
        i, x, previous, _ = carry
        return i + 1, step(x), x, previous
    x0 = jnp.asarray(x0, float)
    return jax.lax.while_loop(moving, advance, (0, x0, jnp.inf, jnp.inf))[1:]


def _fixed_point(step, x0):
    """(the last finite iterate of ``step`` from x0, whether it moved by less than TOLERANCE,
    relative, within ITERATIONS)."""
    x, previous, _ = _iterate(step, x0)
    converged = jnp.isfinite(x) & (jnp.abs(x - previous) <= TOLERANCE * jnp.abs(x))
    return jnp.where(jnp.isfinite(x), x, previous), converged


def fixed_length(activation, w_std, b_std, q0=1.0):
    """(q*, found): the length the length map's iterates from q0 reach. q* is found to
    |length_map(q*) - q*| <= TOLERANCE q* where the iterates converge within ITERATIONS,
    else by bisection to float64's resolution; q* = 0 (found) where they shrink below
    SMALLEST_LENGTH. Where the lengths grow without bound (found False) q* is the last length
    iterated whose image is finite, at which chi_1 is its limit for homogeneous activations
    (ReLU: W_std^2 / 2)."""
    step = lambda q: length_map(activation, q, w_std, b_std)  # noqa: E731
    x, previous, before = _iterate(step, q0)
    finite = jnp.isfinite(x)
    converged = finite & (jnp.abs(x - previous) <= TOLERANCE * jnp.abs(x))
    last = jnp.where(finite, x, previous)  # where the iterates stopped
    up = ~(x <= previous)  # the direction they moved in; a non-finite value counts as growing
    root, found = _root_beyond(step, last, up, converged)
    largest = jnp.where(finite | ~jnp.isfinite(before), last, before)  # its image is finite
    return (jnp.where(converged, last, jnp.where(found | ~up, root, largest)),
            converged | found | ~up)


def _root_beyond(step, q, up, done):
    """(root, found) of step(x) - x next to q in the direction ``up`` (in which step moves
    q): x doubles (or halves) until step moves x the other way (by more than TOLERANCE x, so
    rounding on a line of fixed points is no root), then the bracket is bisected; found is
    False where x leaves [SMALLEST_LENGTH, LARGEST_LENGTH] first (root 0 going down). Nothing
    is searched where ``done``. ``step`` is traced twice (scan, bisection)."""
    factor = jnp.where(up, 2.0, 0.5)

    def moves_back(x, tolerance):
        g = step(x) - x
        return jnp.where(up, g < -tolerance * x, g > tolerance * x)

    def scanning(carry):
        _, far, back = carry
        return ~done & ~back & (far > SMALLEST_LENGTH) & (far < LARGEST_LENGTH)

    def advance(carry):
        far = carry[1] * factor
        return carry[1], far, moves_back(far, TOLERANCE)
    near, far, back = jax.lax.while_loop(scanning, advance, (q, q, jnp.asarray(False)))

    def bisect(carry):
        i, near, far = carry
        middle = jnp.sqrt(near) * jnp.sqrt(far)
        moved = moves_back(middle, 0.0)
        return i + 1, jnp.where(moved, near, middle), jnp.where(moved, middle, far)
    bisecting = lambda carry: ~done & back & (carry[0] < BISECTIONS)  # noqa: E731
    _, near, far = jax.lax.while_loop(bisecting, bisect, (0, near, far))
    return jnp.where(back, 0.5 * (near + far), 0.0), back


def _positive(q):
    """A length at which to take the slopes at q: q itself, or LIMIT_LENGTH for q* = 0."""
    return jnp.where(q > 0, q, LIMIT_LENGTH)


def correlation_map(activation, c, q, w_std, b_std):
    """c -> (W_std^2 E[phi(u) phi(v)] + b_std^2) / length_map(q): the correlation of the next
    pre-activations of two inputs of length q (take q = q*, where length_map(q*) = q*)."""
    k = _pair(activation, q, c * q, q)
    w2, b2 = _scaled(w_std, b_std)
    return (w2 * k.nngp[0, 0] + b2) / (w2 * k.cov1[0] + b2)


def _scaled(w_std, b_std):
    """(W_std^2, b_std^2) / max(W_std^2, b_std^2): the ratios above without their overflow at
    the last length before float64 overflows (where q* = inf)."""
    scale = jnp.maximum(jnp.maximum(w_std ** 2, b_std ** 2), 1e-300)
    return w_std ** 2 / scale, b_std ** 2 / scale


def fixed_correlation(activation, q, w_std, b_std, c0=0.0):
    """c*, by iterating the correlation map from c0 (1 in the ordered phase)."""
    return _fixed_point(lambda c: jnp.clip(correlation_map(activation, c, q, w_std, b_std),
                                           -1, 1), c0)[0]


def depth_scale(slope):
    """-1 / log(slope): layers per e-fold of the approach to a fixed point; inf where the
    slope is >= 1 (the fixed point is not approached, or only like a power of the depth)."""
    slope = jnp.abs(slope)
    return jnp.where(slope < 1, -1 / jnp.log(jnp.where(slope < 1, slope, 0.5)), jnp.inf)


def chi_1(activation, w_std, b_std):
    """W_std^2 E[phi'(u)^2] at the fixed length q* (its limit q -> 0 at q* = 0)."""
    q = _positive(fixed_length(activation, w_std, b_std)[0])
    return w_std ** 2 * dual(activation, q, q, q)[1]


@dataclass(frozen=True)
class Propagation:
    """The fixed points, slopes and depth scales of one (activation, W_std, b_std)."""

    q_star: float  # 0 where the lengths shrink to 0, inf where they grow without bound
    c_star: float
    chi_1: float
    chi_c: float
    xi_q: float
    xi_c: float


@functools.partial(jax.jit, static_argnums=0)
def _propagation_arrays(activation, w_std, b_std):
    q_star, found = fixed_length(activation, w_std, b_std)
    q = _positive(q_star)
    c = fixed_correlation(activation, q, w_std, b_std)
    chi = w_std ** 2 * dual(activation, q, q, q)[1]
    # the correlation map's slope at c*: W_std^2 E[phi'(u) phi'(v)] q / length_map(q)
    w2, b2 = _scaled(w_std, b_std)
    chi_c = w2 * dual(activation, q, c * q, q)[1] * q / (w2 * dual(activation, q, q, q)[0] + b2)
    slope_q = jax.jvp(lambda x: length_map(activation, x, w_std, b_std), (q,), (1.0,))[1]
    xi_q = jnp.where(found, depth_scale(slope_q), jnp.inf)
    return jnp.where(found, q_star, jnp.inf), c, chi, chi_c, xi_q, depth_scale(chi_c)


def propagation(activation, w_std, b_std) -> Propagation:
    """q*, c*, chi_1, chi_c, xi_q and xi_c for [Dense(W_std, b_std), activation] repeated."""
    values = _propagation_arrays(_layer(activation), w_std, b_std)
    return Propagation(*(float(v) for v in values))


@dataclass(frozen=True)
class PhaseDiagram:
    """chi_1 (and q*, xi_c) on a grid: rows follow b_std, columns W_std."""

    w_std: np.ndarray
    b_std: np.ndarray
    chi_1: np.ndarray
    q_star: np.ndarray
    xi_c: np.ndarray


@functools.partial(jax.jit, static_argnums=0)
def _grid(activation, w_std, b_std):
    w, b = jnp.meshgrid(w_std, b_std)
    one = lambda w_, b_: _propagation_arrays(activation, w_, b_)  # noqa: E731
    q, _, chi, _, _, xi_c = jax.vmap(jax.vmap(one))(w, b)
    return chi, q, xi_c


def phase_diagram(activation, w_std, b_std) -> PhaseDiagram:
    """chi_1 over the grid W_std x b_std (1-D arrays): < 1 ordered, > 1 chaotic."""
    w_std, b_std = np.asarray(w_std, float), np.asarray(b_std, float)
    chi, q, xi_c = _grid(_layer(activation), w_std, b_std)
    return PhaseDiagram(w_std, b_std, np.asarray(chi), np.asarray(q), np.asarray(xi_c))


_chi_1 = jax.jit(chi_1, static_argnums=0)


@functools.partial(jax.jit, static_argnums=0)
def _chi_1_grid(activation, w_std, b_std):
    w, b = jnp.meshgrid(w_std, b_std)
    return jax.vmap(jax.vmap(lambda w_, b_: chi_1(activation, w_, b_)))(w, b)


def chi_1_diagram(activation, w_std, b_std) -> np.ndarray:
    """chi_1 alone over the grid W_std x b_std (rows b_std): only the fixed length q* is
    iterated (fast), not c* (slow next to the critical line), so a dashboard draws it quickly."""
    w_std, b_std = np.asarray(w_std, float), np.asarray(b_std, float)
    return np.asarray(_chi_1_grid(_layer(activation), w_std, b_std))


def critical_w_std(activation, b_std, low=0.1, high=10.0, steps=40) -> float:
    """W_std on the critical line chi_1 = 1 at this b_std, by bisection on [low, high]
    (chi_1 grows with W_std for the usual activations); NaN when [low, high] holds none."""
    activation = _layer(activation)
    above = lambda w: float(_chi_1(activation, w, b_std)) > 1  # noqa: E731
    if above(low) or not above(high):
        return float("nan")
    for _ in range(steps):
        mid = 0.5 * (low + high)
        low, high = (low, mid) if above(mid) else (mid, high)
    return 0.5 * (low + high)


@functools.partial(jax.jit, static_argnums=(0, 6))
def _correlations(activation, w_std, b_std, q11, q12, q22, depth):
    def block(moments, _):
        q = [w_std ** 2 * m + b_std ** 2 for m in moments]  # Dense
        k = _pair(activation, *q)
        return (k.cov1[0], k.nngp[0, 0], k.cov2[0]), q[1] / jnp.sqrt(q[0] * q[2])
    return jax.lax.scan(block, (q11, q12, q22), None, length=depth)[1]


def correlations_over_depth(activation, w_std, b_std, q11, q12, q22, depth) -> np.ndarray:
    """Correlations of two inputs' pre-activations after each of ``depth`` [Dense,
    activation] blocks (entry 0: after the first Dense), from the inputs' second moments
    q11 = x . x / d, q12 = x . x' / d, q22 = x' . x' / d."""
    moments = (float(q11), float(q12), float(q22))
    return np.asarray(_correlations(_layer(activation), w_std, b_std, *moments, depth))


def _layer(activation):
    """The Layer of an activation given as a layer or as a stax network."""
    return getattr(activation, "layer", activation)


@functools.partial(jax.jit, static_argnums=(0, 5))
def _iterate_map(activation, w_std, b_std, q, c0, depth):
    def step(c, _):
        c = jnp.clip(correlation_map(activation, c, q, w_std, b_std), -1, 1)
        return c, c
    return jax.vmap(lambda c: jax.lax.scan(step, c, None, length=depth)[1])(c0)


def correlation_map_over_depth(activation, w_std, b_std, c0, depth) -> np.ndarray:
    """The correlation map iterated at q*: row i is c_1 ... c_depth from c0[i] (the input
    correlation of two inputs of length q*). Needs a fixed length (ValueError if none)."""
    layer = _layer(activation)
    p = propagation(layer, w_std, b_std)
    if not np.isfinite(p.q_star):
        raise ValueError(f"correlation_map_over_depth(w_std={w_std!r}, b_std={b_std!r}): the "
                         f"lengths grow without bound here; the map needs a fixed length q*")
    c0 = jnp.asarray(np.atleast_1d(np.asarray(c0, float)))
    q = p.q_star if p.q_star > 0 else LIMIT_LENGTH  # at q* = 0 the map's limit q -> 0
    return np.asarray(_iterate_map(layer, w_std, b_std, q, c0, int(depth)))


@functools.partial(jax.jit, static_argnums=(0, 4))
def _kernels(activation, w_std, b_std, moments, depth):
    def block(carry, _):
        m, theta = carry  # (11, 12, 22) after the previous activation / the inputs
        s = [w_std ** 2 * v + b_std ** 2 for v in m]  # Dense
        t = [si + w_std ** 2 * ti for si, ti in zip(s, theta)]
        pairs = [_pair(activation, s[0], s[0], s[0]), _pair(activation, *s),
                 _pair(activation, s[2], s[2], s[2])]
        nngp = [pairs[0].cov1[0], pairs[1].nngp[0, 0], pairs[2].cov1[0]]
        dots = [k.ntk[0, 0] for k in pairs]
        correlation = lambda v: v[1] / jnp.sqrt(v[0] * v[2])  # noqa: E731
        return (nngp, [d * ti for d, ti in zip(dots, t)]), (correlation(s), correlation(t))
    zero = [jnp.zeros(()) for _ in range(3)]
    return jax.lax.scan(block, ([jnp.asarray(v) for v in moments], zero), None, length=depth)[1]


@dataclass(frozen=True, eq=False)
class KernelCorrelations:
    """NNGP and NTK correlations of two inputs after each Dense of [Dense, phi] x depth."""

    depth: np.ndarray  # 1 ... depth: the kernels after that many Dense layers
    nngp: np.ndarray
    ntk: np.ndarray


def kernel_correlations_over_depth(activation, w_std, b_std, q11, q12, q22,
                                   depth) -> KernelCorrelations:
    """The NNGP and NTK correlation K12 / sqrt(K11 K22) of two inputs (second moments
    q11 = x . x / d, q12, q22) after 1 ... depth Dense layers of [Dense, phi] repeated: entry
    L - 1 is the kernel of L - 1 hidden blocks and a Dense readout (Theta of the inputs = 0)."""
    moments = tuple(float(v) for v in (q11, q12, q22))
    nngp, ntk = _kernels(_layer(activation), w_std, b_std, moments, int(depth))
    return KernelCorrelations(np.arange(1, int(depth) + 1), np.asarray(nngp), np.asarray(ntk))


def critical_line(diagram) -> np.ndarray:
    """W_std where chi_1 crosses 1 in each row (b_std) of the diagram (anything with w_std,
    b_std and chi_1, e.g. a PhaseDiagram), interpolated in log chi_1 between grid columns;
    NaN where the row does not cross."""
    out = np.full(len(diagram.b_std), np.nan)
    for i, row in enumerate(np.log(np.maximum(diagram.chi_1, 1e-300))):
        j = np.flatnonzero((row[:-1] < 0) & (row[1:] >= 0))
        if j.size:
            j = j[0]
            w = diagram.w_std
            out[i] = w[j] + (w[j + 1] - w[j]) * (-row[j]) / (row[j + 1] - row[j])
    return out


#: layers of a spec that are not elementwise activations (or need a Python function)
NOT_ACTIVATIONS = {"AvgPool", "Conv", "Dense", "FanInSum", "FanOut", "Flatten", "GlobalAvgPool",
                   "Identity", "LayerNorm", "parallel", "serial", "Elementwise",
                   "ElementwiseNumerical"}


@dataclass(frozen=True)
class Block:
    """The repeated block of a spec: its first Dense's W_std, b_std and the activation
    after it, as [name, {arguments}] (hashable: arguments as sorted pairs)."""

    activation: tuple  # (name, ((argument, value), ...))
    w_std: float
    b_std: float

    def layer(self):
        from .. import stax
        name, arguments = self.activation
        return stax.LAYERS[name](**dict(arguments)).layer


def repeated_block(spec) -> Block:
    """[Dense, phi] as it first occurs in ``spec`` (a list of [name, {arguments}])."""
    entries = [e for e in spec if isinstance(e, (list, tuple)) and len(e) == 2]
    for i, (name, kwargs) in enumerate(entries[:-1]):
        after = entries[i + 1]
        if name == "Dense" and isinstance(after[0], str) and after[0] not in NOT_ACTIVATIONS:
            arguments = tuple(sorted((k, v) for k, v in after[1].items()))
            return Block((after[0], arguments), float(kwargs.get("W_std", 1.0)),
                         float(kwargs.get("b_std") or 0.0))
    raise ValueError("repeated_block(spec): expected a Dense layer followed by an activation "
                     f"(e.g. [\"Dense\", ...], [\"Erf\", {{}}]); got the layers "
                     f"{[e[0] for e in entries]}")
