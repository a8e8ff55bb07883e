"""The layer stack editor: presets, rows of layers, residual blocks, the spec as JSON.

Every edit builds new editor items (app/state/stack.py) and hands them to the Architecture,
which keeps the engine spec. The rows are rebuilt only when the stack's structure
changes (a layer added, removed, moved, wrapped), so typing a value keeps the focus.
An engine error is shown under the layer it names; the views keep the last valid result.
"""
from __future__ import annotations

import json
import threading

import panel as pn
import param

from ..state import catalog, spec_input, stack
from ..state.presets import CUSTOM, CUSTOM_DESCRIPTION, DEFAULT, PRESETS
from ..state.session import Session
from .layer_row import LayerRow
from .literal import literal

SPEC_HELP = ("The engine spec: a JSON list of [name, {arguments}] layers, as in "
             "neural-tangents' stax (combinators: FanOut, parallel, FanInSum). Read as JSON, "
             "never run as code.")


def _structure(items: list) -> tuple:
    return tuple((n, _structure(k["layers"])) if n == stack.RESIDUAL else n for n, k in items)


class StackEditor(pn.viewable.Viewer):
    session = param.ClassSelector(class_=Session)
    preset = param.Selector(default=DEFAULT, objects=[*PRESETS, CUSTOM], label="Preset")
    new_layer = param.Selector(default="Dense", objects=catalog.layer_names(), label="Layer type")
    parameterization = param.Selector(default="ntk", objects=catalog.CHOICES["parameterization"],
                                      label="Parameterization (all weight layers)")
    spec_text = param.String(default="", label="Spec (JSON)")
    notice = param.String(default="")
    selected = param.Integer(default=0, doc="How many layers are ticked for wrapping.")

    def __init__(self, **params):
        super().__init__(**params)
        self._rows: dict[tuple, LayerRow] = {}
        self._count_lock = threading.Lock()
        self._structure = None
        self._list = pn.Column(sizing_mode="stretch_width", margin=0)
        self._general_error = pn.pane.Alert("", alert_type="danger", visible=False,
                                            css_classes=["stack-error"])
        architecture = self.session.architecture
        architecture.param.watch(self._refresh, "spec")
        self._showing_preset = False
        architecture.param.watch(lambda event: self._show_preset(event.new), "preset")
        # a page opened on a lesson step or a preset link loaded it before this editor existed
        self._show_preset(architecture.preset)
        self.session.param.watch(self._show_errors, ["stack_error", "error_path"])
        self._refresh()

    # ---------------------------------------------------------------- spec -> rows

    @property
    def _items(self) -> list:
        return self.session.architecture.items

    def _refresh(self, *events):
        items = self._items
        self.spec_text = json.dumps(self.session.architecture.spec)
        uniform = {stack.get(items, p)[1].get("parameterization", "ntk")
                   for p in stack.weight_paths(items)}
        if len(uniform) == 1:
            with param.parameterized.discard_events(self):
                self.parameterization = uniform.pop()
        if _structure(items) == self._structure:
            for path, row in self._rows.items():
                row.update(stack.get(items, path))
        else:
            self._structure = _structure(items)
            self._hidden = set(stack.hidden_paths(items))
            self._rows = {}
            self._list.objects = self._build(items, ())
            self._count_selected()
        self._show_errors()

    def _build(self, items, prefix) -> list:
        views = []
        for i, entry in enumerate(items):
            path = prefix + (i,)
            if entry[0] == stack.RESIDUAL:
                views.append(self._residual(entry, path))
            else:
                row = LayerRow(entry, self._edit, self._act, path=path,
                               width_from_slider=path in self._hidden)
                row.param.watch(self._count_selected, "selected")
                self._rows[path] = row
                views.append(row)
        return views

    def _residual(self, entry, path):
        def button(label, action, tip):
            b = pn.widgets.Button(label=label, width=34 if len(label) == 1 else 80,
                                  margin=(0, 2), description=tip,
                                  css_classes=[f"residual-{action}"])
            b.on_click(lambda event: self._act(path, action))
            return b
        header = pn.Row(
            pn.pane.HTML(f"<b>{'.'.join(map(str, path))} Residual block</b> y = x + f(x)",
                         margin=(8, 4)),
            button("↑", "up", "move up"), button("↓", "down", "move down"),
            button("unwrap", "unwrap", "replace the block by its layers"),
            button("✕", "remove", "remove the block"), margin=0)
        inner = self._build(entry[1]["layers"], path)
        return pn.Column(header, *inner, css_classes=["residual-block"], margin=(4, 0),
                         styles={"border": "1px dashed #888", "padding": "4px",
                                 "border-radius": "6px"}, sizing_mode="stretch_width")

    def _show_errors(self, *events):
        error, where = self.session.stack_error, self.session.error_path
        for path, row in self._rows.items():
            row.show_error(error if where == path else "")
        shown_at_row = where in self._rows
        self._general_error.param.update(object=literal(error),
                                         visible=bool(error) and not shown_at_row)

    # ---------------------------------------------------------------- edits

    def _set_items(self, items) -> None:
        """Apply edited items, unless the spec they make is beyond the server's limits."""
        try:
            spec_input.check(stack.unfold(items), self.session.limits)
        except ValueError as err:
            self.notice = str(err)
            return
        self.notice = ""
        self.session.architecture.edit(items)

    def _edit(self, path, entry) -> None:
        self._set_items(stack.replace(self._items, path, entry))

    def _new_entry(self, name):
        args = catalog.starting_arguments(name)
        if name in stack.WIDTH_ARGS:
            args[stack.WIDTH_ARGS[name]] = self.session.architecture.width
        return [name, args]

    def _act(self, path, action) -> None:
        items = self._items
        edits = {
            "up": lambda: stack.move(items, path, -1),
            "down": lambda: stack.move(items, path, 1),
            "remove": lambda: stack.remove(items, path),
            "unwrap": lambda: stack.unwrap(items, path),
            "insert": lambda: stack.insert(items, path[:-1] + (path[-1] + 1,),
                                           self._new_entry(self.new_layer)),
        }
        if action == "remove" and len(items) == 1 and len(path) == 1:
            self.notice = "The stack needs at least one layer."
            return
        self._set_items(edits[action]())

    def add_layer(self, event=None) -> None:
        """Insert a layer of type ``new_layer`` before the readout (the last layer)."""
        items = self._items
        self._set_items(stack.insert(items, (max(len(items) - 1, 0),),
                                     self._new_entry(self.new_layer)))

    def _count_selected(self, *events) -> None:
        # Ticks arrive on Panel's worker threads: without the lock a count taken before the
        # other tick could be assigned after it, leaving the label one short.
        with self._count_lock:
            self.selected = sum(row.selected for row in self._rows.values())

    def wrap_label(self) -> str:
        """The wrap button's label: it says how many layers the server has seen ticked."""
        if not self.selected:
            return "Wrap selected in residual block"
        return f"Wrap {self.selected} selected layer{'s' if self.selected > 1 else ''} in a residual block"

    def wrap_selected(self, event=None) -> None:
        """Wrap the selected adjacent layers of one list in a residual block."""
        paths = sorted(p for p, row in self._rows.items() if row.selected)
        if not paths:
            self.notice = "Select the layers to wrap (the 'select' boxes) first."
            return
        parents = {p[:-1] for p in paths}
        positions = [p[-1] for p in paths]
        if len(parents) != 1 or positions != list(range(positions[0], positions[0] + len(paths))):
            self.notice = "Select adjacent layers of the same block to wrap them."
            return
        self._set_items(stack.wrap_residual(self._items, paths[0], len(paths)))

    def apply_json(self, event=None) -> None:
        """Read the JSON text as the new spec (JSON only: nothing is evaluated)."""
        try:
            spec = spec_input.parse(self.spec_text, self.session.limits)
        except ValueError as err:
            self.notice = f"Spec (JSON): {err}"
            return
        if not isinstance(spec, list):
            self.notice = "Spec (JSON): expected a list of [name, {arguments}] layers"
            return
        self.notice = ""
        self.session.architecture.spec = spec

    @param.depends("preset", watch=True)
    def _load_preset(self):
        if not self._showing_preset and self.preset != CUSTOM:  # CUSTOM: the stack stays
            self.session.load_preset(self.preset)

    def _show_preset(self, name: str) -> None:
        """A preset loaded elsewhere (a lesson step, a link, a script): the menu names it,
        and loads nothing again."""
        if (name in PRESETS or name == CUSTOM) and name != self.preset:
            self._showing_preset = True
            try:
                self.preset = name
            finally:
                self._showing_preset = False

    @param.depends("parameterization", watch=True)
    def _set_parameterization(self):
        items = self._items
        for path in stack.weight_paths(items):
            name, kwargs = stack.get(items, path)
            items = stack.replace(items, path, [name, {**kwargs,
                                                       "parameterization": self.parameterization}])
        self._set_items(items)

    # ---------------------------------------------------------------- layout

    @param.depends("preset")
    def _description(self):
        text = CUSTOM_DESCRIPTION if self.preset == CUSTOM else PRESETS[self.preset].description
        return pn.pane.Markdown(text, styles={"font-size": "0.85em"},
                                margin=(0, 5))

    @param.depends("notice")
    def _notice(self):
        return pn.pane.Alert(literal(self.notice), alert_type="warning", visible=bool(self.notice),
                             css_classes=["editor-notice"])

    def __panel__(self):
        add = pn.widgets.Button(label="Add layer", button_type="primary", css_classes=["add-layer"])
        add.on_click(self.add_layer)
        wrap = pn.widgets.Button(label="Wrap selected in residual block",
                                 css_classes=["wrap-residual"])
        wrap.on_click(self.wrap_selected)
        self.param.watch(lambda event: setattr(wrap, "label", self.wrap_label()), "selected")
        apply = pn.widgets.Button(label="Apply JSON", css_classes=["apply-json"])
        apply.on_click(self.apply_json)
        json_card = pn.Card(
            pn.pane.Markdown(SPEC_HELP, styles={"font-size": "0.8em"}),
            pn.widgets.TextAreaInput.from_param(self.param.spec_text, height=140,
                                                css_classes=["spec-json"]),
            apply, title="Spec as JSON", collapsed=True, sizing_mode="stretch_width")
        return pn.Column(
            pn.widgets.Select.from_param(self.param.preset, css_classes=["preset-select"]),
            self._description,
            pn.Row(pn.pane.HTML("Parameterization", margin=(8, 5)),
                   pn.widgets.RadioButtonGroup.from_param(self.param.parameterization,
                                                          button_type="default")),
            self._general_error, self._list,
            pn.Row(pn.widgets.Select.from_param(self.param.new_layer, width=140,
                                                css_classes=["new-layer-type"]), add),
            wrap, self._notice, json_card, sizing_mode="stretch_width")
