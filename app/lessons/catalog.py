"""Every lesson by its URL name, in teaching order."""
from . import architecture, eigen_directions, finite_meets_infinite, gaussian_process, kernel_stays_put
from .lesson import Lesson, Step, apply_step

LESSONS: dict[str, Lesson] = {m.LESSON.name: m.LESSON for m in (
    gaussian_process, kernel_stays_put, eigen_directions, finite_meets_infinite, architecture)}

__all__ = ["LESSONS", "Lesson", "Step", "apply_step"]
