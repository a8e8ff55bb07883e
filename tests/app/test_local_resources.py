"""Stylesheets stay on our server when a job updates a view in a hidden tab (app/local_resources.py)."""
import panel as pn
from bokeh.document import Document
from bokeh.models import ImportedStyleSheet
from panel.io.resources import LOCAL_DIST
from panel.io.state import set_curdoc

from app.local_resources import serve_stylesheets_locally


def _stylesheet_urls(doc) -> set[str]:
    return {sheet.url for sheet in doc.select({"type": ImportedStyleSheet})}


def test_an_update_in_a_hidden_tab_keeps_every_stylesheet_local():
    serve_stylesheets_locally()
    doc = Document()
    doc._template_variables["dist_url"] = LOCAL_DIST  # as `panel serve` sets it for a page
    status = pn.pane.Str("training")
    tabs = pn.Tabs(("Training", pn.Column(status)), ("Kernels", pn.pane.Markdown("k")),
                   dynamic=True)
    with set_curdoc(doc):
        doc.add_root(tabs.get_root(doc))
        tabs.active = 1             # the first tab's models leave the document
        status.object = "done"      # a job finishes while its tab is hidden
        tabs.active = 0
    urls = _stylesheet_urls(doc)
    assert any("loading.css" in url for url in urls)
    assert [url for url in urls if "://" in url] == []
