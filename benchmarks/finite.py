#!/usr/bin/env python
"""Finite ensembles trained with real gradient descent: time to the first overlay (the first
chunk delivered, app/jobs/finite_jobs.py shows it at once) and to the complete ensemble.

    .venv/bin/python benchmarks/finite.py [--repeats 3] [--skip-page] [--skip-large]
                                          [--members 32] [--width 512] [--steps 1000]

Two workloads:
- the default page's ensemble, through the app's own training function (app/jobs/finite_jobs.py
  ``_train``: 8 networks of width 128, 10,000 steps, the default data and learning rate,
  float32). The app waits ``SETTLE`` seconds for sliders to stop before it starts.
- ``members`` networks of width ``width`` (two hidden Erf layers, 20 training points) for
  ``steps`` steps, float32 and float64.

Each prints the first call (compilation included: what a visitor waits for after changing
the width or the data) and the median of ``repeats`` further calls (compiled), in seconds and in CPU seconds of this
process (less sensitive to other work on a shared machine; with two cores busy it may be
up to twice the seconds). The load average is printed: read the numbers with it.
"""
import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import jax  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

from engine.finite.training import log_step_grid, train_ensemble  # noqa: E402

SPEC = [["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.05}], ["Erf", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.05}], ["Erf", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.05}]]


def timed(train) -> tuple:
    """(seconds to the first chunk, its last step, seconds to the end, CPU seconds of this
    process to the end) of ``train(on_chunk)``."""
    first = []
    start, cpu = time.perf_counter(), time.process_time()

    def on_chunk(part) -> None:
        if not first:
            first.append((time.perf_counter() - start, int(part.steps[-1])))
    train(on_chunk)
    total = time.perf_counter() - start
    return (*(first[0] if first else (total, -1)), total, time.process_time() - cpu)


def report(name: str, train, repeats: int) -> None:
    cold = timed(train)
    warm = [timed(train) for _ in range(repeats)]
    first, step, total, cpu = (statistics.median(w[i] for w in warm) for i in range(4))
    print(f"{name}\n  first call (compiling): first overlay {cold[0]:6.2f} s (to step "
          f"{cold[1]:,}), complete {cold[2]:6.2f} s ({cold[3]:.1f} CPU s)\n  median of "
          f"{repeats}:          first overlay {first:6.2f} s (to step {step:,.0f}), complete "
          f"{total:6.2f} s ({cpu:.1f} CPU s)", flush=True)


def default_page(repeats: int) -> None:
    from app.jobs import finite_jobs
    from app.state.settings import Finite
    from app.state.session import Session
    from engine.widths import with_width
    session = Session(finite=Finite(show=False))  # nothing trained (compiled) before
    session.wait(600)
    _, settings, _ = session.finite_ensembles._request()
    data = session.closed_form.data
    spec = with_width(session.closed_form.request.spec, settings["width"])

    def train(on_chunk):
        def progress(fraction, partial=None):
            if partial is not None:
                on_chunk(partial.run)
        finite_jobs._train(spec, data, settings, progress, lambda: False)
    print(f"default page: {settings['ensemble_size']} networks of width {settings['width']}, "
          f"{int(settings['steps'][-1]):,} steps, {len(data.x_train)} training and "
          f"{len(data.x_test)} test points, learning rate {settings['learning_rate']:.3g}, "
          f"float32 (+ {finite_jobs.SETTLE} s settle before the app starts a training)")
    report("default page", train, repeats)
    session.close()


def large(args) -> None:
    rng = np.random.default_rng(0)
    x_train = rng.uniform(-2, 2, (args.n_train, 1))
    y_train = np.sin(2 * x_train)
    x_test = np.linspace(-3, 3, 50)[:, None]
    steps = log_step_grid(args.steps)
    flops = 3 * 2 * args.n_train * args.width ** 2 * args.members * args.steps
    print(f"{args.members} networks, width {args.width}, 2 hidden layers, {args.n_train} "
          f"training points, {args.steps} steps; the width x width layer alone is "
          f"{flops / 1e9:.0f} GFLOP")
    for float32 in (True,) if args.float32_only else (True, False):
        def train(on_chunk):
            train_ensemble(SPEC, x_train, y_train, x_test, width=args.width,
                           ensemble_size=args.members, learning_rate=1.0, steps=steps,
                           float32=float32, on_chunk=on_chunk)
        report("float32" if float32 else "float64", train, args.repeats)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--n-train", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-page", action="store_true")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--float32-only", action="store_true")
    args = parser.parse_args()
    import peer

    print(peer.platform_line(), flush=True)
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (a shared machine: "
          f"other work slows these down)", flush=True)
    if not args.skip_page:
        default_page(args.repeats)
    if not args.skip_large:
        large(args)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
