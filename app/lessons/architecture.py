"""Lesson: architecture matters (Novak et al. 2019; Arora et al. 2019)."""
from .lesson import Lesson, Step

CITE = ("R. Novak et al., *Bayesian Deep Convolutional Networks with Many Channels are "
        "Gaussian Processes*, ICLR 2019; S. Arora et al., *On Exact Computation with an "
        "Infinitely Wide Neural Net*, NeurIPS 2019.")

LESSON = Lesson("architecture", "Architecture matters", (
    Step("FC below the convolutional networks on images",
         "Test accuracy on 8×8 digits of three infinite networks: fully connected, a CNN "
         "and a residual CNN. Once trained, the convolutional kernels, which know that "
         "nearby pixels belong together, beat the FC kernel at every training-set size; on "
         "these tiny digits the residual connection adds little over the plain CNN.",
         CITE, "images", ("images-max-train",), preset="CNN with global average pooling",
         show_finite=False),
))
