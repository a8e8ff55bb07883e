"""Medians of the closed-form prediction costs at dashboard size (200 train, 500 test).

    .venv/bin/python benchmarks/predict.py [n_train] [n_test]

Target: mean + variance at a new t in <= 20 ms on 2 CPU cores, after one build.
"""
import statistics
import sys
import time

import jax
import numpy as np

jax.config.update("jax_enable_x64", True)  # an entry point, like app/main.py

import engine  # noqa: E402
from engine.closed_form.ensemble import ensemble_predictor  # noqa: E402
from engine.predict import gradient_descent_mse_ensemble  # noqa: E402

DENSE = {"W_std": 1.5, "b_std": 0.05}
ARCH = [["Dense", {"out_dim": 512, **DENSE}], ["Relu", {}]] * 3 + \
       [["Dense", {"out_dim": 1, **DENSE}]]


def median_ms(fn, repeat=15) -> float:
    jax.block_until_ready(fn())  # compile / warm up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def problem(n_train, n_test):
    rng = np.random.default_rng(0)
    x_train = rng.uniform(-3, 3, (n_train, 2))
    x_test = rng.uniform(-3, 3, (n_test, 2))
    target = lambda x: np.sin(x[:, :1]) * np.cos(x[:, 1:])
    return x_train, target(x_train), x_test, target(x_test)


def main(n_train=200, n_test=500):
    import peer

    print(peer.platform_line(), flush=True)
    x_train, y_train, x_test, y_test = problem(n_train, n_test)
    _, _, kernel_fn = engine.build(ARCH)
    k_dd, k_td, k_tt = kernel_fn(x_train), kernel_fn(x_test, x_train), kernel_fn(x_test)
    build = lambda: ensemble_predictor(k_dd, y_train, k_td, k_tt, y_test, get="ntk",
                                       diag_reg=1e-4).test.y_v
    predictor = ensemble_predictor(k_dd, y_train, k_td, k_tt, y_test, get="ntk", diag_reg=1e-4)
    ts = iter(np.geomspace(1.0, 1e6, 10_000))
    loss_times = np.concatenate([[0.0], np.geomspace(1, 1e6, 99)])
    rows = [
        ("build predictor (eigh + projections)", median_ms(build)),
        ("mean at a new t", median_ms(lambda: predictor.test.mean(next(ts)))),
        ("variance at a new t", median_ms(lambda: predictor.test.variance(next(ts)))),
        ("mean + variance at a new t", median_ms(
            lambda: (predictor.test.mean(t := next(ts)), predictor.test.variance(t)))),
        ("full covariance at a new t", median_ms(lambda: predictor.test.cov(next(ts)))),
        ("loss curves, 100 times (train + test)", median_ms(
            lambda: predictor.loss(loss_times).test.mean, repeat=5)),
        ("gradient_descent_mse_ensemble, kernels + 1 t", median_ms(
            lambda: gradient_descent_mse_ensemble(kernel_fn, x_train, y_train, diag_reg=1e-4)(
                10.0, x_test, "ntk"), repeat=5)),
    ]
    print(f"n_train={n_train} n_test={n_test} devices={jax.devices()}")
    for label, ms in rows:
        print(f"{label:48s} {ms:9.2f} ms")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
