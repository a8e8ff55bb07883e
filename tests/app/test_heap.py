"""app/heap.py: the objects alive at server start are out of the cycle collector's walks."""
import gc

from app import heap


class _Cycle:
    def __init__(self):
        self.me = self


def test_freeze_takes_every_object_alive_out_of_a_full_collection_and_new_cycles_still_go():
    walked = len(gc.get_objects())
    try:
        frozen = heap.freeze()
        assert frozen > 0.5 * walked and gc.get_freeze_count() == frozen
        assert len(gc.get_objects()) < 0.1 * walked  # what a full collection walks now
        _Cycle()  # garbage made after the freeze is collected as before
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
