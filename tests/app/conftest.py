"""App tests run without a browser or server: fresh caches per test, small limits."""
import pytest

from app.jobs import finite_jobs, results
from app.jobs.cache import Cache
from app.state.settings import Finite


@pytest.fixture(autouse=True)
def no_finite_training(monkeypatch):
    """Sessions start without finite ensembles (tests that want them switch them on)."""
    monkeypatch.setattr(Finite.param.show, "default", False)


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch):
    """Each test counts its own cache misses (the kernels and predictors it computed)."""
    for name in ("DATASETS", "NETWORKS", "KERNELS", "PREDICTORS", "LOSSES", "OUTCOMES"):
        monkeypatch.setattr(results, name, Cache(getattr(results, name).size))
    monkeypatch.setattr(finite_jobs, "RUNS", Cache(8))
    return results
