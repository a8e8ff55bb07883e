"""app/state/stack.py: folding residual blocks, edits at a path, cache keys, error positions."""
import pytest

import engine
from app.state import stack
from app.state.presets import PRESETS

RESIDUAL = PRESETS["Residual Erf net (cookbook)"].spec


def test_fold_unfold_round_trip_for_every_preset():
    for preset in PRESETS.values():
        assert stack.unfold(stack.fold(preset.spec)) == preset.spec


def test_residual_blocks_fold_to_one_item():
    items = stack.fold(RESIDUAL)
    assert [name for name, _ in items] == ["Dense", "Residual", "Residual", "Erf", "Dense"]
    assert [n for n, _ in items[1][1]["layers"]] == ["Erf", "Dense"]


def test_a_parallel_that_is_not_a_residual_block_stays_as_written():
    spec = [["Dense", {"out_dim": 4}], ["FanOut", {"num": 2}],
            ["parallel", {"branches": [[["Relu", {}]], [["Erf", {}]]]}], ["FanInSum", {}]]
    assert stack.fold(spec) == spec


def test_insert_remove_move():
    items = [["Dense", {}], ["Relu", {}], ["Dense", {}]]
    assert [n for n, _ in stack.insert(items, (1,), ["Erf", {}])] == ["Dense", "Erf", "Relu", "Dense"]
    assert [n for n, _ in stack.remove(items, (1,))] == ["Dense", "Dense"]
    assert [n for n, _ in stack.move(items, (1,), -1)] == ["Relu", "Dense", "Dense"]
    assert [n for n, _ in stack.move(items, (0,), -1)] == ["Dense", "Relu", "Dense"]  # clamped
    assert items == [["Dense", {}], ["Relu", {}], ["Dense", {}]]  # never edited in place


def test_wrap_and_unwrap_residual():
    items = [["Dense", {}], ["Relu", {}], ["Dense", {}], ["Dense", {}]]
    wrapped = stack.wrap_residual(items, (1,), 2)
    assert wrapped[1] == [stack.RESIDUAL, {"layers": [["Relu", {}], ["Dense", {}]]}]
    spec = stack.unfold(wrapped)
    assert [n for n, _ in spec] == ["Dense", "FanOut", "parallel", "FanInSum", "Dense"]
    assert stack.unwrap(wrapped, (1,)) == items


def test_removing_the_last_layer_of_a_block_removes_the_block():
    items = [["Dense", {}], [stack.RESIDUAL, {"layers": [["Relu", {}]]}], ["Dense", {}]]
    assert stack.remove(items, (1, 0)) == [["Dense", {}], ["Dense", {}]]


def test_kernel_key_ignores_hidden_widths_in_the_ntk_parameterization():
    spec = PRESETS["Cookbook Erf net"].spec
    assert stack.kernel_key(engine.with_width(spec, 64)) == stack.kernel_key(
        engine.with_width(spec, 2048))
    standard = [[n, {**k, "parameterization": "standard"} if n == "Dense" else k]
                for n, k in spec]
    assert stack.kernel_key(engine.with_width(standard, 64)) != stack.kernel_key(
        engine.with_width(standard, 2048))


def _message(spec, in_shape=(1,)):
    with pytest.raises(ValueError) as info:
        engine.build(spec).output_shape(in_shape)
    return str(info.value)


@pytest.mark.parametrize("edit, path", [
    (lambda items: stack.replace(items, (1, 1), ["Dense", {"out_dim": 0}]), (1, 1)),
    (lambda items: stack.replace(items, (1, 1), ["Dense", {"out_dim": 3}]), (1,)),
    (lambda items: stack.insert(items, (0,), ["Erf", {}]), (0,)),
    (lambda items: stack.replace(items, (4,), ["Dense", {"out_dim": 1, "bogus": 1}]), (4,)),
])
def test_error_path_finds_the_layer_the_engine_names(edit, path):
    items = edit(stack.fold(RESIDUAL))
    assert stack.error_path(items, _message(stack.unfold(items))) == path


def test_error_path_of_an_unpositioned_message_is_none():
    assert stack.error_path([["Dense", {}]], "spec: expected a non-empty list") is None
