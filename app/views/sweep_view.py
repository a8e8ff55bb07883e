"""What the width-sweep views add to a SessionView (app/views/session_view.py): they wait for
the closed form of the current stack and data, share its network and data in their keys, and
share the sweep settings (widths, seeds, steps, samples) with their widgets.
"""
from __future__ import annotations

import panel as pn

from ..jobs.convergence import spec_key
from .checked_input import checked_input
from .session_view import WAIT, SessionView


SWEEP_WIDGETS = {
    "widths": {"type": pn.widgets.MultiChoice, "name": "Widths"},
    "seeds": {"type": pn.widgets.IntInput, "name": "Seeds per width"},
    "steps": {"type": pn.widgets.IntInput, "name": "Training steps (kernel motion)"},
    "samples": {"type": pn.widgets.IntInput, "name": "Networks per width"},
}


class SweepView(SessionView):
    """A view computed by a width sweep of the shown closed form's network.

    Besides what a SessionView names, a sweep waits for the closed form of the current
    stack and data (its key starts with ``_sweep_key()``) and shows a reason instead when
    they are invalid. A sweep whose widths are independent parts overrides ``work(key)`` to
    give its ``Pieces`` (app/jobs/service.py): one task per width, side by side on the workers.
    """

    #: (owner, [parameters]) of the session whose change restarts the sweep
    WATCHED: list = [("sweep", ["widths", "seeds", "steps", "samples"])]

    def __init__(self, **params):
        self.WATCHED = [*self.WATCHED, ("", ["closed_form", "stack_error", "data_error"])]
        super().__init__(**params)

    def request(self):
        s = self.session
        if s.closed_form is None:
            return WAIT
        invalid = s.stack_error or s.data_error
        self.reason = "Fix the architecture or the data settings first." if invalid else ""
        if invalid:
            return None
        if self._pending():
            return WAIT  # a new closed form is on its way; its arrival starts this sweep
        return self.key()

    def _pending(self) -> bool:
        """A new stack or data is on its way to the shown closed form. Keyed on the shown
        request, the sweep would be computed once more, for the stack being replaced (a
        lesson step sets the stack and the sweep widths at once)."""
        shown, live = self.session.closed_form.request, self.session.request()
        return (spec_key(shown.spec), shown.data_key) != (spec_key(live.spec), live.data_key)

    def _sweep_key(self) -> tuple:
        """The settings every sweep shares: spec (widths free), data, the server limits."""
        s = self.session
        request = s.closed_form.request  # validated: the live spec may not be checked yet
        return (spec_key(request.spec), request.data_key,
                (s.limits.max_train, s.limits.max_test))

    def settings(self, *names):
        """Widgets of the shared sweep settings (the same values in every tab); a number
        out of range is refused next to its box."""
        sweep, boxes = self.session.sweep, []
        for name in names:
            spec = SWEEP_WIDGETS[name]
            css = [f"{self.slug}-{name}"]
            if spec["type"] is pn.widgets.IntInput:
                boxes.append(checked_input(sweep, name, pn.widgets.IntInput, spec["name"],
                                           css_classes=css))
            else:
                boxes.append(spec["type"].from_param(sweep.param[name], name=spec["name"],
                                                     css_classes=css))
        return pn.Row(*boxes, sizing_mode="stretch_width")
