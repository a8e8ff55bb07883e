"""Panel's busy counter from several callback threads at once (app/busy_counter.py)."""
import sys
import threading

import panel as pn
import pytest

from app.busy_counter import serialize_busy_counter


def _hammer(threads: int = 4, events: int = 200) -> list[Exception]:
    """What Panel's callback threads do around every widget callback, from ``threads`` at once."""
    errors: list[Exception] = []

    def callbacks(k: int) -> None:
        for i in range(events):
            try:
                pn.state._add_busy_event(f"{k}-{i}")
                pn.state._remove_busy_event(f"{k}-{i}")
            except Exception as error:  # noqa: BLE001 - the race raises TypeError
                errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as a loaded server can
    try:
        workers = [threading.Thread(target=callbacks, args=(k,)) for k in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
    return errors


@pytest.fixture
def fresh_flags():
    """Panel's flags as declared, and put back after the test."""
    busy = pn.state.param["busy"]
    saved = busy.readonly, busy.constant
    busy.readonly = busy.constant = True
    yield busy
    busy.readonly, busy.constant = saved


def test_callbacks_on_several_threads_keep_busy_read_only(fresh_flags):
    serialize_busy_counter()
    assert _hammer() == []
    assert (fresh_flags.readonly, fresh_flags.constant) == (True, True)
    assert pn.state._busy_counter == [] and pn.state.busy is False
    with pytest.raises(TypeError, match="Read-only parameter 'busy'"):
        pn.state.busy = True  # still read-only for everyone else


def test_the_lock_is_installed_once():
    serialize_busy_counter()
    serialize_busy_counter()
    method = pn.state._add_busy_event
    assert method.__iwe_serialized__ and not getattr(method.__wrapped__, "__iwe_serialized__", False)
