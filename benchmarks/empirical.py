#!/usr/bin/env python
"""Empirical NTK of a width-4096, depth-3 MLP on 200 inputs: dense path vs Jacobian contraction.

    .venv/bin/python benchmarks/empirical.py [--width 4096] [--depth 3] [--n 200] [--repeats 3]

Each implementation runs in its own process so its peak memory (ru_maxrss) is its own.
The dense path is timed on all N inputs (median of ``repeats`` calls after a warm-up call,
which includes compilation). The plain Jacobian contraction needs N * P floats for P
parameters (50 GB for the default), so it is timed on ``--jacobian-n`` inputs and its time
extrapolated between linear (computing the Jacobians, N P) and quadratic (contracting them,
N^2 P) growth; both paths are checked to agree there.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def spec(width, depth):
    hidden = [[["Dense", {"out_dim": width, "W_std": 1.4, "b_std": 0.1}], ["Relu", {}]]
              for _ in range(depth)]
    return [layer for pair in hidden for layer in pair] + \
        [["Dense", {"out_dim": 1, "W_std": 1.4, "b_std": 0.1}]]


def measure(implementation, width, depth, n, repeats):
    import jax
    import numpy as np
    jax.config.update("jax_enable_x64", True)
    import engine
    from engine.empirical import empirical_ntk_fn

    network = engine.build(spec(width, depth))
    x = np.random.default_rng(0).standard_normal((n, 32))
    _, params = network.init_fn(jax.random.PRNGKey(0), x.shape)
    ntk_fn = empirical_ntk_fn(network.apply_fn, implementation=implementation)
    start = time.perf_counter()
    first = ntk_fn(x, None, params)
    first_s = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        ntk_fn(x, None, params)
        times.append(time.perf_counter() - start)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    parameters = sum(a.size for a in jax.tree_util.tree_leaves(params))
    return {"implementation": implementation, "n": n, "first_call_s": first_s,
            "median_s": statistics.median(times), "peak_rss_mb": peak_mb,
            "parameters": int(parameters), "trace": float(np.trace(first)),
            "corner": first[:4, :4].tolist()}


def run_child(args, implementation, n):
    command = [sys.executable, __file__, "--child", implementation, "--width", str(args.width),
               "--depth", str(args.depth), "--n", str(n), "--repeats", str(args.repeats)]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--width", type=int, default=4096)
    parser.add_argument("--depth", type=int, default=3)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--jacobian-n", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", default=None)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.width, args.depth, args.n, args.repeats)))
        return
    import peer

    print(peer.platform_line(), flush=True)
    print(f"MLP width {args.width}, depth {args.depth}, N = {args.n}, float64, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    dense = run_child(args, "dense", args.n)
    dense_small = run_child(args, "dense", args.jacobian_n)
    jacobian = run_child(args, "jacobian", args.jacobian_n)
    agree = max(abs(a - b) for ra, rb in zip(dense_small["corner"], jacobian["corner"])
                for a, b in zip(ra, rb))
    print(f"parameters: {dense['parameters']:,}")
    for row in (dense, dense_small, jacobian):
        print(f"{row['implementation']:>9} N={row['n']:<4} median {row['median_s']:8.3f} s  "
              f"first call {row['first_call_s']:7.2f} s  peak RSS {row['peak_rss_mb']:8.0f} MB")
    linear, quadratic = args.n / args.jacobian_n, (args.n / args.jacobian_n) ** 2
    jac = jacobian["median_s"]
    print(f"jacobian at N={args.n}, extrapolated: {jac * linear:.0f} s (Jacobians, linear in N) "
          f"to {jac * quadratic:.0f} s (contraction, quadratic in N), and "
          f"{jacobian['parameters'] * args.n * 8 / 2 ** 30:.0f} GB for one Jacobian")
    print(f"ratio jacobian / dense at N={args.n}: {jac * linear / dense['median_s']:.0f}x to "
          f"{jac * quadratic / dense['median_s']:.0f}x")
    print(f"dense vs jacobian at N={args.jacobian_n}: max |difference| {agree:.2e}")


if __name__ == "__main__":
    main()
