"""Docstrings of the public API: ``help(stax.Erf)`` is what a researcher reads first.

Every constructor engine.stax exports and every public function of engine.predict has a
docstring with an ``Args:`` section (Google style) that names each of its parameters; the
enums stax exports have a class docstring of their own that names each member. The names are
found with dir(), so a constructor added without a docstring fails here.
"""
import enum
import inspect
import re

import pytest

from engine import predict, stax

#: engine.predict's public functions that are defined in another module
PREDICT_REEXPORTS = ("gradient_descent",)


def public_names(module, defined_in) -> list[str]:
    """Callables of ``module`` without a leading underscore whose ``__module__`` passes
    ``defined_in`` (stax's wrappers keep their layer's module through functools.wraps)."""
    names = []
    for name in dir(module):
        obj = getattr(module, name)
        if name.startswith("_") or inspect.ismodule(obj) or not callable(obj):
            continue
        if defined_in(getattr(obj, "__module__", None) or ""):
            names.append(name)
    return sorted(names)


def is_enum(obj) -> bool:
    return isinstance(obj, type) and issubclass(obj, enum.Enum)


# what stax defines or takes from engine.layers (not its plumbing: Network, as_network)
STAX = public_names(stax, lambda m: m == "engine.stax" or m.startswith("engine.layers."))
STAX_ENUMS = [n for n in STAX if is_enum(getattr(stax, n))]
STAX_CONSTRUCTORS = [n for n in STAX if n not in STAX_ENUMS]
PREDICT = public_names(predict, lambda m: m == "engine.predict") + list(PREDICT_REEXPORTS)


def documented_arguments(doc: str) -> set[str]:
    """The names of the entries under ``Args:`` ("a, b: ..." names both; "*layers" is
    "layers"), up to the first blank or unindented line."""
    lines = inspect.cleandoc(doc).split("Args:", 1)[1].splitlines()[1:]
    names = set()
    for line in lines:
        entry = re.match(r"  (\*{0,2}\w+(?:, \*{0,2}\w+)*):", line)
        if entry:
            names.update(n.lstrip("*") for n in entry.group(1).split(", "))
        elif not line.startswith("    "):
            break
    return names


def test_the_lists_hold_the_known_api():
    """The enumeration itself works (an empty list would pass every test below)."""
    assert {"Dense", "Erf", "Relu", "Tanh", "serial", "parallel", "repeat", "layer"} <= set(
        STAX_CONSTRUCTORS)
    assert {"Padding", "AttentionMechanism", "PositionalEmbedding", "Bool",
            "AggregateImplementation"} <= set(STAX_ENUMS)
    assert "Network" not in STAX
    assert {"gradient_descent_mse_ensemble", "gp_inference", "gradient_descent_mse",
            "gradient_descent", "max_learning_rate", "Gaussian"} <= set(PREDICT)


@pytest.mark.parametrize("module, name", [(stax, n) for n in STAX_CONSTRUCTORS]
                         + [(predict, n) for n in PREDICT])
def test_every_parameter_is_under_args(module, name):
    obj = getattr(module, name)
    doc = obj.__doc__ or ""
    assert doc.strip(), f"{module.__name__}.{name} has no docstring"
    assert "Args:" in doc, f"{module.__name__}.{name}'s docstring has no Args: section"
    parameters = [p.name for p in inspect.signature(obj).parameters.values()]
    missing = [p for p in parameters if p not in documented_arguments(doc)]
    assert not missing, f"{module.__name__}.{name}: Args: does not name {missing}"


@pytest.mark.parametrize("name", STAX_ENUMS)
def test_every_enum_says_what_its_members_mean(name):
    cls = getattr(stax, name)
    doc = cls.__dict__.get("__doc__") or ""  # its own, not enum.Enum's
    assert doc.strip(), f"stax.{name} has no class docstring"
    unnamed = [m.name for m in cls if not re.search(rf"\b{m.name}\b", doc)]
    assert not unnamed, f"stax.{name}'s docstring does not name {unnamed}"
