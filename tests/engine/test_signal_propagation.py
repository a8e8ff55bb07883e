"""Signal propagation: fixed points, chi_1, depth scales and the phase diagram, checked against
closed forms (ReLU), against their own definitions (slopes of the maps) and against finite
deep networks (Monte Carlo correlations over depth)."""
import math

import numpy as np
import pytest

from engine import stax
from engine.theory import signal_propagation as sp

B_STD = math.sqrt(0.05)  # sigma_b^2 = 0.05, Schoenholz et al. 2017, Fig. 1


@pytest.mark.parametrize("w_std", [0.8, 1.3, 1.7])
def test_relu_chi_1_is_half_w_std_squared(w_std):
    p = sp.propagation(stax.Relu(), w_std, 0.3)
    assert math.isclose(p.chi_1, w_std ** 2 / 2, rel_tol=1e-12)
    if w_std ** 2 < 2:  # q* = b^2 / (1 - W^2 / 2)
        assert math.isclose(p.q_star, 0.09 / (1 - w_std ** 2 / 2), rel_tol=1e-10)
    else:
        assert p.q_star == math.inf and p.xi_q == math.inf


def test_relu_critical_line_is_w_std_squared_two():
    assert math.isclose(sp.critical_w_std(stax.Relu(), 0.3) ** 2, 2.0, rel_tol=1e-9)


@pytest.mark.parametrize("w_std", [1.0, 2.0])
def test_chi_1_is_the_slope_of_the_correlation_map_at_one(w_std):
    act = stax.Erf()
    p = sp.propagation(act, w_std, B_STD)
    h = 1e-6
    slope = (sp.correlation_map(act.layer, 1.0, p.q_star, w_std, B_STD)
             - sp.correlation_map(act.layer, 1.0 - h, p.q_star, w_std, B_STD)) / h
    assert math.isclose(float(slope), p.chi_1, rel_tol=1e-4)


def test_xi_c_is_the_rate_of_approach_to_c_star():
    act, w_std = stax.Erf(), 2.0  # chaotic: c* < 1, chi_c < 1
    p = sp.propagation(act, w_std, B_STD)
    assert p.c_star < 0.5 and p.chi_1 > 1 > p.chi_c
    c, gaps = 0.9, []
    for _ in range(30):
        c = float(sp.correlation_map(act.layer, c, p.q_star, w_std, B_STD))
        gaps.append(c - p.c_star)
    rate = gaps[-1] / gaps[-2]
    assert math.isclose(rate, p.chi_c, rel_tol=1e-3)
    assert math.isclose(-1 / math.log(rate), p.xi_c, rel_tol=1e-2)


def test_erf_phase_diagram_changes_phase_on_the_critical_line():
    act = stax.Erf()
    critical = sp.critical_w_std(act, B_STD)
    p = sp.propagation(act, critical, B_STD)
    assert math.isclose(p.chi_1, 1.0, abs_tol=1e-9)
    assert p.xi_c > 300 > 10 * sp.propagation(act, 0.8 * critical, B_STD).xi_c  # diverges
    w = np.linspace(0.5, 2.5, 9)
    diagram = sp.phase_diagram(act, w, [0.0, B_STD, 0.5])
    assert diagram.chi_1.shape == (3, 9)
    np.testing.assert_array_equal(diagram.chi_1[1] > 1, w > critical)
    assert np.all(np.diff(diagram.chi_1, axis=1) > 0)  # chi_1 grows with W_std
    assert np.all(np.diff(diagram.chi_1, axis=0) < 0)  # and falls with b_std


@pytest.mark.slow
def test_tanh_critical_line_at_sigma_b_squared_0_05():
    """Schoenholz et al. 2017, Fig. 1: the tanh critical line near sigma_w^2 = 1.76 there."""
    w2 = sp.critical_w_std(stax.Tanh(), B_STD, steps=30) ** 2
    assert 1.7 < w2 < 1.82


def finite_correlations(w_std, b_std, x, depth, width, seeds):
    """Pre-activation correlations of a finite tanh network, averaged over seeds."""
    rng = np.random.default_rng(0)
    total = np.zeros(depth)
    for _ in range(seeds):
        h = x
        for layer in range(depth):
            w = rng.standard_normal((h.shape[1], width))
            z = w_std / math.sqrt(h.shape[1]) * h @ w + b_std * rng.standard_normal(width)
            total[layer] += z[0] @ z[1] / math.sqrt((z[0] @ z[0]) * (z[1] @ z[1]))
            h = np.tanh(z)
    return total / seeds


@pytest.mark.slow
@pytest.mark.parametrize("w_std", [1.0, 2.0])  # ordered (c -> 1) and chaotic (c -> c*)
def test_correlations_over_depth_match_finite_networks(w_std):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 40))
    x[1] = 0.6 * x[0] + 0.8 * x[1]
    moments = x @ x.T / x.shape[1]
    theory = sp.correlations_over_depth(stax.Tanh(), w_std, B_STD, moments[0, 0],
                                        moments[0, 1], moments[1, 1], 12)
    finite = finite_correlations(w_std, B_STD, x, 12, width=1000, seeds=6)
    assert np.max(np.abs(theory - finite)) < 0.04, (theory, finite)
    assert abs(theory[-1] - theory[0]) > 0.1  # the correlation did move with depth


def test_kernel_correlations_over_depth_equal_the_networks_kernels():
    """Entry L - 1 is the kernel of L - 1 hidden [Dense, Erf] blocks and a Dense readout."""
    import engine
    x = np.array([[1.0, 0.0], [0.3, 1.05]])
    moments = x @ x.T / 2
    theory = sp.kernel_correlations_over_depth(stax.Erf(), 1.5, B_STD, moments[0, 0],
                                               moments[0, 1], moments[1, 1], 3)
    spec = [["Dense", {"out_dim": 4, "W_std": 1.5, "b_std": B_STD}], ["Erf", {}]] * 2
    kernels = engine.build(spec + [["Dense", {"out_dim": 1, "W_std": 1.5, "b_std": B_STD}]]
                           ).kernel_fn(x, None, ("nngp", "ntk"))
    for name, k in zip(("nngp", "ntk"), kernels):
        k = np.asarray(k)
        assert math.isclose(getattr(theory, name)[2], k[0, 1] / math.sqrt(k[0, 0] * k[1, 1]),
                            rel_tol=1e-10)
    assert theory.nngp[0] == theory.ntk[0]  # after one Dense both are x . x' scaled alike


def test_correlation_map_over_depth_iterates_the_map():
    act = stax.Erf()
    rows = sp.correlation_map_over_depth(act, 2.0, B_STD, [0.2, 0.9], 4)
    q = sp.propagation(act, 2.0, B_STD).q_star
    c = 0.9
    for layer in range(4):
        c = float(sp.correlation_map(act.layer, c, q, 2.0, B_STD))
        assert math.isclose(rows[1, layer], c, rel_tol=1e-12)
    with pytest.raises(ValueError, match=r"correlation_map_over_depth\(w_std=2.0, b_std=0.1\): "
                                         r"the lengths grow without bound"):
        sp.correlation_map_over_depth(stax.Relu(), 2.0, 0.1, [0.5], 3)


def test_critical_line_of_the_diagram_meets_the_bisection():
    act = stax.Erf()
    w = np.linspace(0.5, 2.5, 9)  # the grid of the phase-diagram test (one compile)
    diagram = sp.phase_diagram(act, w, [0.0, B_STD, 0.5])
    np.testing.assert_allclose(sp.chi_1_diagram(act, w, [0.0, B_STD, 0.5]), diagram.chi_1,
                               rtol=1e-12)
    line = sp.critical_line(diagram)
    assert abs(line[1] - sp.critical_w_std(act, B_STD)) < 0.02  # grid step 0.25, log-linear
    assert np.all(np.diff(line) > 0)  # more bias, more weight needed for chaos
    short = sp.critical_line(sp.phase_diagram(act, w[:3], [0.0, B_STD, 0.5]))
    assert np.isnan(short[1:]).all()  # W_std <= 1 stays ordered at these biases


def test_repeated_block_of_a_spec():
    spec = [["Dense", {"out_dim": 8, "W_std": 1.2, "b_std": None}], ["LeakyRelu", {"alpha": 0.1}],
            ["Dense", {"out_dim": 1}]]
    block = sp.repeated_block(spec)
    assert block == sp.Block(("LeakyRelu", (("alpha", 0.1),)), 1.2, 0.0)
    assert block.layer().name == "LeakyRelu"
    with pytest.raises(ValueError, match=r"repeated_block\(spec\): expected a Dense layer "
                                         r"followed by an activation .* got the layers "
                                         r"\['Dense', 'LayerNorm', 'Dense'\]"):
        sp.repeated_block([spec[0], ["LayerNorm", {}], spec[2]])
