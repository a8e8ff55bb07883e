"""A width sweep computed in parts (one width each, as the dashboard's workers do) and joined
equals the sweep computed at once, number for number; the slopes are fitted over all widths."""
import numpy as np
import pytest

import engine
from engine.sweeps.angles import circle
from engine.sweeps.spectrum import loglog_slope

SPEC = [["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.1}], ["Erf", {}],
        ["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": 0.1}]]
X = circle(np.linspace(0.0, 2 * np.pi, 4, endpoint=False) + 0.3)
Y = np.sin(np.arange(4.0))[:, None]
WIDTHS = [8, 16]


def _same(whole, joined):
    assert type(joined) is type(whole)
    for name, value in vars(whole).items():
        got = getattr(joined, name)
        if isinstance(value, float) and np.isnan(value):
            assert np.isnan(got), name
        else:
            np.testing.assert_array_equal(got, value, err_msg=name)


@pytest.mark.parametrize("sweep", [
    lambda widths: engine.ntk_spectrum(SPEC, X, widths, [0, 3]),
    lambda widths: engine.ntk_change(SPEC, X, Y, widths, [1, 2], learning_rate=0.5, steps=3),
    lambda widths: engine.output_distribution(SPEC, X[:2], widths, samples=20, seed=4),
    lambda widths: engine.angle_kernels(SPEC, np.linspace(0, 3, 5), widths=widths, seeds=[0, 2],
                                        x_train=X, y_train=Y, learning_rate=0.5, steps=2),
], ids=["spectrum", "change", "distribution", "angles"])
def test_a_sweep_joined_from_one_width_per_part_equals_the_whole(sweep):
    whole = sweep(WIDTHS)
    parts = [sweep([w]) for w in WIDTHS]
    _same(whole, engine.join_widths(parts))
    # parts in another order: the widths in the parts' order
    assert engine.join_widths(parts[::-1]).widths.tolist() == WIDTHS[::-1]


def test_the_slope_is_fitted_over_the_joined_widths():
    parts = [engine.ntk_spectrum(SPEC, X, [w], [0, 1]) for w in WIDTHS]
    assert all(np.isnan(p.slope) for p in parts)  # one width: no slope
    joined = engine.join_widths(parts)
    assert np.isfinite(joined.slope)
    assert joined.slope == loglog_slope(joined.widths, joined.distance)


def test_parts_that_cannot_be_joined_are_refused():
    one = engine.ntk_spectrum(SPEC, X, [8], [0])
    with pytest.raises(ValueError, match=r"join_widths\(parts=\[\]\): expected a non-empty list"):
        engine.join_widths([])
    change = engine.ntk_change(SPEC, X, Y, [16], [0], learning_rate=0.5, steps=2)
    with pytest.raises(ValueError, match="expected results of one sweep type .*got NtkChange, "
                                         "NtkSpectrum"):
        engine.join_widths([one, change])
    with pytest.raises(ValueError, match="the parts differ in 'seeds'; only their widths may"):
        engine.join_widths([one, engine.ntk_spectrum(SPEC, X, [16], [1])])
    with pytest.raises(ValueError, match=r"width repeated across the parts \(\[8, 8\]\)"):
        engine.join_widths([one, one])
