"""What a custom layer's kernel function needs from its input Kernel: ``stax.requires``.

neural-tangents lets a layer's ``kernel_fn`` state what its input Kernel must hold:

    @stax.requires(diagonal_spatial=stax.Diagonal(input=stax.Bool.NO))
    def kernel_fn(k): ...            # needs covariances between different positions

``Diagonal(input, output)`` with the three-valued ``Bool`` (NO < MAYBE < YES) says whether the
layer accepts a kernel holding only equal positions (``input``) and whether its output may
hold only those (``output``); ``&`` combines two layers side by side (the weaker of each),
``>>`` one after the other. Here a requirement is read once, when the layer is built
(custom.py): an input other than ``Bool.YES`` (or ``diagonal_spatial=False``) marks the layer
as mixing positions, so kernel_fn tracks every pair of positions through the network. Other
requirements this engine meets as it is (batch_axis=0, channel_axis=-1, diagonal_batch=True)
are accepted; asking for anything else is a ValueError naming it.
"""
from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

#: the attribute ``requires`` sets on the kernel function it decorates
ATTRIBUTE = "requirements"


class Bool(enum.IntEnum):
    """Three-valued truth for ``Diagonal``: NO < MAYBE < YES; ``a & b`` is the smaller.

    NO: false (e.g. the layer needs covariances between positions).
    MAYBE: only under a condition (e.g. when the covariances between positions are zero).
    YES: true.
    """

    NO = 0
    MAYBE = 1
    YES = 2

    def __and__(self, other):
        return Bool(min(int(self), int(other)))

    __rand__ = __and__


@dataclass(frozen=True)
class Diagonal:
    """Whether a layer's input (and the network's output from it on) may hold equal
    positions only; see the module docstring.

    Args:
      input: Bool.YES: the layer works on per-position variances; MAYBE: only when the
        covariances between positions are zero; NO: it needs them.
      output: Bool.YES: outputs from here on may be per-position; MAYBE: here, not
        necessarily further on; NO: no.
    """

    input: Bool = Bool.YES
    output: Bool = Bool.NO

    def __and__(self, other: "Diagonal") -> "Diagonal":
        return Diagonal(self.input & other.input, self.output & other.output)

    __rand__ = __and__

    def __rshift__(self, other: "Diagonal") -> "Diagonal":
        """This layer, then ``other``: what the pair asks of its input."""
        if self.output == Bool.YES:  # nothing after this layer can need more
            return self
        if self.output > Bool.NO and other.input > Bool.NO:
            first = self.input
        elif self.output == Bool.NO and other.input < Bool.YES:
            first = Bool.NO
        else:
            first = Bool(min(self.input, other.input))
        return Diagonal(first, other.output)

    def __lshift__(self, other: "Diagonal") -> "Diagonal":
        return other >> self

    def __bool__(self) -> bool:
        """True when a per-position kernel is enough (neural-tangents' reading)."""
        return self.input == Bool.YES and self.output > Bool.NO


#: requirements this engine meets without asking: batch axis first, channels last, and
#: cov1/cov2 per input (neural-tangents' diagonal_batch=True)
MET = {"batch_axis": (0,), "channel_axis": (-1,), "diagonal_batch": (True, None)}


def requires(**requirements):
    """Decorator: ``kernel_fn`` with the requirements it states on its input Kernel.

    Args:
      **requirements: ``diagonal_spatial`` (a bool or a ``Diagonal``), ``diagonal_batch``
        (True), ``batch_axis`` (0), ``channel_axis`` (-1); any other name is a keyword the
        layer reads and is kept as given.
    """
    for name, value in requirements.items():
        if name in MET and not any(value is v or value == v for v in MET[name]):
            allowed = " or ".join(repr(v) for v in MET[name])
            raise ValueError(f"requires({name}={value!r}): this engine supports only "
                             f"{name}={allowed} (batch axis first, channels last, each input's "
                             "covariance with itself)")
        if name == "diagonal_spatial" and not isinstance(value, (bool, Diagonal)):
            raise ValueError(f"requires(diagonal_spatial={value!r}): expected True, False or "
                             "a stax.Diagonal")

    def decorate(kernel_fn):
        @functools.wraps(kernel_fn)
        def with_requirements(k, **kwargs):
            return kernel_fn(k, **kwargs)

        setattr(with_requirements, ATTRIBUTE, dict(requirements))
        return with_requirements

    return decorate


def mixes_positions(kernel_fn) -> bool:
    """The kernel function needs covariances between positions (read from ``requires``)."""
    wanted = getattr(kernel_fn, ATTRIBUTE, {}).get("diagonal_spatial")
    if isinstance(wanted, Diagonal):
        return wanted.input != Bool.YES
    return wanted is False
