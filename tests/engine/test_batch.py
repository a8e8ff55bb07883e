"""engine.batch beyond one thread: local devices, any concurrent.futures.Executor, memmaps.

Every mapped kernel must equal the single-process kernel to 1e-12 (float64).
"""
import concurrent.futures
import os
import subprocess
import sys
import textwrap
import time

import jax
import numpy as np
import pytest

import engine

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
W, B = 1.4, 0.1
CNN = [["Conv", {"out_chan": 1, "filter_shape": [3, 3], "padding": "SAME", "W_std": W,
                 "b_std": B}], ["Relu", {}], ["GlobalAvgPool", {}],
       ["Dense", {"out_dim": 1, "W_std": W, "b_std": B}]]
FC = [["Dense", {"out_dim": 8, "W_std": W, "b_std": B}], ["Relu", {}], ["Dense", {"out_dim": 1}]]


def close(actual, expected):
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((13, 3, 3, 2)), rng.standard_normal((7, 3, 3, 2))


class CountingExecutor(concurrent.futures.ThreadPoolExecutor):
    """A thread pool that counts the tasks submitted to it."""

    def __init__(self, workers):
        super().__init__(workers)
        self.submitted = 0

    def submit(self, *args, **kwargs):
        self.submitted += 1
        return super().submit(*args, **kwargs)


def test_thread_pool_tiles_equal_the_single_process_kernel(data):
    x1, x2 = data
    kernel_fn = engine.build(CNN).kernel_fn
    with CountingExecutor(2) as pool:
        batched = engine.batch(kernel_fn, 4, store_on_device=False, executor=pool)
        for other in (None, x2):
            whole, tiles = kernel_fn(x1, other), batched(x1, other)
            for name in ("nngp", "ntk", "cov1", "cov2"):
                close(getattr(tiles, name), getattr(whole, name))
            close(batched(x1, other, "ntk"), whole.ntk)
        assert pool.submitted == 10 + 8 + 10 + 8  # 4 x 4 upper triangle, 4 x 2 blocks


def test_cancel_stops_submitting_tiles():
    x = np.random.default_rng(1).standard_normal((40, 3))
    kernel_fn = engine.build(FC).kernel_fn
    seen = []

    def stop(fraction):
        seen.append(fraction)
        raise InterruptedError

    with CountingExecutor(1) as pool:
        with pytest.raises(InterruptedError):
            engine.batch(kernel_fn, 4, store_on_device=False, executor=pool,
                         progress=stop)(x, None, "nngp")
    assert len(seen) == 1 and pool.submitted <= 5 < 55  # 55 blocks in the upper triangle


def test_results_written_to_memmaps(tmp_path, data):
    x1 = data[0].reshape(13, -1)
    kernel_fn = engine.build(FC).kernel_fn
    k = engine.batch(kernel_fn, 5, store_on_device=False, out=tmp_path)(x1, None, ("nngp", "ntk"))
    assert isinstance(k.ntk, np.memmap)
    close(np.load(tmp_path / "ntk.npy"), kernel_fn(x1, None, "ntk"))
    close(k.nngp, kernel_fn(x1, None, "nngp"))


@pytest.mark.parametrize("kwargs,message", [
    (dict(executor="dask"), r"batch\(executor='dask'\): executor must be a "
                            r"concurrent.futures.Executor"),
    (dict(device_count=-2), r"batch\(device_count=-2\): device_count must be -1"),
    (dict(out="/tmp/k"), r"batch\(out='/tmp/k'\): memmapped results live on the host; pass "
                         "store_on_device=False"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        engine.batch(engine.build(FC).kernel_fn, 4, **kwargs)


def test_tiles_over_four_local_devices_equal_the_single_device_kernel():
    """Four CPU devices in a fresh process: one block per device at a time."""
    code = textwrap.dedent(f"""
        import jax, numpy as np
        jax.config.update("jax_enable_x64", True)
        import engine
        assert len(jax.local_devices()) == 4
        used = set()
        spec = {FC!r}
        kernel_fn = engine.build(spec).kernel_fn
        def traced(x1, x2=None, get=None):
            out = kernel_fn(x1, x2, get)
            used.update(d.id for d in out.devices())
            return out
        x = np.random.default_rng(0).standard_normal((11, 5))
        tiles = engine.batch(traced, 3, store_on_device=False)(x, None, "ntk")
        np.testing.assert_allclose(tiles, kernel_fn(x, None, "ntk"), rtol=1e-12, atol=1e-13)
        assert used == {{0, 1, 2, 3}}, used
        print("ok")
    """)
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu", PYTHONPATH=ROOT)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=ROOT, timeout=600)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-2000:]


@pytest.mark.slow
def test_dask_executor_tiles_equal_the_single_process_kernel(data):
    """A one-worker LocalCluster in its own process: tasks travel by cloudpickle."""
    distributed = pytest.importorskip("distributed")
    x1, x2 = data
    x1, x2 = x1.reshape(13, -1), x2.reshape(7, -1)
    kernel_fn = engine.build(FC).kernel_fn
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        k = engine.batch(kernel_fn, 5, store_on_device=False,
                         executor=client.get_executor())(x1, x2, ("nngp", "ntk"))
    whole = kernel_fn(x1, x2, ("nngp", "ntk"))
    close(k.nngp, whole.nngp)
    close(k.ntk, whole.ntk)
    assert jax.config.jax_enable_x64


@pytest.mark.slow
def test_cancel_during_a_dask_kernel_leaves_no_task_on_the_cluster():
    """A progress callback that raises stops a kernel running on a Dask cluster: at most two
    blocks per worker slot were submitted, the queued ones are cancelled, and within a second
    of the cancel the scheduler has no task to run (the running block finished, ~0.3 s
    here)."""
    distributed = pytest.importorskip("distributed")
    x = np.random.default_rng(2).standard_normal((160, 16, 16, 3))
    kernel_fn = engine.build(CNN).kernel_fn
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        futures = []

        class Recording(concurrent.futures.Executor):
            def submit(self, fn, *args, **kwargs):
                futures.append(client.get_executor().submit(fn, *args, **kwargs))
                return futures[-1]

        def stop(fraction):
            raise InterruptedError

        with pytest.raises(InterruptedError):
            engine.batch(kernel_fn, 40, store_on_device=False, executor=Recording(),
                         progress=stop)(x, None, ("nngp", "ntk"))
        assert len(futures) == 4  # of 10 blocks (4 x 4, upper triangle)
        assert sum(f.cancelled() for f in futures) >= 2
        tasks = lambda dask_scheduler: sum(  # noqa: E731  (held results are in "memory")
            t.state in ("queued", "waiting", "processing", "no-worker")
            for t in dask_scheduler.tasks.values())
        deadline = time.monotonic() + 1.0
        while client.run_on_scheduler(tasks) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.run_on_scheduler(tasks) == 0


def test_an_empirical_ntk_fn_gets_its_params_in_every_block():
    """neural-tangents' function_space example: ``batch(empirical_ntk_fn(f))(x, None, params)``
    passes ``params`` on as the third positional argument (it is not ``get``)."""
    init_fn, apply_fn, _ = engine.stax.serial(engine.stax.Dense(16), engine.stax.Relu(),
                                              engine.stax.Dense(2))
    x = np.random.default_rng(0).standard_normal((10, 3))
    params = init_fn(jax.random.PRNGKey(0), x.shape)[1]
    ntk_fn = engine.empirical_ntk_fn(apply_fn, trace_axes=())
    whole = np.asarray(ntk_fn(x, None, params))
    tiled = engine.batch(ntk_fn, batch_size=4, store_on_device=False)(x, None, params)
    assert tiled.shape == whole.shape == (10, 10, 2, 2)
    close(tiled, whole)
    x2 = x[:7] + 0.5
    close(engine.batch(ntk_fn, batch_size=3)(x, x2, params), np.asarray(ntk_fn(x, x2, params)))


def test_a_float32_program_stays_float32():
    """With JAX's x64 off (neural-tangents' default; a fresh process), float64 NumPy inputs
    give float32 blocks, the unbatched kernel's numbers, and x64 stays off for the rest of the
    program (it was switched on for good)."""
    code = textwrap.dedent(f"""
        import jax, numpy as np
        import engine
        kernel_fn = engine.build({FC!r}).kernel_fn
        x = np.random.default_rng(0).standard_normal((7, 5))
        tiles = engine.batch(kernel_fn, 3, store_on_device=False)(x, None, "ntk")
        whole = kernel_fn(x, None, "ntk")
        assert not jax.config.jax_enable_x64
        assert tiles.dtype == np.float32 and whole.dtype == np.float32, (tiles.dtype, whole.dtype)
        np.testing.assert_allclose(tiles, whole, rtol=1e-5)
        print("ok")
    """)
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=dict(os.environ, JAX_PLATFORMS="cpu", PYTHONPATH=ROOT), cwd=ROOT,
                         timeout=600)
    assert run.returncode == 0 and run.stdout.strip().endswith("ok"), run.stderr[-2000:]
