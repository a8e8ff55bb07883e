"""Width sweeps computed in parts joined into one: each part a sweep over some of the widths
(one width each, say, computed side by side on several workers), the whole the sweep over
all of them, equal to computing it at once.

    parts = [ntk_spectrum(spec, x, [w], seeds) for w in (64, 256, 1024)]
    whole = join_widths(parts)     # == ntk_spectrum(spec, x, [64, 256, 1024], seeds)

A network of width n and seed s is the same whichever sweep it is drawn in (its key is
``PRNGKey(s)``), so the parts hold exactly the numbers of the whole sweep; the log-log
slopes, which need every width, are fitted again over the joined widths.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from .angles import AngleKernels
from .init_outputs import OutputDistribution
from .spectrum import NtkChange, NtkSpectrum, loglog_slope

#: per joined type: (its per-width fields, the fields every part must share, the field the
#: slope is fitted to, or None)
_LAYOUT = {
    NtkSpectrum: (("widths", "eigenvalues", "clipped", "analytic_eigenvalues",
                   "analytic_clipped", "distance"), ("seeds",), "distance"),
    NtkChange: (("widths", "relative_change"), ("seeds", "steps", "learning_rate"),
                "relative_change"),
    OutputDistribution: (("widths", "samples", "nngp_variance", "ks_statistic", "ks_pvalue"),
                         ("x", "seed"), None),
    AngleKernels: (("widths", "ntk_init", "ntk_trained", "nngp_init", "nngp_trained"),
                   ("angles", "nngp", "ntk", "seeds", "steps", "learning_rate"), None),
}


def join_widths(parts):
    """The sweep over the widths of every part, in the order of ``parts``.

    Args:
      parts: a non-empty sequence of results of one sweep function (``ntk_spectrum``,
        ``ntk_change``, ``output_distribution`` or ``angle_kernels``) with the same settings
        apart from their widths, which must not repeat across parts.

    Returns:
      A result of the same type: per-width arrays concatenated along the width axis, the
      slope (where the type has one) fitted over all widths, ``stopped`` if any part stopped.
    """
    parts = list(parts) if isinstance(parts, (list, tuple)) else parts
    if not isinstance(parts, list) or not parts:
        raise ValueError(f"join_widths(parts={parts!r}): expected a non-empty list of sweep "
                         f"results")
    kind = type(parts[0])
    if kind not in _LAYOUT or any(type(p) is not kind for p in parts):
        names = sorted({type(p).__name__ for p in parts})
        raise ValueError(f"join_widths: expected results of one sweep type "
                         f"({', '.join(t.__name__ for t in _LAYOUT)}), got {', '.join(names)}")
    per_width, shared, fitted = _LAYOUT[kind]
    for name in shared:
        first = getattr(parts[0], name)
        if any(not np.array_equal(getattr(p, name), first) for p in parts[1:]):
            raise ValueError(f"join_widths: the parts differ in {name!r}; only their widths "
                             f"may differ")
    joined = {name: np.concatenate([np.asarray(getattr(p, name)) for p in parts])
              for name in per_width}
    if len(set(joined["widths"].tolist())) < len(joined["widths"]):
        raise ValueError(f"join_widths: width repeated across the parts "
                         f"({joined['widths'].tolist()})")
    if fitted is not None:
        joined["slope"] = loglog_slope(joined["widths"], joined[fitted])
    joined["stopped"] = any(p.stopped for p in parts)
    return dataclasses.replace(parts[0], **joined)
