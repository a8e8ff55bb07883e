"""The teaching state of a session: the lesson and step shown, and the page layout.

In the URL as ``?lesson=NAME&step=K&layout=present`` (app/state/url.py); a lesson name that is
not one of ours is refused there like any other invalid value.
"""
from __future__ import annotations

import param

from .catalog import LESSONS, apply_step

LAYOUTS = ["default", "present"]


class Teaching(param.Parameterized):
    lesson = param.Selector(default="", objects=[""] + list(LESSONS), doc="""
        The lesson shown (its name), or "" for none.""")
    step = param.Integer(default=1, bounds=(1, max(len(l.steps) for l in LESSONS.values())),
                         doc="The lesson's step (from 1).")
    layout = param.Selector(default="default", objects=LAYOUTS, doc="""
        default: controls beside the figures; present: figures fill the screen, the
        controls in a drawer.""")

    def __init__(self, session, **params):
        super().__init__(**params)
        self.session = session

    @property
    def current(self):
        """The shown step, or None."""
        if not self.lesson:
            return None
        lesson = LESSONS[self.lesson]
        return lesson.steps[min(self.step, len(lesson.steps)) - 1]

    @property
    def count(self) -> int:
        return len(LESSONS[self.lesson].steps) if self.lesson else 0

    @param.depends("lesson", "step", watch=True)
    def _apply(self):
        if not self.lesson:
            return
        if self.step > self.count:  # a link's step beyond this lesson: its last step
            self.step = self.count
            return
        apply_step(self.session, self.current)

    def move(self, by: int) -> None:
        """The next (by=1) or previous (by=-1) step; past the end, the next lesson."""
        names = list(LESSONS)
        if not self.lesson:
            self.param.update(lesson=names[0], step=1)
            return
        step = self.step + by
        if 1 <= step <= self.count:
            self.step = step
        elif step > self.count and names.index(self.lesson) + 1 < len(names):
            self.param.update(lesson=names[names.index(self.lesson) + 1], step=1)
        elif step < 1 and names.index(self.lesson) > 0:
            previous = names[names.index(self.lesson) - 1]
            self.param.update(lesson=previous, step=len(LESSONS[previous].steps))
