"""A classroom on one server: many browser sessions at once, measured as the students see it.

    .venv/bin/python benchmarks/classroom.py [--sessions 30] [--seconds 180] [--workers 1 2]

For each worker count (IWE_WORKERS: the job service's heavy lane) a fresh `panel serve
app/main.py` is started as the README does, and three phases run against it in one run:

1. single: one page alone moves the training-time slider (the reference latency);
2. control: ``--sessions`` pages open at once, every page moves only its time slider
   (what the browsers themselves cost on this machine: they share its cores with the server);
3. loaded: the same pages move the slider and every ``--change-every`` seconds each one
   changes a setting that starts work on the server (a new network seed: a new finite
   ensemble, never shared between students), for ``--seconds``.

Each slider latency is measured in the page, from the keydown to the animation frame that
shows the new closed-form mean (as benchmarks/latency.py does). Printed per phase: p50/p95
latency and the ratio to the single page, errors (moves without an answer within 60 s,
console errors, pages that never loaded), and ensembles finished per minute (a page's finite
progress bar going away after a change). The server's memory (RSS of the server and every
process it started, e.g. Dask workers) and threads are sampled each second: idle (after the
single phase), peak, and 60 s after every page was closed; of the idle and closed figures
also the server process's own RSS and what its result caches hold (/readiness).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.latency import WATCH  # noqa: E402  (the same in-page latency measure)
from tests.ui.conftest import ENTRIES, FLAGS, serve  # noqa: E402

MOVE_TIMEOUT = 60_000  # ms: a slider move with no answer by then counts as an error
OPEN_TIMEOUT = 600_000  # ms: 30 pages opened on two cores take a while

LOADED = ("(name) => { " + ENTRIES + " const s = window.Bokeh && Bokeh.documents.length "
          "&& Bokeh.documents[0].get_model_by_name(name + ':source'); "
          "return s && entries(s.data).length > 0 && entries(s.data)[0][1].length > 0 }")


@dataclass
class Phase:
    name: str
    latencies: list = field(default_factory=list)
    errors: list = field(default_factory=list)
    finished: int = 0
    seconds: float = 0.0

    def line(self, reference: float | None) -> str:
        if len(self.latencies) < 2:
            return f"{self.name:8s} {len(self.latencies)} answered moves, errors {len(self.errors)}"
        cuts = statistics.quantiles(self.latencies, n=20)
        p50, p95 = statistics.median(self.latencies), cuts[18]
        ratio = "" if reference is None else f" (x{p50 / reference[0]:.1f} / x{p95 / reference[1]:.1f})"
        jobs = (f", ensembles finished {self.finished} = {60 * self.finished / self.seconds:.1f}/min"
                if self.seconds else "")
        return (f"{self.name:8s} slider p50 {p50:7.0f} ms  p95 {p95:7.0f} ms{ratio}  "
                f"moves {len(self.latencies)}, errors {len(self.errors)}{jobs}")

    def percentiles(self) -> tuple:
        return statistics.median(self.latencies), statistics.quantiles(self.latencies, n=20)[18]


class Sampler(threading.Thread):
    """RSS (bytes) and threads of the server and its child processes, every second."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        import psutil
        self.process, self.samples, self.stop = psutil.Process(pid), [], threading.Event()

    def now(self) -> tuple:
        """(RSS of all, threads of all, RSS of the server process alone)."""
        import psutil
        threads, sizes = 0, {}
        for p in [self.process, *self.process.children(recursive=True)]:
            try:
                sizes[p.pid] = p.memory_info().rss
                threads += p.num_threads()
            except psutil.Error:
                pass
        rss = sum(sizes.values())
        return rss, threads, sizes.get(self.process.pid, 0)

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.samples.append((time.monotonic(), *self.now()))


def caches_mb(base: str) -> float:
    """What the server's result caches hold (MiB), as /readiness reports it."""
    import json
    import urllib.request
    with urllib.request.urlopen(f"{base}/readiness", timeout=30) as answer:
        return json.load(answer)["memory_mb"]["caches"]


async def measure(page, key: str) -> float:
    await page.evaluate(WATCH)
    await page.locator(".t-slider .noUi-handle").press(key)
    await page.wait_for_function("() => window.__latency.end !== null", timeout=MOVE_TIMEOUT)
    return await page.evaluate("() => window.__latency.end - window.__latency.start")


async def open_page(browser, base: str, errors: list, gate: asyncio.Semaphore, opens: list):
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    async with gate:  # a few pages load at a time, as a class arriving does
        start = time.monotonic()
        await page.goto(f"{base}/main", timeout=OPEN_TIMEOUT)
        await page.wait_for_function(LOADED, arg="fs_mean", timeout=OPEN_TIMEOUT)
        opens.append(time.monotonic() - start)
    await page.locator(".t-slider .noUi-handle").focus()
    return context, page


async def student(page, index: int, phase: Phase, until: float, change_every: float | None,
                  pause: float) -> None:
    rng = random.Random(index)
    next_change = time.monotonic() + rng.uniform(0, change_every or 1)
    moves, training = 0, False
    while time.monotonic() < until:
        if change_every and time.monotonic() >= next_change:
            next_change += change_every
            try:
                seed = page.locator(".network-seed input")
                await seed.fill(str(1000 * (index + 1) + moves))
                await seed.press("Enter")
                await page.locator(".t-slider .noUi-handle").focus()
            except Exception as err:  # a page too busy to take the change (counted)
                phase.errors.append(f"page {index}: setting change {type(err).__name__}")
        key = "ArrowLeft" if (moves // 10) % 2 else "ArrowRight"
        try:
            phase.latencies.append(await measure(page, key))
        except Exception as err:  # no answer: the student sees a frozen slider
            phase.errors.append(f"page {index}: {type(err).__name__}")
        moves += 1
        if change_every:
            running = await page.locator(".finite-progress progress").is_visible()
            if training and not running:
                phase.finished += 1
            training = running
        await asyncio.sleep(pause * rng.uniform(0.5, 1.5))


async def classroom(base: str, args, sampler: Sampler) -> dict:
    from playwright.async_api import async_playwright

    out = {}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        errors: list = []
        single = Phase("single")
        context, page = await open_page(browser, base, errors, asyncio.Semaphore(1), [])
        for _ in range(3):  # warm the path
            await measure(page, "ArrowRight")
        await student(page, 0, single, time.monotonic() + args.single_seconds, None, args.pause)
        await context.close()
        await asyncio.sleep(5)
        out["idle"], out["idle_caches"] = sampler.now(), caches_mb(base)

        gate = asyncio.Semaphore(4)
        opens: list = []
        opened = await asyncio.gather(*(open_page(browser, base, errors, gate, opens)
                                        for _ in range(args.sessions)), return_exceptions=True)
        pages = [p for p in opened if not isinstance(p, BaseException)]
        failed_opens = [repr(p)[:300] for p in opened if isinstance(p, BaseException)]
        phases = [single]
        for name, seconds, every in (("control", args.control_seconds, None),
                                     ("loaded", args.seconds, args.change_every)):
            phase = Phase(name, seconds=seconds if every else 0.0)
            until = time.monotonic() + seconds
            await asyncio.gather(*(student(page, i, phase, until, every, args.pause)
                                   for i, (_, page) in enumerate(pages)))
            phases.append(phase)
        out["peak"] = max(sampler.samples, key=lambda s: s[1])[1:] if sampler.samples else (0, 0, 0)
        for context, _ in pages:
            await context.close()
        await browser.close()
        out.update(phases=phases, console_errors=errors, failed_opens=failed_opens,
                   opened=len(pages), opens=opens)
    await asyncio.sleep(args.settle)
    out["after"], out["after_caches"] = sampler.now(), caches_mb(base)
    return out


def report(workers: int, args, out: dict) -> None:
    mb = lambda b: b / 2 ** 20  # noqa: E731
    single, control, loaded = out["phases"]
    reference = single.percentiles() if len(single.latencies) > 1 else None
    print(f"\n== {args.sessions} sessions ({out['opened']} opened), IWE_WORKERS={workers}, "
          f"{os.cpu_count()} cores")
    for phase in out["phases"]:
        print("  " + phase.line(None if phase is single else reference))
    if len(control.latencies) > 1 and len(loaded.latencies) > 1:
        c, l_ = control.percentiles(), loaded.percentiles()
        print(f"  loaded vs control (the jobs' own cost): p50 x{l_[0] / c[0]:.1f}, "
              f"p95 x{l_[1] / c[1]:.1f}")
    if out["opens"]:
        print(f"  opening a page (4 at a time) until its closed-form mean shows: median "
              f"{statistics.median(out['opens']):.1f} s, max {max(out['opens']):.1f} s")
    idle, peak, after = out["idle"], out["peak"], out["after"]
    print(f"  server RSS: idle {mb(idle[0]):.0f} MB, peak {mb(peak[0]):.0f} MB, "
          f"{args.settle:.0f} s after every page closed {mb(after[0]):.0f} MB "
          f"({100 * (after[0] / idle[0] - 1):+.0f} % of idle)")
    print(f"    of which the server process: idle {mb(idle[2]):.0f} MB, after {mb(after[2]):.0f} MB; "
          f"its result caches (/readiness): idle {out['idle_caches']} MB, after "
          f"{out['after_caches']} MB")
    print(f"  threads: idle {idle[1]}, peak {peak[1]}, after {after[1]}")
    print(f"  pages that never loaded: {len(out['failed_opens'])}; console errors: "
          f"{len(out['console_errors'])}; unanswered moves: "
          f"{sum(len(p.errors) for p in out['phases'])}")
    for text in out["failed_opens"][:3]:
        print(f"    never loaded: {text}")
    for text in sorted(set(out["console_errors"]))[:5]:
        print(f"    console: {text[:160]}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=180, help="loaded phase")
    parser.add_argument("--control-seconds", type=float, default=60)
    parser.add_argument("--single-seconds", type=float, default=30)
    parser.add_argument("--change-every", type=float, default=30,
                        help="seconds between two setting changes of one page (loaded phase)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between slider moves")
    parser.add_argument("--settle", type=float, default=60, help="seconds after closing")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    import peer  # the JAX platform of this machine, where the servers run

    print(peer.platform_line(), flush=True)
    for workers in args.workers:
        process, base = serve({"IWE_WORKERS": str(workers)})  # the app's own limits
        sampler = Sampler(process.pid)
        sampler.start()
        try:
            out = asyncio.run(classroom(base, args, sampler))
        finally:
            sampler.stop.set()
            process.terminate()
            process.wait(timeout=60)
        report(workers, args, out)


if __name__ == "__main__":
    main()
