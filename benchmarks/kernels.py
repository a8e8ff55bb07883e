"""Kernel speed and memory: our engine beside neural-tangents 0.6.5, in the same run.

    .venv/bin/python benchmarks/kernels.py [--repeats 5] [--only NAME ...] [--no-peer]

Workloads are those of ../shared/peers/neural_tangents/bench.py's kernel cases (W_std 1.4,
b_std 0.1, float64, nngp + ntk of x with itself, inputs from default_rng(0) in the same
order). For each workload our engine is timed (compiled, warmed up, median of repeats),
then neural-tangents in its own venv (NT_VENV, default ~/.cache/nt-peer-venv, built by
../shared/peers/neural_tangents/setup.sh), alternating, and the ratio ours / theirs printed.
Peak memory of each of our workloads is measured in a fresh subprocess (ru_maxrss).
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

import peer

W, B = 1.4, 0.1


def workloads(rng):
    """name -> (layers builder, input array), inputs drawn in bench.py's order."""
    fc = [["Dense", {"out_dim": 512, "W_std": W, "b_std": B}], ["Relu", {}]] * 3 + \
        [["Dense", {"out_dim": 1, "W_std": W, "b_std": B}]]
    conv = ["Conv", {"out_chan": 1, "filter_shape": [3, 3], "padding": "SAME", "W_std": W, "b_std": B}]
    cnn = [conv, ["Relu", {}]] * 3 + [["GlobalAvgPool", {}], ["Dense", {"out_dim": 1, "W_std": W, "b_std": B}]]
    out = {}
    for n in (1000, 4000):
        out[f"fc3_relu_N{n}_d32"] = (fc, rng.standard_normal((n, 32)))
    for n in (64, 256):
        out[f"cnn3_relu_gap_N{n}_8x8x3"] = (cnn, rng.standard_normal((n, 8, 8, 3)))
    x = rng.standard_normal((256, 8, 8, 3))
    out["cnn3_relu_gap_N256_8x8x3_ntbatch64"] = (cnn, x)
    return out


def time_ours(spec, x, repeats):
    import engine

    kernel_fn = engine.build(spec).kernel_fn
    t0 = time.perf_counter()
    kernel_fn(x, None, ("nngp", "ntk"))
    first = time.perf_counter() - t0
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        kernel_fn(x, None, ("nngp", "ntk"))
        runs.append(time.perf_counter() - t0)
    return first, runs


def peak_memory(name):
    """Peak resident memory (GB) of a fresh process computing one workload."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = (f"import sys; sys.path.insert(0, {here!r}); sys.argv=['x','--only','{name}','--repeats','1','--no-peer','--inner']; "
            f"import runpy; runpy.run_path({__file__!r}, run_name='__main__')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()

    import jax
    import numpy as np

    jax.config.update("jax_enable_x64", True)
    if not args.inner:
        print(peer.platform_line(), flush=True)
    use_peer = not args.no_peer and peer.available()
    rows = []
    for name, (spec, x) in workloads(np.random.default_rng(0)).items():
        if args.only and not any(o in name for o in args.only):
            continue
        repeats = args.repeats if "N256" not in name else min(args.repeats, 3)
        first, runs = time_ours(spec, x, repeats)
        if args.inner:
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20)
            return
        ours = statistics.median(runs)
        theirs = peer.median_seconds(name, repeats) if use_peer else None
        memory = peak_memory(name)
        rows.append((name, ours, theirs, first, memory))
        ratio = f"{ours / theirs:6.2f}" if theirs else "   n/a"
        print(f"{name:40s} ours {ours:8.3f}s  nt {theirs or float('nan'):8.3f}s  ratio {ratio}  "
              f"first {first:6.2f}s  peak {memory:5.2f} GB", flush=True)
    peer.table([(name, ours, theirs, memory) for name, ours, theirs, _, memory in rows],
               extra="our peak GB")


if __name__ == "__main__":
    main()
