"""The Kernel record that flows through the layers' kernel functions.

Layout of the arrays (``s`` = number of spatial axes of the layer's output):

- flat inputs (``s == 0``): ``nngp``/``ntk`` are ``(N1, N2)``, ``cov1`` is ``(N1,)``;
- ``diagonal`` spatial mode: only covariances of equal positions are kept,
  ``nngp`` is ``(N1, N2, H, W)`` and ``cov1`` is ``(N1, H, W)``;
- full spatial mode: every pair of positions, interleaved per axis,
  ``nngp`` is ``(N1, N2, H1, H2, W1, W2)`` and ``cov1`` is ``(N1, H, H, W, W)``.

``cov1``/``cov2`` hold each input's covariance with itself (the variances an
activation needs); ``cov2`` is ``cov1`` when ``x2`` is ``x1``.  ``channels`` is the
finite network's feature count at this point (the ``n_in`` of the standard
parameterization), ``is_gaussian`` says whether the pre-activations are a
Gaussian process (true after an affine layer, false on raw inputs and after an
activation). ``same`` (N1, N2) booleans, true where ``x1[i]`` and ``x2[j]`` are one and the
same input (x2 omitted or equal to x1, and i == j), is carried only while a layer needs it
(Dropout in train mode, whose noise is shared by an input with itself only); else None.

neural-tangents' two flags are here under its names: ``x1_is_x2``, a boolean array, true
when x2 was omitted or equals x1 entry for entry (set on kernel_fn's result, None inside the
network), and ``is_input``, False (neural-tangents 0.6.5 sets it False on the input kernel
too, so a program reading it sees what it saw there).

``mask1``/``mask2``: neural-tangents' masks (inputs equal to ``mask_constant``), booleans in
the canonical layout of the values they describe, ``(N, *positions, c)`` with c the channels
or 1, True where an entry is masked; None when nothing is masked (engine.layers.masking).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import jax
import jax.numpy as jnp


@jax.tree_util.register_dataclass
@dataclass(frozen=True)
class Kernel:
    nngp: jax.Array
    ntk: jax.Array
    cov1: jax.Array
    cov2: jax.Array
    channels: int = dataclasses.field(metadata=dict(static=True))
    spatial: int = dataclasses.field(metadata=dict(static=True))
    diagonal: bool = dataclasses.field(metadata=dict(static=True))
    is_gaussian: bool = dataclasses.field(metadata=dict(static=True))
    same: jax.Array | None = None
    x1_is_x2: jax.Array | None = None
    is_input: bool = dataclasses.field(default=False, metadata=dict(static=True))
    mask1: jax.Array | None = None
    mask2: jax.Array | None = None

    def replace(self, **changes) -> "Kernel":
        return dataclasses.replace(self, **changes)

    @property
    def full(self) -> bool:
        """True when covariances between different positions are tracked."""
        return self.spatial > 0 and not self.diagonal

    def map_covariances(self, fn) -> "Kernel":
        """Apply one linear map to nngp, cov1 and cov2 (ntk untouched)."""
        return self.replace(nngp=fn(self.nngp), cov1=fn(self.cov1), cov2=fn(self.cov2))


def positions(k: Kernel) -> tuple:
    """The spatial sizes of the values a Kernel describes (either layout)."""
    return tuple(k.nngp.shape[2:] if k.diagonal or k.spatial == 0 else k.nngp.shape[2::2])


def _letters(spatial: int, first: str, second: str) -> tuple[str, str, str]:
    """einsum letters for positions of x1, of x2, and the interleaved pair layout."""
    p1 = "hwd"[:spatial]
    p2 = "ijk"[:spatial]
    pairs = "".join(a + b for a, b in zip(p1, p2))
    return first + p1, second + p2, pairs


def input_kernel(x1: jax.Array, x2: jax.Array | None, diagonal: bool,
                 same: jax.Array | None = None) -> Kernel:
    """Sigma0(x, x') = x . x' / C over the channel (last) axis, per pair of positions.

    ``same``: the (N1, N2) mask of identical inputs, for layers that need it (else None).
    """
    spatial = x1.ndim - 2
    channels = x1.shape[-1]
    nngp = _pair_products(x1, x1 if x2 is None else x2, spatial, diagonal, 2) / channels
    cov1 = _pair_products(x1, x1, spatial, diagonal, 1) / channels
    cov2 = cov1 if x2 is None else _pair_products(x2, x2, spatial, diagonal, 1) / channels
    return Kernel(nngp=nngp, ntk=jnp.zeros_like(nngp), cov1=cov1, cov2=cov2,
                  channels=channels, spatial=spatial, diagonal=diagonal, is_gaussian=False,
                  same=same)


def _pair_products(a: jax.Array, b: jax.Array, spatial: int, diagonal: bool, batch: int):
    """Sum over channels of a[n, p, c] * b[m, q, c] in the Kernel layout.

    ``batch == 2`` pairs every n with every m; ``batch == 1`` pairs n with itself.
    """
    pos_a, pos_b, pairs = _letters(spatial, "n", "m" if batch == 2 else "n")
    lead = "nm" if batch == 2 else "n"
    if diagonal or spatial == 0:
        pos_b = pos_b[0] + pos_a[1:]
        pairs = pos_a[1:]
    return jnp.einsum(f"{pos_a}c,{pos_b}c->{lead}{pairs}", a, b)


def position_variances(cov: jax.Array, spatial: int, diagonal: bool) -> jax.Array:
    """Per-sample variance at each position, ``(N, *positions)``, from a self-covariance."""
    if diagonal or spatial == 0:
        return cov
    for _ in range(spatial):
        cov = jnp.diagonal(cov, axis1=1, axis2=2)  # the diagonal axis moves to the end
    return cov


def spread(var: jax.Array, spatial: int, full: bool, left: bool, paired: bool):
    """Reshape ``(N, *positions)`` so it broadcasts against a kernel array.

    ``paired`` kernels have two batch axes (nngp); unpaired ones one (cov).
    """
    n, positions = var.shape[0], var.shape[1:]
    if paired:
        lead = (n, 1) if left else (1, n)
    else:
        lead = (n,)
    if not full:
        return var.reshape(lead + positions)
    pos = tuple(d for p in positions for d in ((p, 1) if left else (1, p)))
    return var.reshape(lead + pos)


def variances(k: Kernel) -> tuple[tuple[jax.Array, jax.Array], tuple, tuple]:
    """(q11, q22) broadcastable to nngp, to cov1 and to cov2, in that order."""
    v1 = position_variances(k.cov1, k.spatial, k.diagonal)
    v2 = position_variances(k.cov2, k.spatial, k.diagonal)
    full = k.full
    out = [(spread(v1, k.spatial, full, True, True), spread(v2, k.spatial, full, False, True))]
    for v in (v1, v2):
        out.append((spread(v, k.spatial, full, True, False),
                    spread(v, k.spatial, full, False, False)))
    return tuple(out)
