"""neural-tangents-style constructors: each returns ``(init_fn, apply_fn, kernel_fn)``.

Port code written for ``neural_tangents.stax`` by changing the import to ``engine.stax``.
"""
from __future__ import annotations

import functools

from .layers import activations, combinators, dense
from .layers import conv, norm, pool, recurrent
from .layers import arccosine, elementwise, exponential, gelu, polynomial, trigonometric
from .layers import dropout, exp_normalized, fan_in, indexing
from .network import Network, as_network


def _network(constructor):
    @functools.wraps(constructor)
    def make(*args, **kwargs):
        return Network(constructor(*args, **kwargs))
    return make


def _combinator(constructor):
    @functools.wraps(constructor)
    def make(*layers):
        return Network(constructor(*(as_network(layer) for layer in layers)))
    return make


Dense = _network(dense.Dense)
Conv = _network(conv.Conv)
AvgPool = _network(pool.AvgPool)
GlobalAvgPool = _network(pool.GlobalAvgPool)
SumPool = _network(pool.SumPool)
GlobalSumPool = _network(pool.GlobalSumPool)
Flatten = _network(pool.Flatten)
LayerNorm = _network(norm.LayerNorm)
Rnn = _network(recurrent.Rnn)  # not in neural-tangents: sequences (N, T, d)
Relu = _network(activations.Relu)
LeakyRelu = _network(activations.LeakyRelu)
Abs = _network(activations.Abs)
ABRelu = _network(activations.ABRelu)
Erf = _network(activations.Erf)
Sigmoid_like = _network(activations.Sigmoid_like)
Gelu = _network(gelu.Gelu)
Sin = _network(trigonometric.Sin)
Cos = _network(trigonometric.Cos)
Rbf = _network(trigonometric.Rbf)
Exp = _network(exponential.Exp)
Gaussian = _network(exponential.Gaussian)
Sign = _network(arccosine.Sign)
RectifiedMonomial = _network(arccosine.RectifiedMonomial)
Monomial = _network(polynomial.Monomial)
Polynomial = _network(polynomial.Polynomial)
Hermite = _network(polynomial.Hermite)
Tanh = _network(elementwise.Tanh)
Sigmoid = _network(elementwise.Sigmoid)
Softplus = _network(elementwise.Softplus)
Silu = _network(elementwise.Silu)
Elementwise = _network(elementwise.Elementwise)
ElementwiseNumerical = _network(elementwise.ElementwiseNumerical)
FanOut = _network(combinators.FanOut)
FanInSum = _network(combinators.FanInSum)
Identity = _network(combinators.Identity)
serial = _combinator(combinators.serial)
parallel = _combinator(combinators.parallel)
Dropout = _network(dropout.Dropout)
FanInConcat = _network(fan_in.FanInConcat)
FanInProd = _network(fan_in.FanInProd)
ExpNormalized = _network(exp_normalized.ExpNormalized)
Index = _network(indexing.Index)
Slice = indexing.Slice


@functools.wraps(combinators.repeat)
def repeat(layer, n):
    return Network(combinators.repeat(as_network(layer), n))

#: every single-layer constructor by its name in specs (combinators are handled by spec.py)
LAYERS = {
    "Conv": Conv, "AvgPool": AvgPool, "GlobalAvgPool": GlobalAvgPool, "Flatten": Flatten,
    "LayerNorm": LayerNorm,
    "Dense": Dense, "Relu": Relu, "LeakyRelu": LeakyRelu, "Abs": Abs, "ABRelu": ABRelu,
    "Erf": Erf, "Sigmoid_like": Sigmoid_like, "Gelu": Gelu, "Sin": Sin, "Cos": Cos, "Rbf": Rbf,
    "Exp": Exp, "Gaussian": Gaussian, "Sign": Sign, "RectifiedMonomial": RectifiedMonomial,
    "Monomial": Monomial, "Polynomial": Polynomial, "Hermite": Hermite, "Tanh": Tanh,
    "Sigmoid": Sigmoid, "Softplus": Softplus, "Silu": Silu, "Elementwise": Elementwise,
    "ElementwiseNumerical": ElementwiseNumerical,
    "FanOut": FanOut, "FanInSum": FanInSum, "Identity": Identity,
}

# ConvTranspose and ConvLocal (a JSON spec names them through engine/spec_layers.py)
from .layers import conv_local, conv_transpose  # noqa: E402

ConvTranspose = _network(conv_transpose.ConvTranspose)
ConvLocal = _network(conv_local.ConvLocal)

# GlobalSelfAttention (in JSON specs through engine/spec_layers.py, decay function null)
from .layers import attention  # noqa: E402

GlobalSelfAttention = _network(attention.GlobalSelfAttention)

# Aggregate (graphs, given through its pattern= keyword) and ImageResize (both in JSON
# specs through engine/spec_layers.py)
from .layers import aggregate, image_resize  # noqa: E402

Aggregate = _network(aggregate.Aggregate)
AggregateImplementation = aggregate.AggregateImplementation
ImageResize = _network(image_resize.ImageResize)

# neural-tangents' enums for layer arguments (a member or its name: the same layer)
from .layers.choices import AttentionMechanism, Padding, PositionalEmbedding  # noqa: E402,F401

# Gabor and DotGeneral (Python only: not in JSON specs, which the app's editor offers)
from .layers import dot_general, gabor  # noqa: E402

Gabor = _network(gabor.Gabor)
DotGeneral = _network(dot_general.DotGeneral)

# Custom layers as neural-tangents writes them: @layer, @requires, @supports_masking, and the
# helpers of its masking (MaskedArray, unmask_fn); masking itself is not implemented here
from .layers import custom  # noqa: E402
from .layers.masked import MaskedArray, unmask_fn  # noqa: E402,F401
from .layers.requirements import Bool, Diagonal, requires  # noqa: E402,F401

supports_masking = custom.supports_masking


def layer(layer_fn):
    """Decorator: ``layer_fn`` returning (init_fn, apply_fn, kernel_fn) becomes a stax layer
    (engine.layers.custom: conventions, what kernel_fn receives).

    Args:
      layer_fn: the layer's constructor, as written for neural-tangents' ``stax.layer``.
    """
    return _network(custom.layer(layer_fn))
