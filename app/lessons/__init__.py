"""Guided lessons (teaching mode): sequences of app states that reproduce the field's figures."""
from .catalog import LESSONS, Lesson, Step, apply_step
from .teaching import LAYOUTS, Teaching

__all__ = ["LESSONS", "Lesson", "Step", "apply_step", "Teaching", "LAYOUTS"]
