"""app/state/catalog.py: every layer the editor offers starts valid; typed tuples are parsed."""
import pytest

import engine
from app.state import catalog, stack


@pytest.mark.parametrize("name", catalog.layer_names())
def test_every_offered_layer_starts_with_arguments_the_engine_accepts(name):
    entry = [name, catalog.starting_arguments(name)]
    engine.build(stack.unfold([entry]))


@pytest.mark.parametrize("name", [n for n in catalog.layer_names() if n != stack.RESIDUAL])
def test_form_round_trip(name):
    args = catalog.starting_arguments(name)
    form = catalog.form_class(name)(**catalog.form_values(name, args))
    values = {p: getattr(form, p) for p in form.param if p != "name"}
    assert catalog.spec_arguments(name, values) == args


def test_parse_tuple():
    assert catalog.parse_tuple("filter_shape", "3, 3") == [3, 3]
    assert catalog.parse_tuple("coef", "0, 1, 0.5") == [0.0, 1.0, 0.5]
    assert catalog.parse_tuple("filter_shape", "(2,2)") == [2, 2]
    assert catalog.parse_tuple("strides", " ") is None


def test_parse_tuple_refuses_anything_but_integers():
    with pytest.raises(ValueError, match=r"filter_shape='3, x': expected integers separated "
                                         r"by commas, e\.g\. 3, 3"):
        catalog.parse_tuple("filter_shape", "3, x")
    with pytest.raises(ValueError, match="expected integers"):
        catalog.parse_tuple("strides", "__import__('os')")
    with pytest.raises(ValueError, match=r"coef='1, a': expected numbers separated by commas, "
                                         r"e\.g\. 0, 1, 0\.5"):
        catalog.parse_tuple("coef", "1, a")


def test_layers_that_take_python_functions_are_not_offered():
    assert not {"Elementwise", "ElementwiseNumerical"} & set(catalog.layer_names())
