"""One row of the stack editor: a layer's type and arguments, move/insert/remove buttons.

The arguments are a param form (app/state/catalog.py) shown with ``pn.Param``; editing one
sends the whole layer back to the editor, which turns it into a new engine spec.
"""
from __future__ import annotations

import json
from typing import Callable

import panel as pn
import param

from ..state import catalog, stack
from .literal import literal

_WIDGETS = {param.Number: pn.widgets.FloatInput, param.Integer: pn.widgets.IntInput,
            param.Selector: pn.widgets.Select, param.String: pn.widgets.TextInput,
            param.Boolean: pn.widgets.Checkbox}


def _widget_type(parameter):
    for kind, widget in _WIDGETS.items():
        if type(parameter) is kind:
            return widget
    return pn.widgets.TextInput


class LayerRow(pn.viewable.Viewer):
    """A layer at ``path``: ``on_edit(path, entry)`` and ``on_action(path, action)`` report."""

    path = param.Parameter(default=(0,), doc="Editor path of the layer (app/state/stack.py).")
    name_ = param.Selector(default="Dense", objects=catalog.layer_names()[:-1], label="")
    selected = param.Boolean(default=False, label="select")
    width_from_slider = param.Boolean(default=False, doc="""
        A hidden weight layer: its width is the width slider's, so the row shows no box.""")

    def __init__(self, entry: list, on_edit: Callable, on_action: Callable, **params):
        super().__init__(**params)
        self.param.name_.objects = sorted(set(catalog.layer_names()[:-1]) | {entry[0]})
        self.name_ = entry[0]
        self._on_edit, self._on_action = on_edit, on_action
        self._form = None
        self._quiet = False
        self._error = pn.pane.Alert("", alert_type="danger", visible=False,
                                    css_classes=["layer-error"], margin=(0, 5))
        self._args = pn.Column(margin=0)
        self._set_form(entry)
        self.param.watch(self._on_type, "name_")

    # ---------------------------------------------------------------- values

    def _set_form(self, entry):
        name, kwargs = entry
        self._kwargs = dict(kwargs)  # arguments the form does not show are kept
        if not catalog.is_layer(name):  # e.g. a hand-written parallel: shown, not edited
            self._args.objects = [pn.pane.Str(literal(json.dumps(entry)),
                                              styles={"font-size": "0.8em"})]
            return
        self._form = catalog.form_class(name)()
        self._set_values(catalog.form_values(name, kwargs))
        self._form.param.watch(self._on_form, [p for p in self._form.param if p != "name"])
        self._args.objects = [self._form_widgets()]

    def _set_values(self, values: dict) -> None:
        """Set what the form can hold; a malformed value stays for the engine to report."""
        for key, value in values.items():
            if key in self._form.param and getattr(self._form, key) != value:
                try:
                    setattr(self._form, key, value)
                except (ValueError, TypeError):
                    pass

    def _form_widgets(self):
        # a hidden layer's width is the width slider's (the finite networks' width): no box
        # that does nothing; the readout's width is its own
        slider = {stack.WIDTH_ARGS.get(self.name_)} if self.width_from_slider else set()
        names = [p for p in self._form.param if p not in {"name", "parameterization"} | slider]
        widgets = {p: {"type": _widget_type(self._form.param[p]), "width": 100, "margin": (0, 4),
                       "css_classes": [f"arg-{p}"]} for p in names}
        # the parameterization is set for all weight layers at once in the editor
        form = pn.Param(self._form, parameters=names, widgets=widgets, show_name=False,
                        default_layout=pn.FlexBox, sizing_mode="stretch_width")
        if not slider:
            return form
        note = pn.pane.Str("width: the width slider's (hidden layer)", css_classes=["width-note"],
                           styles={"font-size": "0.8em", "color": "#555"}, margin=(0, 6))
        return pn.Column(note, form, margin=0, sizing_mode="stretch_width")

    def update(self, entry) -> None:
        """Show ``entry``'s argument values (same layer type) without reporting an edit."""
        self._kwargs = dict(entry[1])
        if self._form is None:
            return
        self._quiet = True
        try:
            self._set_values(catalog.form_values(entry[0], entry[1]))
        finally:
            self._quiet = False

    def _on_form(self, *events):
        if self._quiet:
            return
        values = {p: getattr(self._form, p) for p in self._form.param if p != "name"}
        try:
            kwargs = {**self._kwargs, **catalog.spec_arguments(self.name_, values)}
        except ValueError as err:
            self.show_error(f"{self.name_}({err})")
            return
        self.show_error("")
        self._on_edit(self.path, [self.name_, kwargs])

    def _on_type(self, event):
        self._on_edit(self.path, [event.new, catalog.starting_arguments(event.new)])

    def show_error(self, message: str) -> None:
        self._error.param.update(object=literal(message), visible=bool(message))

    # ---------------------------------------------------------------- layout

    def _button(self, label, action, tip):
        button = pn.widgets.Button(label=label, width=34, margin=(0, 2), description=tip,
                                   css_classes=[f"layer-{action}"])
        button.on_click(lambda event: self._on_action(self.path, action))
        return button

    def __panel__(self):
        position = ".".join(str(i) for i in self.path)
        header = pn.Row(
            pn.pane.HTML(f"<b>{position}</b>", width=28, margin=(8, 2)),
            pn.widgets.Select.from_param(self.param.name_, width=120, margin=(0, 4)),
            # the tooltip renders HTML: our own text only, and escaped all the same
            pn.widgets.TooltipIcon(value=literal(catalog.help_text(self.name_)), margin=(8, 0),
                                   css_classes=["layer-help"]),
            pn.widgets.Checkbox.from_param(self.param.selected, width=60, margin=(8, 4)),
            self._button("↑", "up", "move up"), self._button("↓", "down", "move down"),
            self._button("+", "insert", "insert a layer below"),
            self._button("✕", "remove", "remove this layer"),
            margin=0)
        return pn.Column(header, self._args, self._error, css_classes=["layer-row"],
                         styles={"border-left": "3px solid #1f77b4", "padding-left": "4px"},
                         margin=(2, 0), sizing_mode="stretch_width")
