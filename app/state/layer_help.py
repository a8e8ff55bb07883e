"""One line of help per layer type of the stack editor, and why the editor leaves some out.

The formulas and papers are in the engine's docstrings; these lines say in a sentence what a
layer computes and how its kernel follows, for a reader choosing a layer.
"""
from __future__ import annotations

from .stack import RESIDUAL

#: layers a JSON spec may use but the editor does not offer, and why
HIDDEN = {
    "FanOut": "a residual block builds the branches",
    "FanInSum": "a residual block joins its branches",
    "Identity": "a residual block's skip branch",
    "FanInConcat": "joins branches; the editor's only branches are residual blocks (sums)",
    "FanInProd": "joins branches; the editor's only branches are residual blocks (sums)",
    "Elementwise": "takes a Python function, which a browser must never supply",
    "ElementwiseNumerical": "takes a Python function, which a browser must never supply",
    "Dropout": "its train mode needs a random key per call (apply_fn(params, x, rng=key)), "
               "which the dashboard's finite training does not pass; its test mode is the "
               "identity",
    "ExpNormalized": "a kernel map with no finite network, and the views show finite "
                     "networks beside the limit",
    "Aggregate": "reads each input's graph from kernel_fn(..., pattern=(P1, P2)), which the "
                 "editor cannot give (the dashboard's data have no graphs)",
    "Rnn": "needs sequences (N, T, d); the editor's data are points and images (the "
           "Recurrent tab has its own recurrent models)",
}
#: one line per offered layer: what it computes and its kernel rule (the engine's
#: docstrings give the formulas and papers)
HELP = {
    "Dense": "Fully connected: z = W_std W h / sqrt(n) + b_std b; Sigma' = W_std^2 Sigma + "
             "b_std^2 (Neal 1996; Lee et al. 2018).",
    "Conv": "Convolution, weights shared across positions; the kernel averages Sigma over "
            "the filter's offsets (Novak et al. 2019).",
    "ConvTranspose": "Transposed (up-sampling) convolution: strides multiply the positions; "
                     "the kernel averages Sigma over the taps that reach each output "
                     "(Novak et al. 2019, as neural-tangents).",
    "ConvLocal": "Locally connected: Conv's windows with their own weights at every position; "
                 "no covariance between positions (Novak et al. 2019).",
    "AvgPool": "Average over windows; the kernel averages Sigma over pairs of windows.",
    "SumPool": "Sum over windows; the kernel sums Sigma over pairs of windows.",
    "GlobalAvgPool": "Mean over all positions; the kernel is the mean of Sigma over all "
                     "pairs of positions.",
    "GlobalSumPool": "Sum over all positions; the kernel is the sum of Sigma over all pairs "
                     "of positions.",
    "Flatten": "Positions and channels as one feature vector; the kernel averages the "
               "diagonal over positions.",
    "LayerNorm": "Normalise over the channels; the kernel is divided by sqrt of both "
                 "variances.",
    "GlobalSelfAttention": "Multi-head self-attention over all positions; its NNGP and NTK "
                           "as heads and channels grow (Hron et al. 2020).",
    "ImageResize": "Resize the spatial axes (jax.image.resize, -1 keeps an axis; the "
                   "batch and channel entries stay -1); the kernel is M Sigma M^T.",
    "Index": "NumPy indexing of the outputs, e.g. ..., 1:7, 1:7, : crops images (batch and "
             "channels stay ':'); the kernel takes the same entries.",
    "Relu": "phi(x) = max(x, 0); arc-cosine kernel (Cho & Saul 2009).",
    "LeakyRelu": "phi(x) = alpha x for x < 0, x otherwise; arc-cosine family.",
    "Abs": "phi(x) = |x|; arc-cosine family.",
    "ABRelu": "phi(x) = a x for x < 0, b x otherwise; arc-cosine family.",
    "Erf": "phi(x) = a erf(b x) + c; closed-form kernel (Williams 1997).",
    "Sigmoid_like": "erf fit to the logistic sigmoid; closed-form kernel.",
    "Gelu": "phi(x) = x Phi(x); closed-form kernel.",
    "Sin": "phi(x) = a sin(b x + c); closed-form kernel.",
    "Cos": "phi(x) = a cos(b x + c); closed-form kernel.",
    "Rbf": "phi(x) = sqrt(2) sin(sqrt(2 gamma) x + pi/4); Sigma' = exp(-gamma |u - u'|^2) "
           "of the pre-activations (random Fourier features).",
    "Exp": "phi(x) = a exp(b x); closed-form kernel.",
    "Gaussian": "phi(x) = a exp(b x^2); closed-form kernel.",
    "Sign": "phi(x) = sign(x); arc-cosine kernel of degree 0.",
    "RectifiedMonomial": "phi(x) = x^degree for x >= 0, else 0; arc-cosine kernel of that "
                         "degree.",
    "Monomial": "phi(x) = x^degree; closed-form Gaussian moments.",
    "Polynomial": "phi(x) = coef[0] + coef[1] x + ...; closed-form Gaussian moments.",
    "Hermite": "phi(x) = He_degree(x) / sqrt(degree!), the normalised Hermite polynomial; "
               "closed-form kernel.",
    "Tanh": "phi(x) = tanh(x); kernel by Gauss-Hermite quadrature.",
    "Sigmoid": "The logistic function; kernel by Gauss-Hermite quadrature.",
    "Softplus": "phi(x) = log(1 + exp(x)); kernel by Gauss-Hermite quadrature.",
    "Silu": "phi(x) = x / (1 + exp(-x)); kernel by Gauss-Hermite quadrature.",
    RESIDUAL: "y = x + f(x): the kernels of the two branches add.",
}


def help_text(name: str) -> str:
    """One line on layer ``name`` for the editor (and why the editor leaves it out). Never
    the name itself for an unknown one: names come from links and the JSON box."""
    if name in HIDDEN:
        return f"{name}: in JSON specs only; the editor leaves it out: {HIDDEN[name]}."
    return HELP.get(name, "Not a layer this app knows.")
