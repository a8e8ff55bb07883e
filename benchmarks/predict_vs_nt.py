"""Closed-form predictions beside neural-tangents 0.6.5, in the same run.

    .venv/bin/python benchmarks/predict_vs_nt.py [--repeats 5] [--only NAME ...] [--no-peer]

The prediction workloads of ../shared/peers/neural_tangents/bench.py: the FC3-ReLU kernel
(W_std 1.4, b_std 0.1) on 500 train / 500 test points of dimension 32, float64, diag_reg 1e-4,
20 times log-spaced in [0.1, 1000], nngp + ntk. Each is timed here (warmed up, median of
repeats), then in neural-tangents' own venv (see benchmarks/kernels.py), and the ratio printed.
"""
from __future__ import annotations

import argparse
import statistics
import time

import peer
from kernels import W, B

N_TRAIN, N_TEST = 500, 500


def timed(fn, repeats):
    import jax

    t0 = time.perf_counter()
    jax.block_until_ready(fn())
    first = time.perf_counter() - t0
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        runs.append(time.perf_counter() - t0)
    return first, statistics.median(runs)


def workloads():
    """name -> zero-argument function computing that workload with our engine."""
    import numpy as np

    import engine

    fc = [["Dense", {"out_dim": 512, "W_std": W, "b_std": B}], ["Relu", {}]] * 3 + \
        [["Dense", {"out_dim": 1, "W_std": W, "b_std": B}]]
    kernel_fn = engine.build(fc).kernel_fn
    rng = np.random.default_rng(0)
    x_tr, y_tr = rng.standard_normal((N_TRAIN, 32)), rng.standard_normal((N_TRAIN, 1))
    x_te = rng.standard_normal((N_TEST, 32))
    ts = np.logspace(-1, 3, 20)
    get = ("nngp", "ntk")

    def fresh(cov):
        predict_fn = engine.predict.gradient_descent_mse_ensemble(kernel_fn, x_tr, y_tr,
                                                                  diag_reg=1e-4)
        return predict_fn(t=ts, x_test=x_te, get=get, compute_cov=cov)

    cached = engine.predict.gradient_descent_mse_ensemble(kernel_fn, x_tr, y_tr, diag_reg=1e-4)
    k_dd, k_td = kernel_fn(x_tr, None, get), kernel_fn(x_te, x_tr, get)
    k_tt = kernel_fn(x_te, None, get)
    return {
        "gd_mse_ensemble_500x500_T20_mean": lambda: fresh(False),
        "gd_mse_ensemble_500x500_T20_meancov": lambda: fresh(True),
        "gd_mse_ensemble_500x500_T20_meancov_cached":
            lambda: cached(t=ts, x_test=x_te, get=get, compute_cov=True),
        "gp_inference_500x500_precomputed": lambda: engine.predict.gp_inference(
            k_dd, y_tr, diag_reg=1e-4)(get=get, k_test_train=k_td, k_test_test=k_tt),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--no-peer", action="store_true")
    args = ap.parse_args()

    import jax

    jax.config.update("jax_enable_x64", True)
    print(peer.platform_line(), flush=True)
    use_peer = not args.no_peer and peer.available()
    rows = []
    for name, fn in workloads().items():
        if args.only and not any(o in name for o in args.only):
            continue
        first, ours = timed(fn, args.repeats)
        theirs = peer.median_seconds(name, args.repeats) if use_peer else None
        rows.append((name, ours, theirs))
        ratio = f"{ours / theirs:6.2f}" if theirs else "   n/a"
        print(f"{name:44s} ours {ours:8.3f}s  nt {theirs or float('nan'):8.3f}s  ratio {ratio}  "
              f"first {first:6.2f}s", flush=True)
    peer.table(rows)


if __name__ == "__main__":
    main()
