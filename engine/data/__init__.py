"""Built-in datasets and a loader for a user's own data; pure NumPy, seeded.

Every generator returns a read-only float64 ``Dataset``; ``make_dataset(name, **params)``
builds one of ``DATASETS`` by name after validating the request.
"""
from .classification import PATTERNS, classification_2d
from .dataset import Dataset
from .digits import digits, load_digits_arrays
from .grids import angle_grid, circle_points, line_grid, square_grid
from .registry import DATASETS, MAX_TEST, MAX_TRAIN, DatasetEntry, make_dataset
from .regression import TARGETS, regression_1d, unit_circle
from .table import load_table

__all__ = [
    "Dataset", "DatasetEntry", "DATASETS", "make_dataset", "MAX_TRAIN", "MAX_TEST",
    "regression_1d", "TARGETS", "classification_2d", "PATTERNS", "unit_circle",
    "angle_grid", "circle_points", "line_grid", "square_grid",
    "digits", "load_digits_arrays", "load_table",
]
