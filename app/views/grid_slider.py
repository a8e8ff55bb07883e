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
    every session). One thread at a time handles this slider; a move arriving meanwhile is
    left to that thread, which takes the moves pending when it is done, so the last move
    always wins and no worker thread waits (waiting threads would hold up other sessions).
    """

    _priority_changes = ["value", "value_throttled"]

    def __init__(self, **params):
        super().__init__(**params)
        self._turn = threading.Lock()
        self._busy = False
        self._pending = 0

    def _change_event(self, doc):
        with self._turn:
            self._pending += 1
            if self._busy:
                return
            self._busy = True
        while True:
            with self._turn:
                if not self._pending:
                    self._busy = False
                    return
                self._pending = 0
            try:
                super()._change_event(doc)
            except BaseException:
                with self._turn:
                    self._busy = False
                raise


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
