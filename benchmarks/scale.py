"""Kernels past one process: engine.batch through a Dask LocalCluster vs the single process.

    .venv/bin/python benchmarks/scale.py [--fc N] [--cnn N] [--workers 2] [--single-cnn M]

Two workloads (float64, nngp + ntk of x with itself, W_std 1.4, b_std 0.1):
- FC 3x[Dense 512, ReLU] + Dense on N x 32 inputs (issue 12: N = 20,000);
- CNN 3x[Conv3x3 SAME, ReLU] + GlobalAvgPool + Dense on N images of 8x8x3 (N = 4,096).
Each is computed by ``engine.batch(kernel_fn, batch_size)`` in this process, then with
``executor=client.get_executor()`` of a ``LocalCluster(n_workers=workers)``, results written to
memmaps under a temporary directory. Printed: wall time, kernel entries per second (N^2 per
kernel), the speed-up and the largest difference between the two results.
``--single-cnn M`` has the single process compute only the kernel of the first M images (the
top-left M x M block of the mapped result, in tiles of the same size): at N = 4,096 the whole
kernel takes some 40 minutes per path on 2 cores. Its throughput is then measured on that
block, and the difference is taken on it. The device and the
load average are printed too: on a shared machine the numbers vary from run to run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

W, B = 1.4, 0.1


def specs():
    fc = [["Dense", {"out_dim": 512, "W_std": W, "b_std": B}], ["Relu", {}]] * 3 + \
        [["Dense", {"out_dim": 1, "W_std": W, "b_std": B}]]
    conv = ["Conv", {"out_chan": 1, "filter_shape": [3, 3], "padding": "SAME", "W_std": W,
                     "b_std": B}]
    cnn = [conv, ["Relu", {}]] * 3 + [["GlobalAvgPool", {}],
                                      ["Dense", {"out_dim": 1, "W_std": W, "b_std": B}]]
    return fc, cnn


def run(kernel_fn, x, batch_size, executor, out_dir):
    import engine

    t0 = time.perf_counter()
    k = engine.batch(kernel_fn, batch_size, store_on_device=False, executor=executor,
                     out=out_dir)(x, None, ("nngp", "ntk"))
    return time.perf_counter() - t0, k


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fc", type=int, default=20_000, help="FC inputs (0: skip)")
    ap.add_argument("--cnn", type=int, default=4_096, help="CNN images (0: skip)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fc-batch", type=int, default=2_000)
    ap.add_argument("--cnn-batch", type=int, default=256)
    ap.add_argument("--single-cnn", type=int, default=0,
                    help="single process: only the first M images' kernel (0: all)")
    args = ap.parse_args()

    import jax
    import numpy as np
    from distributed import Client, LocalCluster

    import engine

    import peer

    jax.config.update("jax_enable_x64", True)
    print(peer.platform_line(), flush=True)
    fc, cnn = specs()
    rng = np.random.default_rng(0)
    workloads = []
    if args.fc:
        workloads.append((f"fc3_relu_N{args.fc}_d32", fc, rng.standard_normal((args.fc, 32)),
                          args.fc_batch, args.fc))
    if args.cnn:
        workloads.append((f"cnn3_relu_gap_N{args.cnn}_8x8x3", cnn,
                          rng.standard_normal((args.cnn, 8, 8, 3)), args.cnn_batch,
                          min(args.single_cnn or args.cnn, args.cnn)))
    tmp = tempfile.mkdtemp(prefix="scale-")
    try:
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            for name, spec, x, size, m in workloads:
                kernel_fn = engine.build(spec).kernel_fn
                warm = x[:min(size, len(x))]
                engine.batch(kernel_fn, size, store_on_device=False)(warm, None, "ntk")
                engine.batch(kernel_fn, size, store_on_device=False,
                             executor=client.get_executor())(warm, None, "ntk")
                single, k1 = run(kernel_fn, x[:m], size, None, os.path.join(tmp, name, "single"))
                mapped, k2 = run(kernel_fn, x, size, client.get_executor(),
                                 os.path.join(tmp, name, "dask"))
                diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)[:m, :m])))
                           for a, b in ((k1.nngp, k2.nngp), (k1.ntk, k2.ntk)))
                rate1, rate2 = 2 * m ** 2 / single, 2 * len(x) ** 2 / mapped
                block = "" if m == len(x) else f" (first {m})"
                print(f"{name:30s} batch {size:5d}  single{block} {single:8.1f}s "
                      f"({rate1:12.0f} entries/s)  dask x{args.workers} "
                      f"{mapped:8.1f}s ({rate2:12.0f} entries/s)  "
                      f"speed-up {rate2 / rate1:5.2f}  max |diff| {diff:.1e}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
