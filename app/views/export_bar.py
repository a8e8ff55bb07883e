"""Under every view: its data as CSV, and "Copy as Python" (the plots' own save tool gives PNG)."""
from __future__ import annotations

import io

import panel as pn
import param
from bokeh.models import CustomJS

from . import export

#: copies the snippet once the server has written it (clipboard errors are ignored: the text
#: stays selectable in the box)
COPY_JS = """
if (navigator.clipboard && source.value) {
  navigator.clipboard.writeText(source.value).catch(() => {});
}
"""


class CodeBox(pn.widgets.TextAreaInput):
    """A text box whose page copies every new value to the clipboard.

    The copy is a Bokeh ``CustomJS`` on the box's own model, not Panel's ``jscallback``: a
    Panel link (one per export bar) made every later layout change of the page (a tab shown,
    the layer rows of a new preset) walk all of the page's models twice in Panel's link
    hook (panel/links.py ``Callback._process_callbacks``), on the event loop: 0.8 s of a
    lesson step's 1.7 s there, and every other page waited."""

    def _get_model(self, doc, root=None, parent=None, comm=None):
        model = super()._get_model(doc, root, parent, comm)
        model.js_on_change("value", CustomJS(args={"source": model}, code=COPY_JS))
        return model


class ExportBar(pn.viewable.Viewer):
    view = param.Parameter(doc="The view exported (see app/views/export.py).")

    def __init__(self, **params):
        super().__init__(**params)
        slug = export.filename(self.view).removesuffix(".csv")
        self._download = pn.widgets.FileDownload(
            callback=self._csv, filename=export.filename(self.view), label="Download CSV",
            width=150, css_classes=[f"csv-{slug}"])
        self._copy = pn.widgets.Button(label="Copy as Python", width=150,
                                       css_classes=[f"python-{slug}"])
        self._code = CodeBox(
            value="", visible=False, height=260, sizing_mode="stretch_width",
            css_classes=[f"python-code-{slug}"],
            stylesheets=["textarea { font-family: monospace; font-size: 12px; }"])
        self._copy.on_click(self.show_python)

    def _csv(self):
        return io.StringIO(export.csv_text(export.table(self.view)))

    def show_python(self, event=None) -> None:
        """Write the current figure's snippet into the box (the browser copies it)."""
        self._code.param.update(value=export.python(self.view), visible=True)

    def __panel__(self):
        hint = pn.pane.Markdown("PNG: the save tool in each plot's toolbar.",
                                styles={"font-size": "0.8em", "color": "#666"}, margin=(8, 5))
        return pn.Column(pn.Row(self._download, self._copy, hint), self._code,
                         sizing_mode="stretch_width")
