"""Write nt_gradient_reference.json: neural-tangents 0.6.5's derivatives of ``kernel_fn`` with
respect to its inputs, above all where an input of x2 equals one of x1 (a test point that is
also a training point; ``kernel_fn(x, x)``; the diagonal of ``kernel_fn(x, None)``), where the
correlation of the pair is 1 and an arc-cosine kernel is not differentiable in every direction.

neural-tangents' convention there: the square roots that vanish at correlation 1 (sqrt(q11 q22 -
q12^2) and the like) get slope 0, so the derivative is the one along the pair's own direction.
For the test in test_kernel_gradients.py (``network`` comes from make_nt_masking_reference).
Run by hand in the peer venv (see /work/shared/peers/neural_tangents/README.md), not by pytest:

    /root/.cache/nt-peer-venv/bin/python tests/engine/make_nt_gradient_reference.py

Per case, recorded in float64 (jax.jacrev, so each array has the kernel's shape followed by the
input's):

    layers, shape                       the case as given (input shape without the batch)
    x1                                  inputs (N1 = 3) from a fixed NumPy seed
    x2_shared                           2 inputs: x1's row 1, and one of its own (zero cases:
                                        x1[0] and x2_shared[1] are inputs of zeros)
    d_<get>_x2_equal                    d kernel_fn(x1, x2)[get] / d x2 at x2 = x1
    d_<get>_x2_shared                   the same at x2 = x2_shared
    d_<get>_x1_alone                    d kernel_fn(x1, None)[get] / d x1
    for get in ("nngp", "ntk"); a stage that raised has {"error": message} instead.
"""
import json
import os

import jax
import numpy as np

from make_nt_masking_reference import network, tolist

W, B = 1.3, 0.2
N1, N2 = 3, 2
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nt_gradient_reference.json")


def _dense(out_dim, b_std=B):
    return ["Dense", dict(out_dim=out_dim, W_std=W, b_std=b_std)]


def _mlp(activation, depth=1):
    return [*([_dense(4), activation] * depth), _dense(1)]


#: name -> (layers, input shape without the batch[, "zero": x1[0] and x2_shared[1] are 0])
CASES = {
    **{f"mlp_{a[0].lower()}{'_' + str(i) if i else ''}": (_mlp(a), (3,)) for i, a in [
        (0, ["Relu", {}]),
        (0, ["LeakyRelu", dict(alpha=0.1)]),
        (0, ["Abs", {}]),
        (0, ["ABRelu", dict(a=-0.3, b=0.7)]),
        (0, ["Erf", {}]),
        (1, ["Erf", dict(a=0.8, b=1.7, c=0.3)]),
        (0, ["Sigmoid_like", {}]),
        (0, ["Gelu", {}]),
        (0, ["Sin", dict(a=1.1, b=0.9, c=0.4)]),
        (0, ["Cos", {}]),
        (0, ["Exp", dict(a=0.7, b=0.5)]),
        (0, ["Gaussian", dict(a=1.0, b=-0.8)]),
        (0, ["Rbf", dict(gamma=0.6)]),
        (0, ["Sign", {}]),
        (0, ["Monomial", dict(degree=3)]),
        (0, ["RectifiedMonomial", dict(degree=1)]),
        (1, ["RectifiedMonomial", dict(degree=2)]),
        (0, ["Polynomial", dict(coef=[0.1, -0.5, 0.3])]),
        (0, ["Gabor", {}]),
        (0, ["ExpNormalized", dict(gamma=0.8, shift=-0.5)]),
    ]},
    # neural-tangents' Hermite kernel is exact for unit variances only (it warns so); ours for
    # any: LayerNorm makes them 1
    "mlp_layernorm_hermite": ([_dense(4), ["LayerNorm", {}], ["Hermite", dict(degree=2)],
                               _dense(1)], (3,)),
    "mlp_relu_deep": (_mlp(["Relu", {}], depth=3), (3,)),
    "mlp_erf_deep_no_bias": ([_dense(4, b_std=0.0), ["Erf", {}]] * 3 + [_dense(1)], (3,)),
    "mlp_layernorm_relu": ([_dense(4), ["LayerNorm", {}], ["Relu", {}], _dense(1)], (3,)),
    "mlp_fan_in_prod": ([_dense(4), ["FanOut", dict(num=2)],
                         ["parallel", [[["Relu", {}]], [["Erf", {}]]]], ["FanInProd", {}],
                         _dense(1)], (3,)),
    "attention_relu_pool": ([["Conv", dict(out_chan=3, filter_shape=[2], padding="SAME",
                                           W_std=W, b_std=B)], ["Relu", {}],
                             ["GlobalSelfAttention", dict(n_chan_out=3, n_chan_key=2,
                                                          n_chan_val=3, n_heads=1)],
                             ["GlobalAvgPool", {}], _dense(1)], (4, 2)),
    # an input of zeros and no bias: variance 0, where the correlation says nothing and
    # d K / d q12 = E[phi' phi'] (Price's theorem) carries the derivative; smooth activations
    "zero_input_smooth": ([_dense(4, b_std=0.0), ["FanOut", dict(num=5)],
                           ["parallel", [[a, _dense(1)] for a in (
                               ["Erf", {}], ["Exp", dict(a=0.7, b=0.5)], ["Sin", {}],
                               ["Gelu", {}], ["Gabor", {}])]],
                           ["FanInSum", {}]], (3,), "zero"),
    "cnn_relu_pool": ([["Conv", dict(out_chan=3, filter_shape=[2, 2], padding="SAME",
                                     W_std=W, b_std=B)], ["Relu", {}],
                       ["Conv", dict(out_chan=3, filter_shape=[2, 2], padding="SAME",
                                     W_std=W, b_std=B)], ["Erf", {}],
                       ["GlobalAvgPool", {}], _dense(1)], (3, 3, 2)),
    "cnn_gelu_flatten": ([["Conv", dict(out_chan=3, filter_shape=[2], padding="VALID",
                                        W_std=W, b_std=B)], ["Gelu", {}], ["Flatten", {}],
                          _dense(1)], (4, 2)),
}


def main():
    jax.config.update("jax_enable_x64", True)
    import neural_tangents.stax as stax
    rng = np.random.default_rng(7)
    out = {}
    for name, (layers, shape, *zero) in CASES.items():
        x1 = rng.normal(size=(N1, *shape))
        x2 = rng.normal(size=(N2, *shape))
        shared = x2.copy()
        shared[0] = x1[1]
        if zero:
            x1[0] = shared[1] = 0.0
        _, _, kernel_fn = network(stax, layers)
        case = dict(layers=layers, shape=list(shape), x1=tolist(x1), x2_shared=tolist(shared))
        for get in ("nngp", "ntk"):
            for stage, at in (("x2_equal", x1), ("x2_shared", shared), ("x1_alone", None)):
                if at is None:
                    fn = lambda y, g=get: kernel_fn(y, None, g)  # noqa: E731
                    at = x1
                else:
                    fn = lambda y, g=get: kernel_fn(x1, y, g)  # noqa: E731
                key = f"d_{get}_{stage}"
                try:
                    case[key] = tolist(np.asarray(jax.jacrev(fn)(at)))
                except Exception as e:  # noqa: BLE001 (recorded: where NT refuses)
                    case[key] = {"error": f"{type(e).__name__}: {e}"}
        out[name] = case
        print(name, flush=True)
    with open(OUT, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
