#!/usr/bin/env python
"""Finite ensemble trained with real gradient descent: 32 networks of width 512, two hidden
layers, 20 training points, 1,000 steps.

    .venv/bin/python benchmarks/finite.py [--members 32] [--width 512] [--steps 1000]
                                          [--n-train 20] [--repeats 3]

Prints the first call (compilation included) and the median of ``repeats`` further calls for
float32 and float64, and the exact arithmetic lower bound: each step costs about three
products of (n_train x width) by (width x width) per member and hidden-to-hidden layer.
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

from engine.finite import log_step_grid, train_ensemble  # noqa: E402

SPEC = [["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.05}], ["Erf", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.05}], ["Erf", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.05}]]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=32)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--n-train", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x_train = rng.uniform(-2, 2, (args.n_train, 1))
    y_train = np.sin(2 * x_train)
    x_test = np.linspace(-3, 3, 50)[:, None]
    steps = log_step_grid(args.steps)
    flops = 3 * 2 * args.n_train * args.width ** 2 * args.members * args.steps
    print(f"{args.members} networks, width {args.width}, 2 hidden layers, {args.n_train} "
          f"training points, {args.steps} steps; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"arithmetic of the width x width layer alone: {flops / 1e9:.0f} GFLOP")
    for float32 in (True, False):
        def run():
            return train_ensemble(SPEC, x_train, y_train, x_test, width=args.width,
                                  ensemble_size=args.members, learning_rate=1.0, steps=steps,
                                  float32=float32)
        start = time.perf_counter()
        result = run()
        first = time.perf_counter() - start
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        print(f"{'float32' if float32 else 'float64'}: first call {first:6.2f} s, median "
              f"{median:6.2f} s ({flops / median / 1e9:5.1f} GFLOP/s); final train loss "
              f"{result.train_loss[:, -1].mean():.2e}")


if __name__ == "__main__":
    main()
