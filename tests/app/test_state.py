"""app/state/session.py: settings in, engine results out; what is recomputed and what is not."""
import numpy as np
import pytest

import engine
from app.jobs import results
from app.state.limits import Limits
from app.state.presets import PRESETS
from app.state.session import Session, safe_learning_rate


@pytest.fixture
def session():
    session = Session(Limits())
    session.wait()
    return session


def settle(session, **changes):
    """Apply ``changes`` ({"owner.name": value}) and wait for the closed form of the result."""
    for path, value in changes.items():
        owner, name = path.split(".")
        setattr(getattr(session, owner), name, value)
    session.wait()


def _engine_predictor(session, mode="ntk", learning_rate=None, diag_reg=1e-4):
    data = engine.make_dataset("sin", n_train=10, n_test=200, noise=0.1, seed=0)
    net = engine.build(session.architecture.spec)
    k_dd = net.kernel_fn(data.x_train, None)
    k_td = net.kernel_fn(data.x_test, data.x_train)
    k_tt = net.kernel_fn(data.x_test, None, get=("nngp",))
    lr = learning_rate or safe_learning_rate(engine.max_learning_rate(k_dd.ntk, data.y_train.size))
    return engine.ensemble_predictor(k_dd, data.y_train, k_td, k_tt, data.y_test, get=mode,
                                     learning_rate=lr, diag_reg=diag_reg), k_dd


def test_default_is_the_cookbook_setup(session):
    spec = session.architecture.spec
    assert [n for n, _ in spec] == ["Dense", "Erf", "Dense", "Erf", "Dense"]
    assert spec[0][1]["W_std"] == 1.5 and spec[0][1]["b_std"] == 0.05
    assert session.data.dataset == "sin" and session.closed_form is not None
    assert not session.stack_error and not session.data_error


def test_learning_rate_defaults_to_half_the_stable_maximum(session):
    _, k_dd = _engine_predictor(session)
    maximum = engine.max_learning_rate(k_dd.ntk, 10)
    assert session.closed_form.max_learning_rate == pytest.approx(maximum)
    assert session.training.learning_rate is None  # the policy, not a number carried along
    assert session.closed_form.learning_rate == safe_learning_rate(maximum) < maximum


def test_closed_form_matches_the_engine_at_every_time(session):
    predictor, _ = _engine_predictor(session)
    for t in (0, 10, 1000, 100000):
        settle(session, **{"training.t": t})
        curves = session.closed_form.at(t)
        np.testing.assert_allclose(curves.mean, predictor.test.mean(float(t)), rtol=1e-10)
        np.testing.assert_allclose(curves.std ** 2, predictor.test.variance(float(t)),
                                   rtol=1e-8, atol=1e-14)


def test_moving_t_computes_no_kernel_and_no_predictor(session):
    kernels, predictors = results.KERNELS.misses, results.PREDICTORS.misses
    result = session.closed_form
    for t in (0, 1, 100, 100000):
        session.training.t = t
        result.at(t)
    assert (results.KERNELS.misses, results.PREDICTORS.misses) == (kernels, predictors)
    assert session.closed_form is result


def test_width_sets_hidden_layers_and_keeps_the_closed_form(session):
    kernels, result, redraws = results.KERNELS.misses, session.closed_form, []
    session.param.watch(redraws.append, "closed_form")
    settle(session, **{"architecture.width": 1024})
    widths = [k["out_dim"] for n, k in session.architecture.spec if n == "Dense"]
    assert widths == [1024, 1024, 1]
    assert results.KERNELS.misses == kernels
    assert session.closed_form is result and redraws == []  # no view redraws for a width move
    settle(session, **{"training.diag_reg": 1e-3})  # a new closed form
    assert session.closed_form is not result and len(redraws) == 1


def test_diag_reg_and_learning_rate_reuse_the_kernels(session):
    kernels = results.KERNELS.misses
    settle(session, **{"training.diag_reg": 1e-2, "training.learning_rate": 0.01})
    assert results.KERNELS.misses == kernels
    predictor, _ = _engine_predictor(session, learning_rate=0.01, diag_reg=1e-2)
    np.testing.assert_allclose(session.closed_form.at(100).mean, predictor.test.mean(100.0),
                               rtol=1e-10)


def test_a_learning_rate_above_the_maximum_is_kept_and_diverges(session):
    """B5: the user may watch divergence; the warning goes with the setting."""
    maximum = session.closed_form.max_learning_rate
    settle(session, **{"training.learning_rate": 2 * maximum})
    result = session.closed_form
    assert result.learning_rate == 2 * maximum and result.diverges
    assert session.notice == ""
    early, late = result.predictor.train.mean(1.0), result.losses.train.mean
    assert np.all(np.isfinite(early))
    finite = late[np.isfinite(late)]
    assert finite[-1] > 1e3 * finite[0]  # the loss climbs: gradient descent diverges
    settle(session, **{"training.learning_rate": None})
    assert not session.closed_form.diverges
    assert session.closed_form.learning_rate == safe_learning_rate(maximum)


def test_posterior_mode_is_the_nngp_at_infinite_time(session):
    settle(session, **{"training.mode": "posterior"})
    predictor, _ = _engine_predictor(session, mode="nngp",
                                     learning_rate=session.closed_form.learning_rate)
    np.testing.assert_allclose(session.closed_form.at(0).mean, predictor.test.mean(None),
                               rtol=1e-10)
    np.testing.assert_allclose(session.closed_form.at(10).mean, session.closed_form.at(0).mean)


def test_an_invalid_stack_keeps_the_last_result_and_names_the_layer(session):
    result = session.closed_form
    items = session.architecture.items
    items[2] = ["Dense", {"out_dim": 0, "W_std": 1.5, "b_std": 0.05}]
    session.architecture.edit(items)
    session.wait()
    assert session.stack_error == ("layer 2 (Dense): Dense(out_dim=0): out_dim must be a "
                                   "positive integer")
    assert session.error_path == (2,)
    assert session.closed_form is result
    session.architecture.edit(session.architecture.items[:2] + [["Dense", {"out_dim": 1}]])
    session.wait()
    assert session.stack_error == "" and session.error_path is None


def test_a_stack_without_a_readout_names_the_last_layer(session):
    session.architecture.edit(session.architecture.items[:2])
    session.wait()
    assert session.stack_error == (
        "layer 1 (Erf): the network outputs shape ('N', 128) but the data has 1 target(s) per "
        "input; end with a Dense(out_dim=1) readout")
    assert session.error_path == (1,)


def test_a_spec_that_is_not_a_list_of_layers_is_refused(session):
    settle(session, **{"architecture.spec": [1, 2]})
    assert session.stack_error == ("spec: expected a non-empty list of [name, {arguments}] "
                                   "layers; got [1, 2]")


def test_an_impossible_dataset_request_shows_the_engine_message(session):
    result = session.closed_form
    session.data.param.update(dataset="digits", n_train=1000, n_test=1000)
    session.wait()
    assert session.data_error == ("digits(n_test=1000): n_test must be <= 797 so that n_train + "
                                  "n_test <= 1797, the number of images")
    assert session.closed_form is result


def test_load_preset_applies_its_data_settings_in_one_update(session):
    kernels = results.KERNELS.misses
    session.load_preset("4-layer ReLU net on the unit circle (Jacot et al.)")
    session.wait()
    assert session.data.dataset == "unit_circle" and session.data.n_train == 4
    assert session.closed_form.data.name == "unit_circle"
    assert results.KERNELS.misses == kernels + 1
    widths = [k["out_dim"] for n, k in session.architecture.spec if n == "Dense"]
    assert widths == [session.architecture.width] * 3 + [1]


def test_every_regression_preset_gives_a_result(session):
    for name, preset in PRESETS.items():
        if preset.settings.get("dataset") == "digits":
            continue  # image kernels take seconds; covered by the browser tests' presets
        session.load_preset(name)
        session.wait()
        assert session.stack_error == "" and session.closed_form.data.name == preset.settings["dataset"]


def test_new_sample_draws_a_new_seed(session):
    first = session.closed_form.data.y_train.copy()
    session.data.regenerate(session.data)
    session.wait()
    assert session.data.seed == 1
    assert not np.allclose(session.closed_form.data.y_train, first)
