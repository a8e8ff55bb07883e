"""The Layer record: one architecture element's four functions side by side.

- ``shape(Shape) -> Shape``: the static pass. Checks the input the layer receives
  (spatial axes, branches, Gaussianity) and returns what it outputs; raises
  ``ValueError`` before any computation.
- ``init(key, Shape) -> params``: parameters as a plain pytree.
- ``apply(params, x) -> y``: the finite network.
- ``kernel(Kernel) -> Kernel``: the infinite-width limit of ``apply``.

Between FanOut and FanInSum the value flowing is a tuple (of shapes, arrays or
kernels), one per branch.

Layers compare and hash by ``key`` (their constructor name and arguments), so two
networks built from the same spec share one compiled kernel function.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable



@dataclass(frozen=True)
class Shape:
    """Static description of the value between layers (batch axis excluded).

    ``dims`` are canonical (spatial..., channels); ``order`` is the user's layout of the
    arrays of the finite network (engine.layers.layout; None: the canonical one).
    """

    dims: tuple[int, ...]
    is_gaussian: bool = False
    order: tuple[int, ...] | None = None

    @property
    def spatial(self) -> int:
        return len(self.dims) - 1

    @property
    def channels(self) -> int:
        return self.dims[-1]


def no_params(key, shape):
    return ()


@dataclass(frozen=True, eq=False)
class Layer:
    key: tuple
    shape: Callable[[Any], Any]
    kernel: Callable[[Any], Any]
    apply: Callable[[Any, Any], Any]
    init: Callable[[Any, Any], Any] = no_params
    pools: bool = False  # needs covariances between different positions
    children: tuple = field(default=())
    #: the layout it takes (engine.layers.layout): None = canonical only, "any" = passes
    #: any on, (batch_axis, channel_axis) = declared (channel_axis None: any channel axis)
    axes: object = None
    #: how neural-tangents' masks (``mask_constant``) pass the layer (engine.layers.masking):
    #: None refuses them; a rule ``(masks, dims) -> masks``; ``INSIDE`` (combinators): the
    #: layers inside handle them
    masks: object = None
    #: zero the covariances of masked entries after the kernel (neural-tangents' remask_kernel)
    remask: bool = False
    #: ``apply`` takes ``mask=`` (the input's mask, or None), as neural-tangents' do
    apply_mask: bool = False

    @property
    def name(self) -> str:
        return self.key[0]

    def __eq__(self, other):
        return isinstance(other, Layer) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    @property
    def needs_full_covariance(self) -> bool:
        return self.pools or any(c.needs_full_covariance for c in self.children)


def expect_single(name: str, s) -> Shape:
    """The layer takes one input, not open branches."""
    if isinstance(s, tuple):
        raise ValueError(f"{name}: receives {len(s)} parallel branches; "
                         "join them with FanInSum first")
    return s


def expect_spatial(name: str, s, max_spatial: int = 2) -> Shape:
    s = expect_single(name, s)
    if not 1 <= s.spatial <= max_spatial:
        raise ValueError(f"{name}: needs inputs with 1 or 2 spatial axes (NWC or NHWC); "
                         f"got inputs of shape {('N',) + s.dims}")
    return s
