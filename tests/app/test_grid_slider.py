"""app/views/grid_slider.py: moves are handled one at a time, the last wins, and a move that
arrives while another is handled never holds one of the server's worker threads."""
import threading
import time

import param
from bokeh.document import Document

from app.views.grid_slider import grid_slider


class _Owner(param.Parameterized):
    t = param.Selector(default=1, objects=[0, 1, 10, 100, 1000])


def test_a_move_during_a_slow_one_returns_at_once_and_the_last_move_wins():
    owner, seen = _Owner(), []
    slider = grid_slider(owner, "t", "t")
    first_started = threading.Event()

    def slow(event):  # a view update under load
        seen.append(event.new)
        first_started.set()
        time.sleep(0.5)
    owner.param.watch(slow, "t")
    doc = Document()
    slider._events = {"value": 2}
    first = threading.Thread(target=slider._change_event, args=(doc,))
    first.start()
    assert first_started.wait(5)
    for position in (3, 4):  # two more moves while the first is handled
        slider._events = {"value": position}
        start = time.perf_counter()
        slider._change_event(doc)
        assert time.perf_counter() - start < 0.2  # left to the busy thread
    first.join(5)
    assert owner.t == 1000 and seen == [10, 1000]  # the pending moves taken together
    slider._events = {"value": 0}
    slider._change_event(doc)  # idle again: handled in this thread
    assert owner.t == 0
