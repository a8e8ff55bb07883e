"""Overlays that a background result can fill in later: fixed structure, ranges that follow.

A view's DynamicMap first renders with no result (empty elements) and is refilled when
the job delivers. HoloViews recomputes the axis ranges of such an update only for
elements that carry ``framewise=True`` themselves (an Overlay's or DynamicMap's own
option is not enough), and a legend only lists the layers of the first render, so a
view keeps the same layers in every update and colours per-width series by a value
dimension (one element, one colour bar) instead of one layer per width.
"""
from __future__ import annotations

import holoviews as hv
import numpy as np

#: the colour map of widths (log scale): narrow dark, wide bright
WIDTH_CMAP = "viridis"


def overlay(elements, **opts) -> hv.Overlay:
    """``hv.Overlay`` of ``elements``, each fitting the ranges to its data on every update."""
    return hv.Overlay([e.opts(framewise=True, padding=0.05) for e in elements]).opts(**opts)


def nonempty_paths(paths: list) -> list:
    """An empty list of paths as one invisible path, so the first render has a legend entry."""
    return paths or [(np.array([np.nan]), np.array([np.nan]))]


WIDTH = hv.Dimension("width", label="width n")


def width_colors(widths) -> dict:
    """Options colouring an element by its "width" values on a log scale over ``widths``."""
    low, high = float(min(widths)), float(max(widths))
    return dict(color="width", cmap=WIDTH_CMAP, cnorm="log", colorbar=True,
                clim=(low, high if high > low else 2 * low))


def width_paths(series, widths, kdim, vdim, name_hook, **opts) -> hv.Path:
    """One Path of (x, y, width) series, coloured by width on a log scale over ``widths``.

    ``series``: [(x, y, width), ...]; empty gives a single invisible (NaN) path, so the
    first render has the same structure as later ones.
    """
    series = series or [([np.nan], [np.nan], min(widths))]
    data = [{kdim.name: np.asarray(x, float), vdim.name: np.asarray(y, float),
             "width": float(w)} for x, y, w in series]
    return hv.Path(data, [kdim, vdim], [WIDTH]).opts(hooks=[name_hook], **width_colors(widths),
                                                      **opts)
