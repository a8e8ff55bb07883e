"""Lesson: wide networks are Gaussian processes (Neal 1996; Lee et al. 2018)."""
from .lesson import Lesson, Step

#: one hidden ReLU layer without biases: at width n the output at one input is a sum of n
#: terms of which about half are exactly zero, far from Gaussian when n is small
RELU_NO_BIAS = (("Dense", (("out_dim", 512), ("W_std", 1.41), ("b_std", 0.0))),
                ("Relu", ()),
                ("Dense", (("out_dim", 1), ("W_std", 1.41), ("b_std", 0.0))))
CITE = ("R. Neal, *Bayesian Learning for Neural Networks* (1996), ch. 2; J. Lee et al., "
        "*Deep Neural Networks as Gaussian Processes*, ICLR 2018.")

LESSON = Lesson("gaussian", "Wide networks are Gaussian processes", (
    Step("Narrow networks are not Gaussian",
         "Each histogram is f(x) at one input over 1000 random initialisations of a ReLU "
         "network without biases. At width 2 a quarter of the networks output exactly 0 "
         "(both units off): a spike, nothing like the dashed Gaussian of the infinite net.",
         CITE, "distribution", ("distribution-widths",), spec=RELU_NO_BIAS,
         widths=(2, 4, 8), show_finite=False),
    Step("Width makes them Gaussian",
         "Add widths up to 1024: the histograms melt into the dashed NNGP Gaussian "
         "N(0, K(x, x)) and the Kolmogorov–Smirnov distance on the right falls with width "
         "until it reaches the sampling floor. This is the central limit theorem over units.",
         CITE, "distribution", ("distribution-widths", "distribution-samples"),
         spec=RELU_NO_BIAS, widths=(2, 8, 32, 128, 1024), show_finite=False),
))
