"""Export: the data behind each view as CSV, and "Copy as Python" (app/views/snippets.py).

A view exports by defining ``export_table() -> {column: values}`` (equal-length columns,
the numbers it plots) and ``export_python() -> str``. The training-dynamics views of the
frame are exported here from the session, from the same results they plot.
"""
from __future__ import annotations

import csv
import io

import numpy as np

from ..state.settings import T_GRID
from . import snippets
from .function_space import FunctionSpaceView
from .loss import LossView
from .plotting import is_function_plot, plot_inputs


def csv_text(columns: dict) -> str:
    """Columns as CSV text with a header row; floats at full precision."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(columns))
    for row in zip(*columns.values()):
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _cell(value):
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, np.integer):
        return int(value)
    return value


# ------------------------------------------------------------------ frame views

def _function_space_table(session) -> dict:
    result = session.closed_form
    if result is None or not is_function_plot(result.data):
        return {"x": [], "mean": [], "std": []}
    _, x_test, _ = plot_inputs(result.data)
    curves = result.at(session.training.t)
    return {"x": x_test, "target": result.data.y_test[:, 0], "mean": curves.mean[:, 0],
            "std": curves.std}


def _loss_table(session) -> dict:
    result = session.closed_form
    if result is None:
        return {"t": []}
    columns = {"t": result.losses.train.t}
    for name in ("train", "test"):
        curve = getattr(result.losses, name)
        if curve is not None:
            columns.update({f"{name}_mean": curve.mean, f"{name}_std": curve.std})
    return columns


def _settings(session) -> dict:
    training = session.training
    result = session.closed_form
    return dict(spec=session.architecture.spec, data_key=session.data.key, mode=training.mode,
                learning_rate=result.learning_rate if result else training.learning_rate,
                diag_reg=training.diag_reg)


FRAME_VIEWS = {
    FunctionSpaceView: (_function_space_table,
                        lambda s: snippets.closed_form(**_settings(s), t=s.training.t)),
    LossView: (_loss_table, lambda s: snippets.loss(**_settings(s), times=T_GRID)),
}


def exportable(view) -> bool:
    return hasattr(view, "export_table") or type(view) in FRAME_VIEWS


def table(view) -> dict:
    """The numbers behind ``view``'s figures, as equal-length columns."""
    if hasattr(view, "export_table"):
        return view.export_table()
    return FRAME_VIEWS[type(view)][0](view.session)


def python(view) -> str:
    """A script using ``engine`` that recomputes ``view``'s numbers."""
    if hasattr(view, "export_python"):
        return view.export_python()
    return FRAME_VIEWS[type(view)][1](view.session)


def filename(view) -> str:
    return f"{getattr(view, 'slug', type(view).__name__.removesuffix('View').lower())}.csv"
