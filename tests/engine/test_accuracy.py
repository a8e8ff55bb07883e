"""Accuracy curves of infinite ensembles on the shipped digits."""
import numpy as np
import pytest

import engine
from engine.closed_form.accuracy import accuracy_curves
from engine.data import digits

FC = [["Flatten", {}], ["Dense", {"out_dim": 512, "W_std": 1.4, "b_std": 0.1}], ["Relu", {}],
      ["Dense", {"out_dim": 10, "W_std": 1.4, "b_std": 0.1}]]


@pytest.fixture(scope="module")
def data():
    return digits(n_train=128, n_test=100, seed=0)


def test_accuracy_grows_with_time_and_data(data):
    curves = accuracy_curves(engine.build(FC).kernel_fn, data.x_train, data.y_train, data.x_test,
                             data.labels_test, [16, 128], [0, 100, np.inf])
    assert curves.accuracy.shape == (2, 3)
    assert curves.accuracy[0, 0] < 0.2            # untrained: chance level
    assert curves.accuracy[1, 2] > 0.85           # 128 digits, end of training
    assert curves.accuracy[1, 2] > curves.accuracy[0, 2]
    assert curves.accuracy[1, 2] >= curves.accuracy[1, 1]


def test_accuracy_rejects_bad_sizes_and_times(data):
    kernel_fn = engine.build(FC).kernel_fn
    args = (kernel_fn, data.x_train, data.y_train, data.x_test, data.labels_test)
    with pytest.raises(ValueError, match=r"accuracy_curves\(train_sizes=\[0, 500\]\): expected "
                                         r"integers from 1 to the number of training points \(128\)"):
        accuracy_curves(*args, [0, 500], [1.0])
    with pytest.raises(ValueError, match=r"accuracy_curves\(t=\[-1.0\]\): expected a 1-D list"):
        accuracy_curves(*args, [16], [-1.0])
