"""Built-in datasets and the table loader: shapes, determinism, labels, splits, errors."""
import io
import re

import numpy as np
import pytest

from engine.data import (DATASETS, Dataset, angle_grid, circle_points, classification_2d, digits,
                         load_digits_arrays, load_table, make_dataset, regression_1d, unit_circle)
from engine.data.digits import split_indices

SMALL = {"digits": dict(n_train=50, n_test=30)}


def _arrays(ds):
    return [a for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test) if a is not None]


def _same(a, b):
    return all(np.array_equal(u, v) for u, v in zip(_arrays(a), _arrays(b)))


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_is_float64_two_dimensional_targets_and_read_only(name):
    ds = make_dataset(name, **SMALL.get(name, {}))
    assert ds.name == name
    for a in _arrays(ds):
        assert a.dtype == np.float64 and not a.flags.writeable and np.all(np.isfinite(a))
    assert ds.y_train.ndim == 2 and len(ds.y_train) == ds.n_train
    assert ds.x_test.shape[1:] == ds.in_shape
    if ds.grid_shape is not None:
        assert int(np.prod(ds.grid_shape)) == ds.n_test


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_deterministic_per_seed_and_changing_with_seed(name):
    params = dict(SMALL.get(name, {}), **({} if name == "digits" else {"noise": 0.1}))
    first, again = make_dataset(name, seed=3, **params), make_dataset(name, seed=3, **params)
    other = make_dataset(name, seed=4, **params)
    assert _same(first, again) and first.params == again.params
    assert not np.array_equal(first.x_train, other.x_train)


def test_regression_grid_and_noiseless_test_targets():
    ds = regression_1d("sin", n_train=12, noise=0.0, x_range=(-2.0, 3.0), n_test=101)
    assert ds.x_train.shape == (12, 1) and np.all(np.diff(ds.x_train[:, 0]) >= 0)
    assert np.all((ds.x_train >= -2) & (ds.x_train <= 3))
    np.testing.assert_allclose(ds.y_train, np.sin(ds.x_train))
    np.testing.assert_allclose(ds.x_test[:, 0], np.linspace(-2, 3, 101))
    np.testing.assert_allclose(ds.y_test, np.sin(ds.x_test))
    assert ds.grid_shape == (101,) and ds.grid_extent == (-2.0, 3.0)


def test_regression_noise_is_gaussian_with_the_given_std():
    clean = regression_1d("step", n_train=4000, noise=0.0, seed=1)
    noisy = regression_1d("step", n_train=4000, noise=0.3, seed=1)
    np.testing.assert_array_equal(clean.x_train, noisy.x_train)  # the noise slider keeps x
    assert abs(np.std(noisy.y_train - clean.y_train) - 0.3) < 0.02
    assert set(np.unique(clean.y_train)) == {-1.0, 1.0}


@pytest.mark.parametrize("pattern", ["circle", "xor", "gaussians", "spiral"])
@pytest.mark.parametrize("n", [7, 200])
def test_classification_labels_are_balanced_plus_minus_one(pattern, n):
    ds = classification_2d(pattern, n_train=n, noise=0.1, grid_size=20, seed=2)
    assert ds.x_train.shape == (n, 2) and ds.y_train.shape == (n, 1)
    assert set(np.unique(ds.y_train)) == {-1.0, 1.0}
    assert np.sum(ds.y_train > 0) == n - n // 2
    np.testing.assert_array_equal(ds.labels_train, (ds.y_train[:, 0] > 0).astype(int))
    assert ds.y_test is None and ds.grid_shape == (20, 20) and ds.x_test.shape == (400, 2)


def test_classification_patterns_without_noise_follow_their_rule():
    circle = classification_2d("circle", n_train=300, noise=0.0)
    radius = np.linalg.norm(circle.x_train, axis=1)
    assert np.all((radius < 0.6) == (circle.y_train[:, 0] > 0))
    xor = classification_2d("xor", n_train=300, noise=0.0)
    np.testing.assert_array_equal(np.sign(xor.x_train[:, 0] * xor.x_train[:, 1]), xor.y_train[:, 0])


def test_grid_reshapes_row_major_with_first_coordinate_fastest():
    ds = classification_2d("xor", n_train=10, grid_size=5)
    image = ds.x_test.reshape(*ds.grid_shape, 2)
    x_lo, x_hi, y_lo, y_hi = ds.grid_extent
    np.testing.assert_allclose(image[0, :, 0], np.linspace(x_lo, x_hi, 5))
    np.testing.assert_allclose(image[:, 0, 1], np.linspace(y_lo, y_hi, 5))


def test_unit_circle_points_and_target():
    np.testing.assert_allclose(circle_points([0.0, np.pi / 2]), [[1, 0], [0, 1]], atol=1e-15)
    assert angle_grid(9)[0] == -np.pi and angle_grid(9)[-1] == np.pi
    ds = unit_circle(n_train=6, n_test=50)
    np.testing.assert_allclose(np.linalg.norm(ds.x_train, axis=1), 1.0)
    np.testing.assert_allclose(ds.y_train[:, 0], ds.x_train[:, 0] * ds.x_train[:, 1])
    np.testing.assert_allclose(ds.x_test, circle_points(angle_grid(50)))


def test_digits_asset_has_1797_images_of_10_classes():
    images, labels = load_digits_arrays()
    assert images.shape == (1797, 8, 8) and images.dtype == np.uint8 and images.max() == 16
    assert labels.shape == (1797,) and sorted(np.unique(labels)) == list(range(10))
    assert np.bincount(labels).min() == 174


def test_digits_split_is_disjoint_and_stratified():
    labels = load_digits_arrays()[1]
    for stratified in (False, True):
        train, test = split_indices(labels, 300, 200, stratified, np.random.default_rng(5))
        assert len(train) == 300 and len(test) == 200 and not set(train) & set(test)
    counts = np.bincount(labels[train], minlength=10)  # the stratified one
    assert counts.min() >= 29 and counts.max() <= 31  # 300 * (174..183) / 1797 = 29.0..30.6


def test_digits_are_scaled_centred_and_one_hot():
    ds = digits(n_train=300, n_test=200, seed=5)
    assert ds.x_train.shape == (300, 8, 8, 1) and ds.y_train.shape == (300, 10)
    assert np.bincount(ds.labels_train, minlength=10).min() >= 29
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-12)
    assert np.ptp(ds.x_train, axis=0).max() <= 1.0  # pixels / 16, shifted per pixel
    np.testing.assert_allclose(ds.y_train.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_array_equal(np.argmax(ds.y_test, axis=1), ds.labels_test)
    plain = digits(n_train=300, n_test=200, seed=5, centre_targets=False, flatten=True)
    assert plain.x_train.shape == (300, 64) and set(np.unique(plain.y_train)) == {0.0, 1.0}
    np.testing.assert_array_equal(plain.x_train, ds.x_train.reshape(300, 64))


def test_digits_uses_every_image_once_when_sizes_add_up():
    ds = digits(n_train=1000, n_test=797, seed=0)
    assert np.array_equal(np.bincount(np.concatenate([ds.labels_train, ds.labels_test])),
                          np.bincount(load_digits_arrays()[1]))


def test_load_table_csv_with_header_targets_and_grid():
    text = "x, y\n# a comment\n0.0, 1.0\n\n1.0, 2.0\n2.0, 0.5\n"
    ds = load_table(text.encode())
    np.testing.assert_array_equal(ds.x_train, [[0.0], [1.0], [2.0]])
    np.testing.assert_array_equal(ds.y_train, [[1.0], [2.0], [0.5]])
    assert ds.grid_shape == (200,) and ds.grid_extent == (-0.1, 2.1) and ds.y_test is None


def test_load_table_csv_delimiters_targets_and_split(tmp_path):
    rows = np.arange(40.0).reshape(10, 4)
    for delimiter in [",", ";", "\t", " "]:
        text = "\n".join(delimiter.join(str(v) for v in row) for row in rows)
        ds = load_table(text.encode(), n_targets=2, test_fraction=0.3, seed=1)
        assert ds.x_train.shape == (7, 2) and ds.y_test.shape == (3, 2)
        both = np.concatenate([np.hstack([ds.x_train, ds.y_train]),
                               np.hstack([ds.x_test, ds.y_test])])
        np.testing.assert_array_equal(np.sort(both, axis=0), rows)
    path = tmp_path / "data.csv"
    path.write_text("1,2,3\n4,5,6\n")
    ds = load_table(path)
    assert ds.in_shape == (2,) and ds.grid_shape == (50, 50)


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_load_table_npz_keeps_input_shape():
    x = np.arange(5 * 8 * 8, dtype=np.uint8).reshape(5, 8, 8, 1)
    ds = load_table(_npz(x=x, y=np.arange(5)))
    assert ds.x_train.shape == (5, 8, 8, 1) and ds.y_train.shape == (5, 1)
    assert ds.n_test == 0 and ds.grid_shape is None


# Error messages are matched literally (re.escape): the text a user reads.
CSV_ERRORS = [
    (b"", {}, "load_table(source=<0 bytes>): the file must hold rows of numbers; it is empty"),
    (b"# only\n\n", {}, "it is empty"),
    (b"a,b\n", {}, "it has only a header"),
    (b"a,b\n1,2\n3,x\n", {}, "row 3, column 2 ('b') must be a number; it is 'x'"),
    (b"1,2\n3,\n", {}, "row 2, column 2 must be a number; it is empty"),
    (b"1,2,3\n4,5\n", {}, "every row must have 3 cells like row 1; row 2 has 2 (ragged rows)"),
    (b"1,nan\n", {}, "row 1, column 2 must be finite; it is 'nan'"),
    (b"1,2\n3,-inf\n", {}, "row 2, column 2 must be finite; it is '-inf'"),
    (b"1,2\n3,4\n5,6\n", {"max_rows": 2}, "at most 2 rows of data; it has 3"),
    (b"1,2,3\n", {"max_columns": 2}, "at most 2 columns; it has 3"),
    (b"1,2\n", {"n_targets": 2}, "more than n_targets=2 columns so some are inputs; it has 2"),
    (b"\xff\xfe1,2\n", {}, "a CSV file must be UTF-8 text"),
]


@pytest.mark.parametrize("raw, options, message", CSV_ERRORS)
def test_load_table_csv_errors(raw, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_table(raw, **options)


NPZ_ERRORS = [
    (dict(x=np.ones((3, 2))),
     "an NPZ file must hold arrays 'x' and 'y'; it is missing ['y'] (it has ['x'])"),
    (dict(a=np.ones(3)),
     "an NPZ file must hold arrays 'x' and 'y'; it is missing ['x', 'y'] (it has ['a'])"),
    (dict(x=np.ones((3, 2)), y=np.ones(4)),
     "'y' must have shape (3,) or (3, n_outputs) to match 'x' of shape (3, 2); "
     "it has shape (4, 1)"),
    (dict(x=np.array([[1.0, np.inf]]), y=np.ones(1)), "array 'x' must be finite; x[0, 1] is inf"),
    (dict(x=np.array(["a", "b"]), y=np.ones(2)),
     "array 'x' must be a numeric array with a first axis of points; it has dtype <U1"),
    (dict(x=np.ones((6, 2)), y=np.ones(6)),
     "the data must have at most 5 points and 1024 values per point; it has 6 and 3"),
]


@pytest.mark.parametrize("arrays, message", NPZ_ERRORS)
def test_load_table_npz_errors(arrays, message):
    raw = _npz(**arrays)
    expected = f"load_table(source=<{len(raw)} bytes>): {message}"
    with pytest.raises(ValueError, match=re.escape(expected)):
        load_table(raw, max_rows=5)


ARGUMENT_ERRORS = [
    (3, {}, "load_table(source='int'): source must be a path or the bytes of a CSV/NPZ file"),
    (b"1,2\n", {"test_fraction": 1.5},
     "load_table(test_fraction=1.5): test_fraction must be a number in [0, 1)"),
    (b"1,2\n3,4\n", {"test_fraction": 0.1}, "load_table(test_fraction=0.1): test_fraction must be "
     "such that train and test sets are non-empty (2 points)"),
    (b"1,2\n", {"max_rows": 0}, "load_table(max_rows=0): max_rows must be a positive integer"),
    (b"1,2\n", {"n_targets": 0}, "load_table(n_targets=0): n_targets must be a positive integer"),
]


@pytest.mark.parametrize("source, options, message", ARGUMENT_ERRORS)
def test_load_table_argument_errors(source, options, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        load_table(source, **options)


GENERATOR_ERRORS = [
    (regression_1d, dict(target="cube"), "regression_1d(target='cube'): target must be one of "
     "['abs', 'sin', 'step', 'sum_of_sines']"),
    (regression_1d, dict(n_train=0),
     "regression_1d(n_train=0): n_train must be a positive integer <= 100000"),
    (regression_1d, dict(n_train=2.5),
     "regression_1d(n_train=2.5): n_train must be a positive integer"),
    (regression_1d, dict(noise=-0.1),
     "regression_1d(noise=-0.1): noise must be a non-negative finite number"),
    (regression_1d, dict(noise=float("nan")),
     "regression_1d(noise=nan): noise must be a non-negative"),
    (regression_1d, dict(x_range=(1.0, 1.0)), "regression_1d(x_range=(1.0, 1.0)): x_range must be "
     "a pair (lo, hi) of finite numbers with lo < hi"),
    (regression_1d, dict(x_range=(0, float("inf"))),
     "regression_1d(x_range=(0, inf)): x_range must"),
    (regression_1d, dict(seed=-1), "regression_1d(seed=-1): seed must be a non-negative integer"),
    (classification_2d, dict(pattern="moons"),
     "classification_2d(pattern='moons'): pattern must be "
     "one of ['circle', 'gaussians', 'spiral', 'xor']"),
    (classification_2d, dict(grid_size=2000),
     "classification_2d(grid_size=2000): grid_size must be a positive integer <= 1000"),
    (unit_circle, dict(n_test=True), "unit_circle(n_test=True): n_test must be a positive integer"),
    (digits, dict(n_train=1797),
     "digits(n_train=1797): n_train must be a positive integer <= 1796"),
    (digits, dict(n_train=1000, n_test=800),
     "digits(n_test=800): n_test must be <= 797 so that n_train + n_test <= 1797"),
]


@pytest.mark.parametrize("fn, params, message", GENERATOR_ERRORS)
def test_generator_errors(fn, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        fn(**params)


REGISTRY_ERRORS = [
    ("foo", {}, "make_dataset(name='foo'): name must be one of ['abs', 'circle', 'digits', "
     "'gaussians', 'sin', 'spiral', 'step', 'sum_of_sines', 'unit_circle', 'xor']"),
    ("sin", {"pattern": "xor"}, "make_dataset(name='sin', pattern=...): pattern is not a parameter "
     "of 'sin'; expected some of ['n_test', 'n_train', 'noise', 'seed', 'x_range']"),
    ("sin", {"target": "abs"}, "target is not a parameter of 'sin'"),
    ("digits", {"path": "/etc/passwd"}, "path is not a parameter of 'digits'"),
    ("sin", {"n_train": 6000},
     "make_dataset(n_train=6000): n_train must be such that n_train <= max_train=5000"),
    ("xor", {"n_train": 50, "max_train": 20}, "make_dataset(n_train=50): n_train must be such that "
     "n_train <= max_train=20"),
    ("sin", {"n_test": 50_000}, "make_dataset(n_test=50000): n_test must be such that "
     "n_test <= max_test=40000"),
    ("circle", {"grid_size": 300}, "make_dataset(grid_size=300): grid_size must be such that "
     "grid_size**2 <= max_test=40000"),
    ("sin", {"max_test": 0}, "make_dataset(max_test=0): max_test must be a positive integer"),
]


@pytest.mark.parametrize("name, params, message", REGISTRY_ERRORS)
def test_make_dataset_errors(name, params, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        make_dataset(name, **params)


def test_registry_documents_parameters_and_fixes_variants():
    assert DATASETS["xor"].defaults == dict(n_train=200, noise=0.05, grid_size=50, seed=0)
    assert "path" not in DATASETS["digits"].defaults
    assert all(entry.summary and entry.make.__doc__ for entry in DATASETS.values())
    assert _same(make_dataset("abs", n_train=5), regression_1d("abs", n_train=5))


RECORD_ERRORS = [
    (dict(y_train=np.zeros(3)),
     "Dataset(y_train=<array of shape (3,)>): y_train must be an array of shape (3, n_outputs)"),
    (dict(x_test=np.zeros((2, 2))),
     "Dataset(x_test=<array of shape (2, 2)>): x_test must be an array of shape (n_test, *(1,))"),
    (dict(y_train=np.full((3, 1), np.nan)),
     "Dataset(y_train=<array of shape (3, 1)>): y_train must be finite (no NaN or inf)"),
    (dict(grid_shape=(2,), grid_extent=(0.0, 1.0)),
     "Dataset(grid_shape=(2,)): grid_shape must be a shape with 3 points"),
    (dict(grid_shape=(3,)),
     "Dataset(grid_extent=None): grid_extent must be (lo, hi) per grid axis"),
]


@pytest.mark.parametrize("changes, message", RECORD_ERRORS)
def test_dataset_record_validates_once(changes, message):
    zeros = np.zeros((3, 1))
    fields = dict(name="d", x_train=zeros, y_train=zeros, x_test=zeros)
    with pytest.raises(ValueError, match=re.escape(message)):
        Dataset(**dict(fields, **changes))


def test_dataset_copies_its_arrays():
    source = np.ones((3, 1))
    ds = Dataset("d", source, source, source)
    source[0, 0] = 5.0
    assert ds.x_train[0, 0] == 1.0 and ds.y_train[0, 0] == 1.0
    with pytest.raises(ValueError, match="read-only"):
        ds.x_train[0, 0] = 2.0
