"""Make nt_aggregate_resize_reference.json: neural-tangents 0.6.5's numbers for the Aggregate
and ImageResize cases of test_aggregate_resize.py.

Run once by hand in the peer venv (/work/shared/peers/neural_tangents), not by pytest:

    /root/.cache/nt-peer-venv/bin/python tests/engine/make_nt_aggregate_resize_reference.py

The networks are built by the functions below from a ``stax`` module (neural-tangents' here,
engine.stax in the tests), so both sides run the same code. Inputs and graphs are drawn here
with NumPy and stored in the JSON next to the kernels (float64) and apply_fn outputs.
"""
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "nt_aggregate_resize_reference.json")


def _dense(stax, n, w=1.5, b=0.1):
    return stax.Dense(n, w, b)


def graph_net(stax, **aggregate):
    """Two rounds of Dense, Relu, Aggregate (message passing), then a GlobalAvgPool readout."""
    return stax.serial(_dense(stax, 8), stax.Relu(), stax.Aggregate(**aggregate),
                       _dense(stax, 8, 1.2, 0.2), stax.Relu(), stax.Aggregate(**aggregate),
                       stax.GlobalAvgPool(), _dense(stax, 1))


def node_net(stax, **aggregate):
    """Dense, Relu, Aggregate: the kernel of every pair of vertices is compared."""
    return stax.serial(_dense(stax, 8), stax.Relu(), stax.Aggregate(**aggregate))


def combinator_net(stax):
    """Aggregate inside repeat and in one branch of parallel (the pattern reaches both)."""
    block = stax.serial(stax.Relu(), stax.Aggregate(), _dense(stax, 8, 1.2, 0.2))
    return stax.serial(_dense(stax, 8), stax.repeat(block, 2), stax.FanOut(2),
                       stax.parallel(stax.serial(stax.Aggregate(), _dense(stax, 8, 1.2, 0.2)),
                                     _dense(stax, 8, 1.0, 0.3)),
                       stax.FanInSum(), stax.Relu(), stax.GlobalAvgPool(), _dense(stax, 1))


def resize_net(stax, shape, method, **options):
    """Dense, Relu, ImageResize: the kernel of every pair of positions is compared.

    No Conv before ImageResize: neural-tangents' Conv leaves its kernel with the spatial
    axes in reverse order (Kernel.is_reversed), which its ImageResize does not undo, so there
    it resizes H to shape[2] and W to shape[1] (see conv_resize_net).
    """
    return stax.serial(_dense(stax, 8), stax.Relu(), stax.ImageResize(shape, method, **options))


def conv_resize_net(stax, shape):
    """Conv, ImageResize (linear). neural-tangents returns a kernel of shape (N1, N2, 6, 6, 5,
    5) for shape (-1, 6, 5, -1) that holds the (5, 6)-resized kernel with H and W swapped."""
    return stax.serial(stax.Conv(8, (2, 2), padding="SAME", W_std=1.5, b_std=0.1),
                       stax.ImageResize(shape, "linear"))


#: conv_resize_net's shape given to neural-tangents
CONV_RESIZE_SHAPE = (-1, 6, 5, -1)


SPARSE = {"implementation": "SPARSE"}

#: name -> (network builder, Aggregate's arguments, input kind, pattern kind). An unsorted
#: aggregate_axis such as (2, 1) is left out: neural-tangents reads the pattern's axes in
#: sorted order (in apply_fn and kernel_fn alike), ours in the given order (README, Porting).
GRAPH_CASES = {
    "graph_dense": (graph_net, {}, "nodes", "adjacency"),
    "graph_dense_weighted": (graph_net, {}, "nodes", "weighted"),
    "graph_sparse": (graph_net, SPARSE, "nodes", "edges"),
    "graph_combinators": (lambda stax: combinator_net(stax), {}, "nodes", "weighted"),
    "grid_dense_both_axes": (node_net, {"aggregate_axis": (1, 2)}, "grid", "adjacency"),
    "grid_dense_axis_2": (node_net, {"aggregate_axis": 2}, "grid_w", "adjacency"),
    "grid_sparse_both_axes": (node_net, {"aggregate_axis": (1, 2)} | SPARSE, "grid", "edges"),
}

#: name -> (network builder taking stax, input kind)
RESIZE_CASES = {
    "resize_linear_up": (lambda stax: resize_net(stax, (-1, 6, 5, -1), "linear"), "images"),
    "resize_linear_down": (lambda stax: resize_net(stax, (-1, 3, 2, -1), "linear"), "images"),
    "resize_linear_down_no_antialias": (
        lambda stax: resize_net(stax, (-1, 3, 2, -1), "linear", antialias=False), "images"),
    "resize_nearest_up": (lambda stax: resize_net(stax, (-1, 5, 6, -1), "nearest"), "images"),
    "resize_nearest_down": (lambda stax: resize_net(stax, (-1, 2, 3, -1), "nearest"), "images"),
}

#: apply_fn of ImageResize alone: name -> (shape, method)
RESIZE_APPLY = {
    "linear_up": ((-1, 6, 5, -1), "linear"), "linear_down": ((-1, 3, 2, -1), "linear"),
    "nearest_up": ((-1, 7, 6, -1), "nearest"), "nearest_down": ((-1, 2, 3, -1), "nearest"),
    "cubic_up": ((-1, 6, 5, -1), "cubic"), "lanczos3_down": ((-1, 3, 2, -1), "lanczos3"),
    "lanczos5_up": ((-1, 7, 6, -1), "lanczos5"), "channels": ((-1, -1, -1, 5), "linear"),
}

#: input shapes (batch excluded) per kind; the grid's vertex axes are 1 and 2
SHAPES = {"nodes": (4, 5), "grid": (3, 2, 3), "grid_w": (3, 2, 3), "images": (4, 4, 2)}


def vertex_sizes(kind):
    """Sizes of the aggregated axes, in the order of the pattern's axes."""
    return {"nodes": (4,), "grid": (3, 2), "grid_w": (2,)}[kind]


def draw_inputs(rng, kind):
    """3 and 2 inputs; 2 and 1 images (the resized kernels have up to 36 x 25 entries)."""
    n1, n2 = (2, 1) if kind == "images" else (3, 2)
    shape = SHAPES[kind]
    return rng.standard_normal((n1,) + shape), rng.standard_normal((n2,) + shape)


def draw_pattern(rng, n, sizes, pattern_kind):
    """A graph per input: 0/1 adjacency with self-loops, weighted adjacency, or edge lists."""
    v = int(np.prod(sizes))
    if pattern_kind == "edges":
        edges = rng.integers(0, v, size=(n, 7, 2))
        edges[:, 5] = edges[:, 4]  # a repeated edge counts twice
        edges[:, 6] = -1  # padding: dropped
        coords = np.stack(np.unravel_index(np.maximum(edges, 0), sizes), axis=2)  # (n, E, K, 2)
        coords[:, 6] = -1
        return coords[:, :, 0, :] if len(sizes) == 1 else coords
    adjacency = (rng.random((n, v, v)) < 0.4) | np.eye(v, dtype=bool)
    weights = rng.uniform(0.2, 1.0, (n, v, v)) if pattern_kind == "weighted" else 1.0
    return (adjacency * weights).reshape((n,) + sizes + sizes)


def data():
    """Inputs and graphs of every case, drawn in a fixed order from one seed."""
    rng = np.random.default_rng(2019)
    out = {}
    for name, (_, _, kind, pattern_kind) in GRAPH_CASES.items():
        x1, x2 = draw_inputs(rng, kind)
        sizes = vertex_sizes(kind)
        out[name] = dict(x1=x1, x2=x2, p1=draw_pattern(rng, 3, sizes, pattern_kind),
                         p2=draw_pattern(rng, 2, sizes, pattern_kind))
    for name, (_, kind) in RESIZE_CASES.items():
        x1, x2 = draw_inputs(rng, kind)
        out[name] = dict(x1=x1, x2=x2)
    x1, x2 = draw_inputs(rng, "images")
    out["conv_resize"] = dict(x1=x1, x2=x2)
    out["apply_images"] = dict(x=rng.standard_normal((2, 4, 4, 3)))
    return out


def main():
    import jax
    jax.config.update("jax_enable_x64", True)
    import neural_tangents
    from neural_tangents import stax

    inputs = data()
    reference = {"_about": f"neural-tangents {neural_tangents.__version__}, jax "
                           f"{jax.__version__}, float64; made by "
                           "tests/engine/make_nt_aggregate_resize_reference.py"}
    for name, (make, options, _, _) in GRAPH_CASES.items():
        d = inputs[name]
        kernel_fn = make(stax, **options)[2]
        k = kernel_fn(d["x1"], d["x2"], ("nngp", "ntk"), pattern=(d["p1"], d["p2"]))
        _, aggregate_apply, _ = stax.Aggregate(**options)
        reference[name] = {key: np.asarray(v).tolist() for key, v in d.items()} | {
            "nngp": np.asarray(k.nngp).tolist(), "ntk": np.asarray(k.ntk).tolist(),
            "apply": np.asarray(aggregate_apply((), d["x1"], pattern=d["p1"])).tolist()}
        if name == "graph_dense":
            k = kernel_fn(d["x1"], None, ("nngp", "ntk"), pattern=(d["p1"], d["p1"]))
            reference[name] |= {"nngp_self": np.asarray(k.nngp).tolist(),
                                "ntk_self": np.asarray(k.ntk).tolist()}
    for name, (make, _) in RESIZE_CASES.items():
        d = inputs[name]
        k = make(stax)[2](d["x1"], d["x2"], ("nngp", "ntk"))
        reference[name] = {"x1": d["x1"].tolist(), "x2": d["x2"].tolist(),
                           "nngp": np.asarray(k.nngp).tolist(),
                           "ntk": np.asarray(k.ntk).tolist()}
    d = inputs["conv_resize"]
    k = conv_resize_net(stax, CONV_RESIZE_SHAPE)[2](d["x1"], d["x2"], ("nngp", "ntk"))
    reference["conv_resize"] = {"x1": d["x1"].tolist(), "x2": d["x2"].tolist(),
                                "nngp": np.asarray(k.nngp).tolist(),
                                "ntk": np.asarray(k.ntk).tolist()}
    x = inputs["apply_images"]["x"]
    reference["apply_images"] = {"x": x.tolist()}
    for name, (shape, method) in RESIZE_APPLY.items():
        y = stax.ImageResize(shape, method)[1]((), x)
        reference["apply_images"][name] = np.asarray(y).tolist()
    with open(OUT, "w") as f:
        json.dump(reference, f)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
