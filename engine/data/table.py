"""A user's own data from CSV or NPZ (a path or the bytes of an upload).

CSV: one row per point, the last ``n_targets`` columns are the targets. NPZ: arrays
``x`` ``(n, *in_shape)`` and ``y`` ``(n,)`` or ``(n, n_outputs)``. Every problem is a
ValueError "load_table(source=...): what was expected; what was found".
"""
from __future__ import annotations

import io
import os
import zipfile

import numpy as np

from .. import checks
from .csv_text import parse_csv
from .dataset import Dataset, settings
from .grids import line_grid, square_grid

FN = "load_table"
MAX_ROWS, MAX_COLUMNS = 5000, 1024
ZIP_MAGIC = b"PK\x03\x04"  # an NPZ file is a zip archive
GRID_SIZES = {1: 200, 2: 50}  # default test-grid points per side, by input dimension


def _read(source) -> tuple[bytes, str]:
    """The bytes of ``source`` and how to show it in messages."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        return raw, f"<{len(raw)} bytes>"
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            return f.read(), repr(os.fspath(source))
    raise checks.fail(FN, "source", repr(type(source).__name__), "a path or the bytes of a CSV/NPZ file")


def _npz(raw: bytes) -> tuple[np.ndarray, np.ndarray]:
    try:
        archive = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as error:
        raise ValueError(f"an NPZ file must be readable by numpy.load; {error}") from None
    missing = [k for k in ("x", "y") if k not in archive.files]
    if missing:
        raise ValueError(f"an NPZ file must hold arrays 'x' and 'y'; it is missing "
                         f"{missing} (it has {sorted(archive.files)})")
    return tuple(_npz_array(archive, k) for k in ("x", "y"))


def _npz_array(archive, key: str) -> np.ndarray:
    try:
        array = archive[key]
    except ValueError as error:  # object arrays need pickle
        raise ValueError(f"array {key!r} must be numeric; {error}") from None
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) or array.ndim == 0:
        raise ValueError(f"array {key!r} must be a numeric array with a first axis of points; "
                         f"it has dtype {array.dtype} and shape {array.shape}")
    bad = np.argwhere(~np.isfinite(array.astype(np.float64)))
    if len(bad):
        index = tuple(int(i) for i in bad[0])
        raise ValueError(f"array {key!r} must be finite; {key}{list(index)} is {array[index]}")
    return array.astype(np.float64)


def _npz_xy(raw: bytes, max_rows: int, max_columns: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = _npz(raw)
    x = x[:, None] if x.ndim == 1 else x
    y = y[:, None] if y.ndim == 1 else y
    if y.ndim != 2 or len(y) != len(x):
        raise ValueError(f"'y' must have shape ({len(x)},) or ({len(x)}, n_outputs) to match "
                         f"'x' of shape {x.shape}; it has shape {y.shape}")
    columns = int(np.prod(x.shape[1:])) + y.shape[1]
    if len(x) > max_rows or columns > max_columns:
        raise ValueError(f"the data must have at most {max_rows} points and {max_columns} "
                         f"values per point; it has {len(x)} and {columns}")
    if len(x) == 0:
        raise ValueError("the data must hold at least one point; it is empty")
    return x, y


def _csv_xy(raw: bytes, n_targets: int, max_rows: int, max_columns: int):
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"a CSV file must be UTF-8 text; {error}") from None
    table, _ = parse_csv(text, max_rows, max_columns)
    if not n_targets < table.shape[1]:
        raise ValueError(f"the table must have more than n_targets={n_targets} columns so some "
                         f"are inputs; it has {table.shape[1]}")
    return table[:, :-n_targets], table[:, -n_targets:]


def _test_grid(x: np.ndarray, grid_size: int | None) -> dict:
    """A plotting grid over the padded range of 1-D or 2-D inputs, else no test set."""
    d = x.shape[1] if x.ndim == 2 else 0
    if d not in GRID_SIZES:
        return dict(x_test=np.zeros((0,) + x.shape[1:]))
    n = GRID_SIZES[d] if grid_size is None else grid_size
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = np.where(hi > lo, 0.05 * (hi - lo), 1.0)
    extent = tuple(float(v) for pair in zip(lo - pad, hi + pad) for v in pair)
    grid = line_grid(*extent, n) if d == 1 else square_grid(extent, n)
    return dict(x_test=grid, grid_shape=(n,) * d, grid_extent=extent)


def _split(x, y, test_fraction: float, seed: int) -> dict:
    n_test = round(test_fraction * len(x))
    if n_test == 0 or n_test == len(x):
        raise checks.fail(FN, "test_fraction", checks.quote(test_fraction),
                          f"such that train and test sets are non-empty ({len(x)} points)")
    order = np.random.default_rng(seed).permutation(len(x))
    train, test = order[n_test:], order[:n_test]
    return dict(x_train=x[train], y_train=y[train], x_test=x[test], y_test=y[test])


def load_table(source, *, n_targets: int = 1, test_fraction: float = 0.0, seed: int = 0,
               grid_size: int | None = None, max_rows: int = MAX_ROWS,
               max_columns: int = MAX_COLUMNS, name: str = "table") -> Dataset:
    """A Dataset from a CSV or NPZ file (detected from its content, not its name).

    ``test_fraction > 0`` holds out that share of the rows (seeded) as the test set;
    otherwise 1-D and 2-D inputs get a plotting grid over their range padded by 5%
    (``grid_size`` points per side, default 200 in 1-D and 50 in 2-D) and wider
    inputs an empty test set. ``n_targets`` applies to CSV only.
    """
    n_targets = checks.count(FN, "n_targets", n_targets)
    test_fraction, seed = checks.fraction(FN, "test_fraction", test_fraction), checks.seed(FN, seed)
    if grid_size is not None:
        grid_size = checks.count(FN, "grid_size", grid_size, maximum=1000)
    max_rows = checks.count(FN, "max_rows", max_rows)
    max_columns = checks.count(FN, "max_columns", max_columns)
    raw, shown = _read(source)
    try:
        x, y = _npz_xy(raw, max_rows, max_columns) if raw[:4] == ZIP_MAGIC else \
            _csv_xy(raw, n_targets, max_rows, max_columns)
    except ValueError as error:
        raise ValueError(f"{FN}(source={shown}): {error}") from None
    parts = _split(x, y, test_fraction, seed) if test_fraction > 0 else \
        dict(x_train=x, y_train=y, **_test_grid(x, grid_size))
    return Dataset(name=name, **parts, params=settings(
        n_targets=n_targets, test_fraction=test_fraction, seed=seed, grid_size=grid_size))
