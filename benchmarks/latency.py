"""Interaction latency of the dashboard, end to end through a real server, measured in the browser.

    .venv/bin/python benchmarks/latency.py [--moves 40]

Starts `panel serve app/main.py` as the README does, opens it in headless Chromium, waits
for the default view's finite ensemble, and moves the training-time slider with the keyboard. Each latency is measured in the page:
from the keydown event to the first animation frame in which the function-space mean
(the Bokeh glyph named "fs_mean") shows new data. Prints the median and quartiles; the
target is a median below 100 ms.

    .venv/bin/python benchmarks/latency.py --lessons [--warmup-wait 1200]

Teaching mode, the time to a lesson step's figure drawn whole (tests/ui/test_lessons.py's
wait: heading, tab, URL, the figure recomputed if the step changed it, its job idle), two
ways: (1) in one page, as a class walks a lesson: the → key from the previous step (step 1:
opening its link), pressed ``--read`` seconds after the previous step's figure was drawn,
as a class reads it; (2) opening the link ``?lesson=NAME&step=K`` in a new page, as a
student following the teacher's link does, once and again. Also the time from opening the
default page to its first finite overlay (the ensemble's members). The server runs the warm-up
(IWE_WARMUP=1); the steps are timed once it has finished (its progress is in /readiness),
or after ``--warmup-wait`` seconds (0: at once, racing it).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui.conftest import ENTRIES, FLAGS, open_app, serve, wait_for_members  # noqa: E402

WATCH = """() => {
  """ + ENTRIES + """
  const source = Bokeh.documents[0].get_model_by_name('fs_mean:source');
  const snapshot = () => JSON.stringify(Array.from(entries(source.data).find(([k]) => k === 'y')[1]));
  window.__latency = {start: null, end: null, before: snapshot()};
  document.addEventListener('keydown', () => {
    if (window.__latency.start === null) window.__latency.start = performance.now();
  }, {capture: true, once: true});
  const poll = () => {
    if (window.__latency.start !== null && snapshot() !== window.__latency.before) {
      window.__latency.end = performance.now();
      return;
    }
    requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}"""


def measure(page, key: str) -> float:
    page.evaluate(WATCH)
    page.locator(".t-slider .noUi-handle").press(key)
    page.wait_for_function("() => window.__latency.end !== null", timeout=30_000)
    return page.evaluate("() => window.__latency.end - window.__latency.start")


def time_to_figure(page, base: str, query: str, glyph: str, key: str) -> float:
    """Seconds from opening ``?query`` to ``glyph`` holding data."""
    from tests.ui.analysis import wait_for_data
    start = time.perf_counter()
    page.goto(f"{base}/main?{query}", timeout=600_000)
    wait_for_data(page, glyph, key, timeout=900_000)
    return time.perf_counter() - start


def _wait_for_warmup(base: str, timeout: float) -> str:
    """Poll /readiness until the server's warm-up has finished (or ``timeout`` s)."""
    import json
    import urllib.request

    deadline = time.time() + timeout
    while True:
        with urllib.request.urlopen(f"{base}/readiness", timeout=30) as response:
            state = json.loads(response.read())["warmup"]
        if state == "off" or state["seconds"] is not None:
            return f"{state}" if state == "off" else (
                f"{state['done']} items in {state['seconds']} s (server's own figure)")
        if time.time() > deadline:
            return f"not finished after {timeout:.0f} s: {state['done']} of {state['total']}"
        time.sleep(2)


def lessons(warmup_wait: float, read: float) -> None:
    from playwright.sync_api import sync_playwright

    from app.lessons import LESSONS
    from tests.ui.analysis import wait_for_data
    from tests.ui.test_lessons import figure, next_step, wait_for_step

    process, base = serve({"IWE_WARMUP": "1"})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            start = time.perf_counter()
            open_app(page, base)
            wait_for_data(page, "fs_members", "ys", timeout=900_000)
            first = time.perf_counter() - start
            wait_for_members(page, timeout=900_000)
            print(f"default page: first finite overlay after {first:.1f} s, whole ensemble "
                  f"after {time.perf_counter() - start:.1f} s")
            waited = _wait_for_warmup(base, warmup_wait)
            print(f"warm-up: {waited}")
            walk = []
            for name, lesson in LESSONS.items():  # (1) in one page, the → key
                start = time.perf_counter()
                page.goto(f"{base}/main?lesson={name}&step=1", timeout=600_000)
                before = wait_for_step(page, name, 1)
                print(f"walk {name:10s} step 1 (link) {time.perf_counter() - start:6.2f} s")
                for number in range(2, len(lesson.steps) + 1):
                    time.sleep(read)  # the class reads the step before the next
                    start = time.perf_counter()
                    next_step(page)
                    before = wait_for_step(page, name, number, before)
                    walk.append(time.perf_counter() - start)
                    print(f"walk {name:10s} step {number} (→ key) {walk[-1]:6.2f} s "
                          f"({lesson.steps[number - 1].view})")
            print(f"→ key: median {statistics.median(walk):.2f} s, max {max(walk):.2f} s over "
                  f"{len(walk)} steps (target <= 1 s)")
            for name, lesson in LESSONS.items():  # (2) each step's link in a new page
                for number, step in enumerate(lesson.steps, 1):
                    glyph, key, _ = figure(name, number, step)
                    query = f"lesson={name}&step={number}"
                    first = time_to_figure(page, base, query, glyph, key)
                    again = time_to_figure(page, base, query, glyph, key)
                    print(f"link {query:28s} {step.view:13s} first {first:7.2f} s   "
                          f"again {again:6.2f} s")
            browser.close()
    finally:
        process.terminate()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=40)
    parser.add_argument("--lessons", action="store_true",
                        help="time each lesson step to its drawn figure instead")
    parser.add_argument("--warmup-wait", type=float, default=1200.0)
    parser.add_argument("--read", type=float, default=5.0,
                        help="seconds a class reads a step (its figure drawn) before the → key")
    args = parser.parse_args(argv)
    import peer  # the JAX platform of this machine, where the server runs

    print(peer.platform_line(), flush=True)
    if args.lessons:
        lessons(args.warmup_wait, args.read)
        return
    from playwright.sync_api import sync_playwright

    process, base = serve()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            open_app(page, base)
            wait_for_members(page, timeout=600_000)  # with the finite ensemble on screen
            page.locator(".t-slider .noUi-handle").focus()
            for _ in range(3):  # warm the path once
                measure(page, "ArrowLeft")
            times = [measure(page, "ArrowLeft" if (i // 10) % 2 else "ArrowRight")
                     for i in range(args.moves)]
            browser.close()
    finally:
        process.terminate()
    q1, median, q3 = statistics.quantiles(times, n=4)
    print(f"time-slider latency over {len(times)} moves: median {median:.1f} ms "
          f"(quartiles {q1:.1f} / {q3:.1f} ms, max {max(times):.1f} ms)")


if __name__ == "__main__":
    main()
