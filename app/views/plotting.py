"""Shared plotting helpers: stable Bokeh model names, colours, axis conventions.

Browser tests and the latency benchmark find glyphs by name
(``Bokeh.documents[0].get_model_by_name(name + ":source")``), see ``Glyphs``. Data
columns are always "x" and "y" (and "y2" for a band's upper edge).
"""
from __future__ import annotations

import bokeh.plotting
import holoviews as hv
import numpy as np
from bokeh.models import ColumnDataSource, Range1d

from ..jobs.background import in_document, session_document

COLORS = {"train": "#202020", "target": "#7f7f7f", "closed": "#1f77b4", "finite": "#d62728",
          "prior": "#9467bd", "test": "#ff7f0e", "marker": "#2ca02c"}
#: the horizontal axis of inputs on the unit circle (Jacot et al.)
ANGLE_LABEL = "angle γ of x = (cos γ, sin γ)"
#: the lowest value shown on a logarithmic loss axis (a band's lower edge may reach 0)
LOG_FLOOR = 1e-8


def x_dim(label: str) -> hv.Dimension:
    """The horizontal dimension: always called "x" in the data, labelled for the reader."""
    return hv.Dimension("x", label=label)


def y_dims(label: str, band: bool = False, range=(None, None)) -> list:
    """The value dimension "y" (and "y2", a band's other edge).

    The two need different labels: HoloViews finds dimensions by label too, and a "y2"
    labelled like "y" would silently read the "y" column (a band of zero width).
    """
    y = hv.Dimension("y", label=label, range=range)
    return [y, hv.Dimension("y2", label=f"{label} (band edge)")] if band else [y]


class Glyphs:
    """The Bokeh glyphs of one view, by name.

    ``hook(name)`` is a HoloViews hook, ``add(name, model)`` takes a model a view made
    itself (plotting.figure): either names the glyph's renderer ``name`` and its data source
    ``name + ":source"`` (tests and the latency benchmark find them so), and keeps them.
    ``patch`` writes columns straight into the data sources: for a HoloViews view, the few
    that the time slider changes (a Bokeh patch without another pass through HoloViews,
    which costs tens of milliseconds per element); for a view drawn with ``figure``, all
    its data, so nothing is ever drawn again.
    """

    def __init__(self):
        self._renderers: dict = {}
        # the page's document, known before the figures are in it: a glyph made but not yet
        # added to the page (Panel adds it on the event loop) is written there too, never from
        # this thread while the event loop may be adding it (a lesson step's first figure
        # stayed empty in CI, its data written unlocked into a document being built)
        self._document = session_document()

    def hook(self, name: str):
        def hook(plot, element):
            renderer = plot.handles.get("glyph_renderer")
            if renderer is not None:
                renderer.name = name
                renderer.data_source.name = f"{name}:source"
                self._renderers[name] = renderer
            elif "glyph" in plot.handles:  # annotations (a VLine is a Bokeh Span)
                plot.handles["glyph"].name = name
                self._renderers[name] = plot.handles["glyph"]
        return hook

    def add(self, name: str, model):
        """Name a model the view made itself (a glyph renderer: and its data source
        ``name + ":source"``; an axis, a range, a Span) and keep it, as ``hook`` does."""
        model.name = name
        if getattr(model, "data_source", None) is not None:
            model.data_source.name = f"{name}:source"
        self._renderers[name] = model
        return model

    def patch(self, columns: dict[str, dict]) -> bool:
        """Write ``{name: {column: values}}`` into rendered glyphs; False, and nothing
        written, if one is not rendered or would hold columns of different lengths.

        The time slider writes columns of the lengths they have; a delivered finite ensemble
        writes every column of its glyphs, with as many members and steps as it has.
        """
        if not all(name in self._renderers for name in columns):
            return False
        sources = [(self._renderers[name].data_source, values) for name, values in columns.items()]
        if not all(len({len(column) for column in {**source.data, **values}.values()}) <= 1
                   for source, values in sources):
            return False

        def write():
            for source, values in sources:
                source.data.update(values)
        _on_document(sources[0][0].document or self._document, write)
        return True

    def clear(self, names) -> bool:
        """Empty the data sources of rendered glyphs (every column, so lengths agree);
        False if not all rendered."""
        if not all(name in self._renderers for name in names):
            return False
        sources = [self._renderers[name].data_source for name in names]

        def write():
            for source in sources:
                source.data = {column: [] for column in source.data}
        _on_document(sources[0].document or self._document, write)
        return True

    def set(self, name: str, **properties) -> bool:
        """Set properties of a rendered model (e.g. a Span's ``location``)."""
        model = self._renderers.get(name)
        if model is None:
            return False
        _on_document(model.document or self._document, lambda: model.update(**properties))
        return True


def _on_document(doc, write) -> None:
    """Run ``write`` (Bokeh model changes) where it may change ``doc``: at once without a
    server, else on the server's event loop together with the session's other changes of
    that turn (one message to the page; app/jobs/background.py ``in_document``)."""
    if doc is None or doc.session_context is None:
        write()
        return
    in_document(doc, write)


def figure(title: str, x_label: str, y_label: str, y_range: tuple, log: bool = False,
           x_range: tuple | None = None, height: int = 420):
    """A Bokeh figure as HoloViews draws ours (toolbar above, its tools, 420 px high, the
    page's width), for a view that writes its glyphs' data itself: building one takes a few
    milliseconds where a HoloViews overlay took ~0.5 s on the event loop at every page
    opened, and new data is a write to the data sources, not a redraw of the figure.
    ``x_range``: fixed (else it follows the data)."""
    axis = "log" if log else "linear"
    fig = bokeh.plotting.figure(
        title=title, height=height, sizing_mode="stretch_width", toolbar_location="above",
        tools="save,pan,wheel_zoom,box_zoom,reset", active_scroll="wheel_zoom",
        x_axis_type=axis, y_axis_type=axis, x_axis_label=x_label, y_axis_label=y_label,
        y_range=Range1d(*y_range), min_border_left=60,
        **({} if x_range is None else {"x_range": Range1d(*x_range)}))
    fig.toolbar.logo = None
    return fig


def source(**columns) -> ColumnDataSource:
    """An empty data source with these columns (``column=[]``), for ``Glyphs.add``."""
    return ColumnDataSource(data={name: list(values) for name, values in columns.items()})


def named(name: str):
    """A HoloViews hook that only names a glyph (for views that never patch; see Glyphs)."""
    return Glyphs().hook(name)


def band_patch(lower: np.ndarray, upper: np.ndarray) -> dict:
    """The "y" column of a band drawn as one polygon over x then x reversed: the upper
    edge, then the lower one reversed (as HoloViews draws ``hv.Area((x, lower, upper))``,
    holoviews.plotting.bokeh.chart.AreaPlot)."""
    return {"y": np.append(upper, lower[::-1])}


def plot_inputs(data) -> tuple[np.ndarray, np.ndarray, str]:
    """(train, test) positions on the horizontal axis, and its label.

    1-D inputs are plotted against x; the unit circle (Jacot et al.) against the angle
    gamma of x = (cos gamma, sin gamma), over its test grid.
    """
    if data.in_shape == (1,):
        return data.x_train[:, 0], data.x_test[:, 0], "x"
    if data.name == "unit_circle":
        lo, hi = data.grid_extent
        angle = np.arctan2(data.x_train[:, 1], data.x_train[:, 0])
        return angle, np.linspace(lo, hi, data.n_test), ANGLE_LABEL
    return None, None, ""


def is_function_plot(data) -> bool:
    """Can the function-space view draw this dataset (one output over one axis)?"""
    return data.n_outputs == 1 and plot_inputs(data)[0] is not None
