"""app/views/stack_editor.py without a browser: edits become engine specs; errors are placed."""
import html
import sys
import threading

import panel as pn
import pytest

from app.state import catalog, stack
from app.state.limits import Limits
from app.state.session import Session
from app.views.literal import literal
from app.views.stack_editor import StackEditor


@pytest.fixture
def editor():
    return StackEditor(session=Session(Limits()))


def _names(editor):
    return [name for name, _ in editor.session.architecture.items]


def test_add_layer_goes_before_the_readout_at_the_current_width(editor):
    editor.new_layer = "Dense"
    editor.add_layer()
    assert _names(editor) == ["Dense", "Erf", "Dense", "Erf", "Dense", "Dense"]
    assert editor.session.architecture.items[4][1]["out_dim"] == editor.session.architecture.width


def test_row_actions(editor):
    editor._act((1,), "up")
    editor.session.wait()
    assert _names(editor)[:2] == ["Erf", "Dense"]
    assert "Erf" in editor.session.stack_error  # Erf first: its input is not Gaussian
    assert editor.session.error_path == (0,)
    editor._act((0,), "remove")
    editor.session.wait()
    assert _names(editor) == ["Dense", "Dense", "Erf", "Dense"]
    assert editor.session.stack_error == ""
    editor.new_layer = "Relu"
    editor._act((0,), "insert")
    assert _names(editor) == ["Dense", "Relu", "Dense", "Erf", "Dense"]


def test_wrap_selected_layers_in_a_residual_block_and_unwrap(editor):
    assert editor.wrap_label() == "Wrap selected in residual block"
    editor._rows[(1,)].selected = True
    assert editor.wrap_label() == "Wrap 1 selected layer in a residual block"
    editor._rows[(2,)].selected = True
    assert editor.wrap_label() == "Wrap 2 selected layers in a residual block"
    editor.wrap_selected()
    editor.session.wait()
    assert _names(editor) == ["Dense", stack.RESIDUAL, "Erf", "Dense"]
    assert [n for n, _ in editor.session.architecture.spec][1:4] == ["FanOut", "parallel", "FanInSum"]
    assert editor.session.stack_error == "" and editor.notice == ""
    assert editor.selected == 0  # new rows, none ticked
    editor._act((1,), "unwrap")
    assert _names(editor) == ["Dense", "Erf", "Dense", "Erf", "Dense"]


def test_wrapping_needs_adjacent_selected_layers(editor):
    editor.wrap_selected()
    assert editor.notice == "Select the layers to wrap (the 'select' boxes) first."
    editor._rows[(0,)].selected = True
    editor._rows[(2,)].selected = True
    editor.wrap_selected()
    assert editor.notice == "Select adjacent layers of the same block to wrap them."


def test_the_last_layer_cannot_be_removed(editor):
    editor.session.architecture.spec = [["Dense", {"out_dim": 1}]]
    editor._act((0,), "remove")
    assert editor.notice == "The stack needs at least one layer."


def test_a_form_edit_reaches_the_spec_and_a_bad_tuple_is_reported_at_the_row(editor):
    row = editor._rows[(0,)]
    row._form.W_std = 2.0
    assert editor.session.architecture.spec[0][1]["W_std"] == 2.0
    editor.session.architecture.spec = [["Conv", {"out_chan": 8, "filter_shape": [3, 3]}],
                                        ["Flatten", {}], ["Dense", {"out_dim": 1}]]
    conv = editor._rows[(0,)]
    conv._form.filter_shape = "3, x"
    assert html.unescape(conv._error.object) == ("Conv(filter_shape='3, x': expected integers "
                                                 "separated by commas, e.g. 3, 3)")
    assert conv._error.visible


def test_json_is_read_as_json_only(editor):
    editor.spec_text = "[['Dense', {}]]"
    editor.apply_json()
    assert editor.notice == "Spec (JSON): Expecting value: line 1 column 3 (char 2)"
    editor.spec_text = '{"Dense": 1}'
    editor.apply_json()
    assert editor.notice == "Spec (JSON): expected a list of [name, {arguments}] layers"
    editor.spec_text = '[["Dense", {"out_dim": 1, "W_std": 2.0}]]'
    editor.apply_json()
    assert editor.notice == "" and editor.session.architecture.spec == [
        ["Dense", {"out_dim": 1, "W_std": 2.0}]]


def test_parameterization_applies_to_every_weight_layer(editor):
    editor.parameterization = "standard"
    weights = [k for n, k in editor.session.architecture.spec if n == "Dense"]
    assert {k["parameterization"] for k in weights} == {"standard"}


def test_structure_unchanged_keeps_the_rows(editor):
    rows = dict(editor._rows)
    editor.session.architecture.width = 512
    assert editor._rows == rows
    assert rows[(0,)]._form.out_dim == 512


def test_presets_load_with_their_data(editor):
    editor.preset = "Residual Erf net (cookbook)"
    editor.session.wait()
    assert _names(editor) == ["Dense", stack.RESIDUAL, stack.RESIDUAL, "Erf", "Dense"]
    assert editor.session.stack_error == ""


def test_a_preset_loaded_elsewhere_is_named_in_the_menu_and_loaded_once(editor, monkeypatch):
    """A lesson step loads a preset through the session: the editor's menu must name it (it
    kept showing the previous one), without loading it a second time (that would reset the
    data the step set)."""
    loads = []
    original = editor.session.load_preset
    monkeypatch.setattr(editor.session, "load_preset", lambda name: loads.append(name)
                        or original(name))
    editor.session.load_preset("ReLU MLP")
    assert editor.preset == "ReLU MLP" and loads == ["ReLU MLP"]
    editor.preset = "Cookbook Erf net"  # the menu itself still loads
    assert loads == ["ReLU MLP", "Cookbook Erf net"]
    assert editor.session.architecture.preset == "Cookbook Erf net"


def test_a_preset_loaded_before_the_editor_exists_is_named_in_the_menu():
    """A page opened on a lesson step or a preset link has its preset loaded before the
    editor is built: the menu showed the default preset beside the step's layers."""
    session = Session(Limits())
    loads = []
    original = session.load_preset
    session.load_preset("4-layer ReLU net on the unit circle (Jacot et al.)")
    session.load_preset = lambda name: loads.append(name) or original(name)
    editor = StackEditor(session=session)
    assert editor.preset == "4-layer ReLU net on the unit circle (Jacot et al.)"
    assert loads == []  # naming it loads nothing (a lesson's own data stay)


def test_ticks_from_concurrent_threads_are_all_counted(editor):
    # Panel handles widget events on worker threads (--num-threads): two ticks can be
    # counted at once, and the label must end on both whichever count finishes last.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often so the two counts interleave
    try:
        for _ in range(200):
            for row in editor._rows.values():
                row.selected = False
            barrier = threading.Barrier(2)

            def tick(path):
                barrier.wait()
                editor._rows[path].selected = True
            threads = [threading.Thread(target=tick, args=(p,)) for p in [(1,), (2,)]]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert editor.wrap_label() == "Wrap 2 selected layers in a residual block"
    finally:
        sys.setswitchinterval(interval)


def test_each_layer_row_shows_its_help_line(editor):
    """The type menu of a row has the layer's one line of help beside it (a tooltip)."""
    for row in editor._rows.values():
        icons = row.__panel__().select(pn.widgets.TooltipIcon)
        assert [icon.value for icon in icons] == [literal(catalog.help_text(row.name_))]


def test_a_crafted_layer_name_never_reaches_the_help_tooltip(editor):
    """The tooltip renders HTML: a layer name from a link ran script through it (the help
    line of an unknown layer was its name; the browser test caught two dialogs)."""
    crafted = '<img src=x onerror="alert(1)">'
    editor.session.architecture.spec = [[crafted, {}], ["Dense", {"out_dim": 1}]]
    for row in editor._rows.values():
        (icon,) = row.__panel__().select(pn.widgets.TooltipIcon)
        assert "<" not in icon.value and "onerror" not in icon.value
    assert catalog.help_text(crafted) == "Not a layer this app knows."


def test_a_stack_that_is_no_presets_is_named_custom(editor):
    """A lesson step with its own spec showed 'Cookbook Erf net' and its description beside
    a ReLU stack; an edited stack is no preset's either. The width slider keeps the name."""
    from app.state.presets import CUSTOM, CUSTOM_DESCRIPTION

    architecture = editor.session.architecture
    architecture.width = 256  # the width slider: still the preset
    assert architecture.preset == editor.preset == "Cookbook Erf net"
    editor.add_layer()
    assert architecture.preset == editor.preset == CUSTOM
    assert editor._description().object == CUSTOM_DESCRIPTION
    spec = architecture.spec
    editor.preset = CUSTOM  # choosing it keeps the stack
    assert architecture.spec == spec
    editor.preset = "ReLU MLP"  # a preset loads and is named again
    assert architecture.preset == "ReLU MLP"
