"""A slider over a Selector parameter's grid of values (log-spaced times, widths).

The slider moves over the positions 0..len(grid)-1 and shows the value at its position
(a lookup in the browser, no arithmetic). It is bound to the parameter both ways. A plain
IntSlider costs one message per move, where a DiscreteSlider costs several.
"""
from __future__ import annotations

import threading

import panel as pn
from bokeh.models import CustomJSTickFormatter


class _PromptSlider(pn.widgets.IntSlider):
    """Panel debounces a widget change by 50 ms before handling it; a slider move here
    is handled at once (half of the 100 ms a time-slider update may take).

    Handled at once, quick moves arrive on several of the server's worker threads (shared by
    every session). One thread at a time handles this slider, taking every move pending
    (Panel keeps them in ``_events``) until none is left; a thread that finds it busy
    returns at once, so the last move always wins and no worker thread waits (waiting
    threads would hold up other sessions). A move left behind is always seen: it is stored
    before its thread tries the lock, and the busy thread looks again after releasing it.
    """

    _priority_changes = ["value", "value_throttled"]

    def __init__(self, **params):
        super().__init__(**params)
        self._turn = threading.Lock()

    def _change_event(self, doc):
        while self._events and self._turn.acquire(blocking=False):
            try:
                super()._change_event(doc)
            finally:
                self._turn.release()


def grid_slider(owner, name: str, label: str, **kwargs) -> pn.widgets.IntSlider:
    """An IntSlider over ``owner.param[name].objects``, kept equal to ``getattr(owner, name)``."""
    grid = list(owner.param[name].objects)
    formatter = CustomJSTickFormatter(args={"grid": grid},
                                      code="return String(grid[Math.round(tick)])")
    slider = _PromptSlider(name=label, start=0, end=len(grid) - 1,
                                  value=grid.index(getattr(owner, name)), format=formatter,
                                  **kwargs)
    slider.param.watch(lambda event: setattr(owner, name, grid[event.new]), "value")
    owner.param.watch(lambda event: setattr(slider, "value", grid.index(event.new)), name)
    return slider
