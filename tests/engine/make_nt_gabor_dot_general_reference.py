"""Make nt_gabor_dot_general_reference.json: neural-tangents 0.6.5's kernels for the Gabor and
DotGeneral cases of test_gabor.py and test_dot_general.py.

Run once by hand in the peer venv (/work/shared/peers/neural_tangents), not by pytest:

    /root/.cache/nt-peer-venv/bin/python tests/engine/make_nt_gabor_dot_general_reference.py

The networks are built by ``network(stax, name)`` from a ``stax`` module (neural-tangents'
here, engine.stax in the tests), so both sides run the same code. Inputs are drawn here with
NumPy and stored in the JSON next to the kernels (float64). Image cases put a Dense, not a
Conv, before DotGeneral: neural-tangents' Conv leaves its kernel with the spatial axes in
reverse order (Kernel.is_reversed).
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "nt_gabor_dot_general_reference.json")
VECTOR = [1.0, -1.0, 0.5, 0.0, 2.0]
MATRIX = [[0.5, -1.0, 0.2], [1.0, 0.3, -0.7], [0.0, 2.0, 1.0], [-0.4, 0.1, 0.9]]


def network(stax, name):
    """The layers of case ``name`` (inputs: ``INPUTS[name]``)."""
    conv = stax.Conv(8, (2,), padding="SAME", W_std=1.5, b_std=0.1)
    dense = stax.Dense(8, 1.5, 0.1)
    readout = stax.Dense(1, 1.2, 0.2)
    if name == "gabor_dense":
        return stax.serial(dense, stax.Gabor(), stax.Dense(8, 2.0, 0.3), stax.Gabor(), readout)
    if name == "gabor_conv":
        return stax.serial(conv, stax.Gabor(), stax.Flatten(), readout)
    if name == "dot_scalar":
        return stax.serial(conv, stax.Relu(), stax.DotGeneral(rhs=2.0), stax.GlobalAvgPool(),
                           readout)
    if name == "dot_rhs_vector":
        return stax.serial(conv, stax.Relu(), stax.DotGeneral(
            rhs=np.array(VECTOR), dimension_numbers=(((1,), (0,)), ((), ()))), readout)
    if name == "dot_lhs_vector":
        return stax.serial(conv, stax.Relu(), stax.DotGeneral(
            lhs=np.array(VECTOR), dimension_numbers=(((0,), (1,)), ((), ()))), readout)
    if name == "dot_images_matrix":  # x axis 2 with rhs axis 0, x axis 1 with rhs axis 1
        return stax.serial(dense, stax.Relu(), stax.DotGeneral(
            rhs=np.array(MATRIX), dimension_numbers=(((2, 1), (0, 1)), ((), ()))), readout)
    if name == "dot_images_one_axis":  # the kernel of every pair of kept positions
        return stax.serial(dense, stax.Relu(), stax.DotGeneral(
            lhs=np.array(MATRIX[0]), dimension_numbers=(((0,), (1,)), ((), ()))))
    raise KeyError(name)


#: case -> input shape after the batch axis
INPUTS = {"gabor_dense": (4,), "gabor_conv": (5, 2), "dot_scalar": (5, 2),
          "dot_rhs_vector": (5, 2), "dot_lhs_vector": (5, 2), "dot_images_matrix": (3, 4, 2),
          "dot_images_one_axis": (3, 4, 2)}


def main():
    import jax

    jax.config.update("jax_enable_x64", True)
    from neural_tangents import stax

    rng = np.random.default_rng(0)
    out = {}
    for name, shape in INPUTS.items():
        x1, x2 = rng.standard_normal((4,) + shape), rng.standard_normal((3,) + shape)
        kernel_fn = network(stax, name)[2]
        k12, k11 = kernel_fn(x1, x2, ("nngp", "ntk")), kernel_fn(x1, None, ("nngp", "ntk"))
        out[name] = {"x1": x1.tolist(), "x2": x2.tolist(),
                     "nngp": np.asarray(k12.nngp).tolist(), "ntk": np.asarray(k12.ntk).tolist(),
                     "nngp_11": np.asarray(k11.nngp).tolist(),
                     "ntk_11": np.asarray(k11.ntk).tolist()}
    with open(OUT, "w") as f:
        json.dump(out, f)
    print(f"wrote {OUT}: {sorted(out)}")


if __name__ == "__main__":
    main()
