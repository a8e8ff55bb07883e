"""app/state/limits.py: limits from the environment and the command line."""
from app.state.limits import Limits, from_environment


def test_defaults():
    limits = from_environment([], {})
    assert (limits.max_width, limits.max_train) == (Limits().max_width, Limits().max_train)


def test_environment_then_arguments():
    limits = from_environment(["--max-width", "512"], {"IWE_MAX_WIDTH": "1024", "IWE_MAX_STEPS": "10"})
    assert limits.max_width == 512 and limits.max_steps == 10


def test_describe_names_how_to_change_it():
    assert Limits(max_width=64).describe("max_width") == (
        "max_width = 64 (set IWE_MAX_WIDTH or --max-width when starting the server)")
