"""Browser tests: the real app served as the README does, driven in headless Chromium.

design.md §4: Debian's chromium through pytest-playwright, the server on 127.0.0.1 with a
free port and an explicit websocket origin, /liveness polled (with the app's endpoint,
which also runs the app once and so warms the server's caches). Every page records its
console errors and any request that leaves 127.0.0.1; tests assert there are none.
"""
from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
#: what tests/ui/write_order.py logs for a message written after one made later than it
OUT_OF_ORDER = "PATCH-DOC written out of order"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


#: browser-test modules in the second of two xdist groups (the rest are in the first). Each
#: group runs on one worker with that worker's own server, so on 2 cores the browser tests,
#: which are most of the suite's time, no longer queue on one worker. Split by measured cost.
SECOND_GROUP = {"test_whole_session_offline", "test_views_convergence",
                "test_views_export", "test_url", "test_width_and_jobs", "test_lessons",
                "test_layout"}


#: single tests in the other group than their module's: the architecture lesson shows the
#: Images tab's default experiment, which test_views_images then finds in its server's cache
OTHER_GROUP = {"test_walking_every_lesson_step[chromium-architecture]"}


def pytest_collection_modifyitems(items):
    for item in items:
        path = Path(str(item.fspath))
        if path.parent == Path(__file__).parent:
            item.add_marker(pytest.mark.ui)
            item.add_marker(pytest.mark.slow)
            second = (path.stem in SECOND_GROUP) != (item.name in OTHER_GROUP)
            group = "ui-2" if second else "ui-1"
            item.add_marker(pytest.mark.xdist_group(group))  # one worker, one server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": FLAGS}


@pytest.fixture
def page(page):
    """pytest-playwright's page, allowed 2 minutes to load: a test is not a latency benchmark
    (benchmarks/ measure that), and on a loaded 2-core machine a first page that compiles its
    kernels takes longer than Playwright's 30 s."""
    page.set_default_navigation_timeout(120_000)
    return page


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1500, "height": 1000}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_live(url: str, process, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"panel serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=120) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def serve(extra_env: dict | None = None, args: tuple = (), plugins: tuple = ()):
    """Start `panel serve app/main.py` as the README does, with the extra Bokeh server
    ``plugins``; returns (process, base url)."""
    port = _free_port()
    command = [str(ROOT / ".venv" / "bin" / "panel"), "serve", "app/main.py", "--port", str(port),
               "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}",
               "--num-threads", "4", "--liveness", "--plugins", "app.readiness"]
    for plugin in plugins:
        command += ["--plugins", plugin]
    if args:
        command += ["--args", *args]
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"server-{port}.log", "w")
    process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, **(extra_env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_live(f"{base}/liveness?endpoint=/main", process)
    except Exception:
        process.terminate()
        raise
    return process, base


#: the server's limits in these tests (configurable limits, quick finite training, and sweeps
#: up to width 1024: the Jacot lesson step asks for 4096 and gets the server's widest, whose
#: empirical NTKs along the circle took a minute of CI at 2048), and one Dask worker
#: process: the two browser groups' servers share 2 cores, and a second worker per server
#: compiled the same programs again (the Dask path with two workers is
#: tests/app/test_job_service_dask.py's)
LIMITS = {"IWE_MAX_STEPS": "2000", "IWE_MAX_WIDTH": "1024", "IWE_WORKERS": "1"}


@pytest.fixture(scope="session")
def server():
    process, base = serve(LIMITS, plugins=("tests.ui.write_order",))  # logs OUT_OF_ORDER
    yield base
    process.terminate()
    process.wait(timeout=30)
    log = (ARTIFACTS / f"server-{base.rsplit(':', 1)[1]}.log").read_text()
    assert OUT_OF_ORDER not in log, [line for line in log.splitlines() if OUT_OF_ORDER in line]


class Recorder:
    """Console errors, page errors and requests that leave 127.0.0.1, of one page."""

    def __init__(self, page):
        self.errors, self.external = [], []
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(("http://127.0.0.1", "ws://127.0.0.1",
                                                                "data:", "blob:", "about:"))
                else self.external.append(r.url))


@pytest.fixture
def app(page, server):
    """The default view loaded, with its Recorder; fails the test on console errors."""
    recorder = Recorder(page)
    open_app(page, server)
    yield page
    assert recorder.errors == [], f"console errors: {recorder.errors}"
    assert recorder.external == [], f"requests leaving 127.0.0.1: {recorder.external}"


#: JS: the (column, values) pairs of a ColumnDataSource's data (a Map or a plain object)
ENTRIES = "const entries = (d) => d instanceof Map ? [...d.entries()] : Object.entries(d);"


def open_app(page, base: str, query: str = "") -> None:
    page.goto(f"{base}/main{query}")
    # both figures of the default tab, each made with its first data
    for name in ("fs_mean", "loss_train"):
        page.wait_for_function(
            f"(name) => {{ {ENTRIES} const s = window.Bokeh && Bokeh.documents.length "
            "&& Bokeh.documents[0].get_model_by_name(name + ':source'); "
            "return s && entries(s.data).length > 0 && entries(s.data)[0][1].length > 0 }",
            arg=name, timeout=120_000)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_members(page, timeout: float = 180_000) -> list:
    """The finite ensemble's member curves, once trained (the first training compiles):
    drawn, and no training running (the lines of a part trained so far come first)."""
    page.wait_for_function(f"() => {{ {ENTRIES} const s = Bokeh.documents[0].get_model_by_name("
                           "'fs_members:source'); if (!s) return false; "
                           "const ys = entries(s.data).find(([k]) => k === 'ys'); "
                           "return ys && ys[1].length > 0 }", timeout=timeout)
    page.locator(".finite-progress progress").wait_for(state="hidden", timeout=timeout)
    from .bokeh import column
    return column(page, "fs_members", "ys")
