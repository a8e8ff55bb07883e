"""Make nt_custom_layer_reference.json: neural-tangents 0.6.5's numbers for test_custom_layer.py.

Run once by hand in the peer venv (/work/shared/peers/neural_tangents), not by pytest:

    /root/.cache/nt-peer-venv/bin/python tests/engine/make_nt_custom_layer_reference.py

``user_layers(stax)`` writes four layers as a neural-tangents user does (``@stax.layer``,
``@stax.requires``, ``@stax.supports_masking``) against a ``stax`` module: neural-tangents'
here, engine.stax in the tests, so both sides run the same program. Recorded: the kernels of
a network mixing them with built-in layers (float64), and the algebra of ``stax.Diagonal``
(``>>``, ``&``, ``bool``) over every pair of its nine values.
"""
import itertools
import json
import os

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nt_custom_layer_reference.json")


def user_layers(stax):
    """(Scale, MeanOverPositions, Affine, Shift): layers written against ``stax``'s decorators.

    As neural-tangents needs: cov2 is None when x2 is (and ntk when only nngp is asked for).
    """
    import jax
    import jax.numpy as jnp

    @stax.layer
    @stax.supports_masking(remask_kernel=False)
    def Scale(c):
        """y = c x; the kernels scale by c^2 (per position: Diagonal() is enough)."""
        def init_fn(key, input_shape):
            return input_shape, ()

        def apply_fn(params, x, mask=None, **kwargs):
            return c * x

        @stax.requires(diagonal_spatial=stax.Diagonal())
        def kernel_fn(k, **kwargs):
            def scaled(m):
                return None if m is None else c ** 2 * m
            return k.replace(nngp=scaled(k.nngp), ntk=scaled(k.ntk), cov1=scaled(k.cov1),
                             cov2=scaled(k.cov2))
        return init_fn, apply_fn, kernel_fn

    @stax.layer
    def MeanOverPositions():
        """The mean over all positions: needs the covariances between them."""
        def init_fn(key, input_shape):
            return input_shape[:1] + input_shape[-1:], ()

        def apply_fn(params, x, **kwargs):
            return jnp.mean(x, axis=tuple(range(1, x.ndim - 1)))

        @stax.requires(diagonal_spatial=stax.Diagonal(input=stax.Bool.NO))
        def kernel_fn(k, **kwargs):
            def mean(m, lead):
                return None if m is None else jnp.mean(m, axis=tuple(range(lead, m.ndim)))
            # neural-tangents tracks the channel axis itself: (N, C) after the mean
            return k.replace(nngp=mean(k.nngp, 2), ntk=mean(k.ntk, 2), cov1=mean(k.cov1, 1),
                             cov2=mean(k.cov2, 1), channel_axis=1)
        return init_fn, apply_fn, kernel_fn

    @stax.layer
    def Affine(out, w_std, b_std):
        """A dense layer (NTK parameterization), its params a (W, b) pair."""
        def init_fn(key, input_shape):
            k1, k2 = jax.random.split(key)
            return (input_shape[:-1] + (out,),
                    (jax.random.normal(k1, (input_shape[-1], out)),
                     jax.random.normal(k2, (out,))))

        def apply_fn(params, x, **kwargs):
            w, b = params
            return w_std / np.sqrt(x.shape[-1]) * x @ w + b_std * b

        def kernel_fn(k, **kwargs):
            def affine(m):
                return None if m is None else w_std ** 2 * m + b_std ** 2
            return k.replace(nngp=affine(k.nngp), cov1=affine(k.cov1), cov2=affine(k.cov2),
                             ntk=affine(k.nngp) + w_std ** 2 * k.ntk, is_gaussian=True)
        return init_fn, apply_fn, kernel_fn

    @stax.layer
    def Shift(a, c):
        """Kernel only (no finite network): the Kernel's arithmetic, (k * a) + c."""
        def init_fn(key, input_shape):
            return input_shape, ()

        def apply_fn(params, x, **kwargs):
            raise NotImplementedError()

        def kernel_fn(k, **kwargs):
            return k * a + c
        return init_fn, apply_fn, kernel_fn

    return Scale, MeanOverPositions, Affine, Shift


def network(stax):
    """Conv, Relu, Scale, Shift, MeanOverPositions, Affine, Erf, Dense on signals (N, 5, 2)."""
    Scale, MeanOverPositions, Affine, Shift = user_layers(stax)
    return stax.serial(stax.Conv(8, (2,), padding="SAME", W_std=1.5, b_std=0.1), stax.Relu(),
                       Scale(1.7), Shift(0.8, 0.3), MeanOverPositions(), Affine(8, 1.3, 0.2),
                       stax.Erf(), stax.Dense(1, 1.1, 0.1))


def diagonals(stax):
    """The nine values of stax.Diagonal, in a fixed order."""
    return [stax.Diagonal(input=a, output=b) for a, b in itertools.product(stax.Bool, repeat=2)]


def pair(d):
    return [int(d.input), int(d.output)]


def main():
    import jax

    jax.config.update("jax_enable_x64", True)
    from neural_tangents import stax

    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((4, 5, 2)), rng.standard_normal((3, 5, 2))
    kernel_fn = network(stax)[2]
    k12, k11 = kernel_fn(x1, x2, ("nngp", "ntk")), kernel_fn(x1, None, ("nngp", "ntk"))
    values = diagonals(stax)
    out = {"x1": x1.tolist(), "x2": x2.tolist(), "nngp": np.asarray(k12.nngp).tolist(),
           "ntk": np.asarray(k12.ntk).tolist(), "nngp_11": np.asarray(k11.nngp).tolist(),
           "ntk_11": np.asarray(k11.ntk).tolist(),
           "diagonal_then": [[pair(a >> b) for b in values] for a in values],
           "diagonal_and": [[pair(a & b) for b in values] for a in values],
           "diagonal_bool": [bool(a) for a in values]}
    with open(OUT, "w") as f:
        json.dump(out, f)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
