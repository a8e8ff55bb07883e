"""The 8x8 handwritten digits (UCI optical recognition set, as scikit-learn's load_digits).

1,797 grey images with pixels 0..16 and labels 0..9, shipped in ``assets/digits.npz``
(``images`` uint8 ``(1797, 8, 8)``, ``labels`` uint8 ``(1797,)``); source and licence
in ``assets/README.md``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .. import checks
from .dataset import Dataset, settings

DIGITS_PATH = Path(__file__).resolve().parents[2] / "assets" / "digits.npz"
N_DIGITS, N_CLASSES = 1797, 10
TARGET_OFFSET = 0.1  # one-hot minus 0.1: rows sum to zero, as in neural-tangents' examples


def load_digits_arrays(path: str | Path = DIGITS_PATH) -> tuple[np.ndarray, np.ndarray]:
    """The raw ``(images, labels)``, uint8 ``(1797, 8, 8)`` and ``(1797,)``."""
    with np.load(path, allow_pickle=False) as data:
        return data["images"], data["labels"]


def split_indices(labels: np.ndarray, n_train: int, n_test: int, stratified: bool,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint random index sets of the given sizes.

    Stratified: every class takes its share of the train set in turn (ranked by each
    point's position within its class after a shuffle), so each class count in the
    train set is within about one of its proportional share.
    """
    order = rng.permutation(len(labels))
    if stratified:
        ranks = np.empty(len(order))
        for c in np.unique(labels):
            members = np.flatnonzero(labels[order] == c)
            ranks[members] = (np.arange(len(members)) + rng.uniform()) / len(members)
        order = order[np.argsort(ranks, kind="stable")]
    return order[:n_train], order[n_train:n_train + n_test]


def digits(n_train: int = 500, n_test: int = 500, seed: int = 0, stratified: bool = True,
           centre_targets: bool = True, flatten: bool = False,
           path: str | Path = DIGITS_PATH) -> Dataset:
    """A seeded train/test split of the digits.

    Inputs are pixels / 16 minus the per-pixel mean of the train set, NHWC
    ``(n, 8, 8, 1)`` (``flatten``: ``(n, 64)``). Targets are one-hot, minus 0.1 when
    ``centre_targets``; ``labels_*`` hold the digit for accuracy.
    """
    fn = "digits"
    n_train = checks.count(fn, "n_train", n_train, maximum=N_DIGITS - 1)
    n_test = checks.count(fn, "n_test", n_test, maximum=N_DIGITS)
    if n_train + n_test > N_DIGITS:
        raise checks.fail(fn, "n_test", checks.quote(n_test), f"<= {N_DIGITS - n_train} so that n_train + "
                          f"n_test <= {N_DIGITS}, the number of images")
    images, labels = load_digits_arrays(path)
    seed = checks.seed(fn, seed)
    train, test = split_indices(labels, n_train, n_test, bool(stratified),
                                np.random.default_rng(seed))
    x = images.astype(np.float64)[..., None] / 16.0
    x = x - x[train].mean(axis=0)
    if flatten:
        x = x.reshape(len(x), -1)
    y = np.eye(N_CLASSES)[labels] - (TARGET_OFFSET if centre_targets else 0.0)
    return Dataset(name="digits", x_train=x[train], y_train=y[train], x_test=x[test],
                   y_test=y[test], labels_train=labels[train], labels_test=labels[test],
                   params=settings(n_train=n_train, n_test=n_test, seed=seed,
                                   stratified=bool(stratified),
                                   centre_targets=bool(centre_targets), flatten=bool(flatten)))
