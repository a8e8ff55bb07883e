"""Export: CSV of what each view plots, and "Copy as Python" snippets that recompute it.

For every preset, the snippets of the training-dynamics views are run and their numbers
compared with the tables the app exports (the same arrays it plots).
"""
import csv
import io

import numpy as np
import pytest

from app.views import export
from app.state.limits import Limits
from app.state.presets import PRESETS
from app.state.session import Session
from app.views.function_space import FunctionSpaceView
from app.views.kernels import KernelHeatmapsView
from app.views.loss import LossView


def run(snippet: str) -> dict:
    namespace = {}
    exec(compile(snippet, "<snippet>", "exec"), namespace)
    return namespace


def test_csv_has_a_header_and_full_precision():
    text = export.csv_text({"t": [0, 10], "loss": [0.1234567890123, 1e-300], "name": ["a", "b"]})
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["t", "loss", "name"]
    assert float(rows[1][1]) == 0.1234567890123 and float(rows[2][1]) == 1e-300


@pytest.mark.parametrize("preset", list(PRESETS))
def test_snippets_recompute_what_the_app_shows(preset):
    session = Session(Limits())
    session.finite.show = False
    session.load_preset(preset)
    if session.data.dataset == "digits":  # CNN kernels: fewer images keep the test quick
        session.data.param.update(n_train=12, n_test=12)
    session.training.t = 100
    session.wait()
    assert session.closed_form is not None and not session.stack_error
    views = [FunctionSpaceView(session=session), LossView(session=session),
             KernelHeatmapsView(session=session)]
    for view in views:
        table = export.table(view)
        if not len(next(iter(table.values()))):
            continue  # the view draws nothing for this dataset (e.g. images in function space)
        got = run(export.python(view))
        for column, values in table.items():
            if column in ("x", "t", "target", "row", "column"):
                continue
            np.testing.assert_allclose(_snippet_value(got, column), values, rtol=1e-9,
                                       atol=1e-12, err_msg=f"{preset}: {type(view).__name__}.{column}")


def _snippet_value(namespace, column):
    """The snippet's array behind a CSV column."""
    if column == "mean":
        return namespace["mean"][:, 0]
    if column.endswith(("_mean", "_std")) and column.split("_")[0] in ("train", "test"):
        name, stat = column.split("_")
        return getattr(getattr(namespace["losses"], name), stat)
    return np.ravel(namespace[column])


def test_the_copy_box_copies_in_the_page_without_a_panel_link():
    """The copy to the clipboard is a CustomJS on the box's own Bokeh model. Panel's
    jscallback registered a link per export bar, and with any link in a page every layout
    change walked all of the page's models twice on the event loop (panel/links.py)."""
    import panel as pn
    from bokeh.document import Document
    from bokeh.models import CustomJS
    from panel.links import Callback

    from app.dashboard import App
    from app.views.export_bar import COPY_JS

    session = Session(Limits())
    session.finite.show = False
    session.wait()
    doc = Document()
    doc.add_root(pn.panel(App(session=session)).get_root(doc))
    boxes = [m for m in doc.models if "python-code-functionspace" in (getattr(m, "css_classes", None) or [])]
    assert len(boxes) == 1
    callbacks = boxes[0].js_property_callbacks["change:value"]
    assert [type(c) for c in callbacks] == [CustomJS] and callbacks[0].code == COPY_JS
    assert callbacks[0].args["source"] is boxes[0]
    assert not any(isinstance(source, pn.viewable.Viewable) for source in Callback.registry)
