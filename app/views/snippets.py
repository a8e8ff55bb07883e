""""Copy as Python": for each figure, a script using ``engine`` that recomputes its numbers.

Every snippet is self-contained (imports, float64, the spec and the dataset settings
written out) and leaves the figure's arrays in variables named like the CSV columns, so
tests/app/test_export.py can run it and compare with what the dashboard shows.
"""
from __future__ import annotations

import pprint

import numpy as np

HEADER = '''import jax
jax.config.update("jax_enable_x64", True)
import numpy as np
import engine
'''


def literal(value) -> str:
    """A Python literal of JSON-like ``value`` (specs, settings), pretty-printed."""
    return pprint.pformat(value, width=96, sort_dicts=False)


def number(value: float) -> str:
    return "np.inf" if np.isinf(value) else repr(float(value))


def dataset(key: tuple) -> str:
    """``data = engine.make_dataset(...)`` of a Data.key (name, ((param, value), ...))."""
    name, params = key
    arguments = "".join(f", {k}={v!r}" for k, v in params)
    return f"data = engine.make_dataset({name!r}{arguments})\n"


def kernels(spec) -> str:
    return (f"spec = {literal(spec)}\n"
            "kernel_fn = engine.build(spec).kernel_fn\n"
            'k_train_train = kernel_fn(data.x_train, None, get=("nngp", "ntk"))\n'
            'k_test_train = kernel_fn(data.x_test, data.x_train, get=("nngp", "ntk"))\n'
            'k_test_test = kernel_fn(data.x_test, None, get=("nngp",))\n')


def closed_form(spec, data_key: tuple, mode: str, learning_rate: float, diag_reg: float,
                t: float) -> str:
    """The infinite ensemble at time t: ``mean`` (n_test, k), ``std`` (n_test,), ``losses``."""
    get = "ntk" if mode == "ntk" else "nngp"
    time = "None  # the Bayesian posterior: t = infinity" if mode == "posterior" else repr(t)
    return (HEADER + dataset(data_key) + kernels(spec) +
            f"predictor = engine.ensemble_predictor(\n"
            f"    k_train_train, data.y_train, k_test_train, k_test_test, data.y_test,\n"
            f"    get={get!r}, learning_rate={learning_rate!r}, diag_reg={diag_reg!r})\n"
            f"t = {time}\n"
            "mean = np.asarray(predictor.test.mean(t))                # (n_test, n_outputs)\n"
            "std = np.sqrt(np.asarray(predictor.test.variance(t)))    # (n_test,)\n")


def loss(spec, data_key: tuple, mode: str, learning_rate: float, diag_reg: float,
         times) -> str:
    """Expected train/test loss and their spread at ``times``: ``losses.train.mean`` etc."""
    get = "ntk" if mode == "ntk" else "nngp"
    return (HEADER + dataset(data_key) + kernels(spec) +
            f"predictor = engine.ensemble_predictor(\n"
            f"    k_train_train, data.y_train, k_test_train, k_test_test, data.y_test,\n"
            f"    get={get!r}, learning_rate={learning_rate!r}, diag_reg={diag_reg!r})\n"
            f"t = np.array({[int(t) for t in times]}, dtype=float)\n"
            "losses = predictor.loss(t)   # .train / .test: LossCurve(t, mean, std)\n")


def images(key: tuple) -> str:
    """Test accuracy of the three networks of app/jobs/image_jobs.py on the digits."""
    from ..state.analysis_settings import ImageExperiment
    from ..jobs.image_jobs import ARCHITECTURES, TIMES
    from ..jobs.results import SAFE_FRACTION
    max_train, n_test, diag_reg, seed = key
    sizes = ImageExperiment(max_train=max_train).train_sizes
    times = ", ".join(number(t) for t in TIMES)
    return (HEADER +
            f"architectures = {literal(ARCHITECTURES)}\n"
            f"data = engine.make_dataset('digits', n_train={max_train}, n_test={n_test}, "
            f"seed={seed})\n"
            f"train_sizes = {sizes}\n"
            f"t = np.array([{times}])\n"
            "accuracy = {}   # name -> (len(train_sizes), len(t))\n"
            "for name, spec in architectures.items():\n"
            "    kernel_fn = engine.build(spec).kernel_fn\n"
            "    ntk = kernel_fn(data.x_train, None, get='ntk')\n"
            f"    learning_rate = {SAFE_FRACTION} * engine.max_learning_rate(ntk, "
            "data.y_train.size)\n"
            "    curves = engine.accuracy_curves(\n"
            "        kernel_fn, data.x_train, data.y_train, data.x_test, data.labels_test,\n"
            f"        train_sizes, t, get='ntk', learning_rate=learning_rate, "
            f"diag_reg={diag_reg!r})\n"
            "    accuracy[name] = curves.accuracy\n")

CLASSIFICATION_NOTE = '''# the heatmaps: values on the test grid, rows along x2 (ascending), columns along x1
infinite_mean = mean[:, 0]
infinite_std = std
heatmap = infinite_mean.reshape(data.grid_shape)   # extent data.grid_extent
'''


def train_kernels(spec, data_key: tuple, order_code: str) -> str:
    """NNGP and NTK of the training inputs in the heatmaps' order: ``nngp``, ``ntk``."""
    return (HEADER + dataset(data_key) +
            f"spec = {literal(spec)}\n"
            'k = engine.build(spec).kernel_fn(data.x_train, None, get=("nngp", "ntk"))\n'
            f"order = {order_code}   # the heatmaps' order\n"
            "nngp = np.asarray(k.nngp)[np.ix_(order, order)]\n"
            "ntk = np.asarray(k.ntk)[np.ix_(order, order)]\n")


def convergence(spec, key: tuple) -> str:
    """The width sweep: ``spectrum`` (eigenvalues, distance, slope) and ``change``."""
    from ..jobs.convergence import MAX_POINTS
    _, data_key, _, widths, seeds, learning_rate, steps = key
    return (HEADER + dataset(data_key) +
            f"spec = {literal(spec)}\n"
            f"x, y = data.x_train[:{MAX_POINTS}], data.y_train[:{MAX_POINTS}]\n"
            f"widths, seeds = {list(widths)}, range({seeds})\n"
            "spectrum = engine.ntk_spectrum(spec, x, widths, seeds)\n"
            f"change = engine.ntk_change(spec, x, y, widths, seeds, "
            f"learning_rate={learning_rate!r}, steps={steps})\n"
            "eigenvalue = spectrum.eigenvalues                    # (width, seed, index)\n"
            "analytic_eigenvalue = spectrum.analytic_eigenvalues  # (width, index)\n"
            "distance = spectrum.distance                         # (width, seed)\n"
            "relative_change = change.relative_change             # (width, seed)\n"
            "print('slopes:', spectrum.slope, change.slope)\n")


def angles(spec, key: tuple, train_code: str) -> str:
    """Jacot et al.'s curves along the unit circle: ``curves`` (engine.AngleKernels)."""
    from ..jobs.convergence import MAX_POINTS
    from ..jobs.results import SAFE_FRACTION
    _, _, _, widths, seeds, steps = key
    return (HEADER + train_code +
            f"spec = {literal(spec)}\n"
            "ntk = engine.build(spec).kernel_fn(data.x_train, None, get='ntk')\n"
            f"learning_rate = {SAFE_FRACTION} * engine.max_learning_rate(ntk, data.y_train.size)\n"
            "angles = np.linspace(-np.pi, np.pi, 121)\n"
            f"curves = engine.angle_kernels(\n"
            f"    spec, angles, widths={list(widths)}, seeds=range({seeds}),\n"
            f"    x_train=data.x_train[:{MAX_POINTS}], y_train=data.y_train[:{MAX_POINTS}],\n"
            f"    learning_rate=learning_rate, steps={steps})\n"
            "ntk, nngp = curves.ntk, curves.nngp                  # analytic, (angles,)\n"
            "ntk_init, ntk_trained = curves.ntk_init, curves.ntk_trained  # (width, seed, angles)\n")


def distribution(spec, key: tuple) -> str:
    """Outputs at initialisation: ``dist.samples`` (width, network, input), ``dist.ks_statistic``."""
    from ..jobs.convergence import DISTRIBUTION_POINTS
    _, data_key, _, widths, samples = key
    return (HEADER + dataset(data_key) +
            f"spec = {literal(spec)}\n"
            f"dist = engine.output_distribution(spec, data.x_train[:{DISTRIBUTION_POINTS}], "
            f"{list(widths)}, samples={samples})\n"
            "outputs = dist.samples[:, :, 0]           # f(x) of each network, per width\n"
            "nngp_variance = dist.nngp_variance[0, 0]  # the Gaussian limit: N(0, K(x, x))\n"
            "ks_statistic = dist.ks_statistic[:, 0]    # distance to it, per width\n")
