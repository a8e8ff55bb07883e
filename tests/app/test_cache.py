"""app/jobs/cache.py: every cache under one byte budget, least recently used out first."""
import numpy as np

from app.jobs.cache import Budget, Cache, nbytes
from app.jobs.closed_form import Curves


def test_nbytes_counts_each_array_once_through_records_and_containers():
    a = np.zeros(1000)
    record = Curves(1.0, a, np.zeros(10))
    assert nbytes(record) == 8000 + 80
    assert nbytes({"x": [record, a], "y": (a,)}) == 8080  # a is shared: counted once


def test_the_budget_holds_across_caches_and_drops_the_least_recent():
    budget = Budget(max_bytes=3 * 8000)
    kernels, runs = Cache(10, budget), Cache(10, budget)
    kernels.put("k1", np.zeros(1000))
    runs.put("r1", np.zeros(1000))
    kernels.put("k2", np.zeros(1000))
    assert budget.used == 24000
    assert kernels.peek("k1") is not None  # k1 is used again: r1 is now the oldest
    kernels.get("k1", lambda: None)
    runs.put("r2", np.zeros(1000))
    assert budget.used <= budget.max_bytes
    assert "r1" not in runs and "k1" in kernels and "k2" in kernels and "r2" in runs


def test_an_entry_larger_than_the_budget_is_not_kept():
    budget = Budget(max_bytes=1000)
    cache = Cache(10, budget)
    value = cache.get("big", lambda: np.zeros(1000))
    assert value.shape == (1000,) and "big" not in cache and budget.used == 0


def test_the_entry_count_still_bounds_each_cache():
    cache = Cache(2, Budget(max_bytes=10 ** 9))
    for k in range(5):
        cache.put(k, np.zeros(10))
    assert len(cache) == 2 and cache.bytes == 160
