"""Lesson: training follows the kernel's eigen-directions (Jacot et al. 2018, §5)."""
from .lesson import Lesson, Step

CITE = ("A. Jacot, F. Gabriel, C. Hongler, *Neural Tangent Kernel*, NeurIPS 2018, §5 and "
        "Fig. 2: the residual decays as d(t) = e^(−Θt) d(0).")

#: Jacot et al.'s network on 16 points of the unit circle: a spectrum spread over decades
CIRCLE = dict(preset="4-layer ReLU net on the unit circle (Jacot et al.)",
              data=(("n_train", 16),), width=512, widths=(64, 512), seeds=1, steps=1000,
              show_finite=False)
FIG2 = ("A. Jacot, F. Gabriel, C. Hongler, *Neural Tangent Kernel*, NeurIPS 2018, §5 and "
        "Fig. 2: the network function along the NTK's principal components during training, "
        "finite widths beside the limit; d(t) = e^(−Θt) d(0) along each eigenvector.")

LESSON = Lesson("eigen", "Training follows the kernel's eigen-directions", (
    Step("The NTK's spectrum",
         "Top: the eigenvalues λᵢ of the NTK on the training inputs, a few large and many "
         "small. Along eigenvector i the training residual decays like e^(−η λᵢ t/|Y|): the "
         "large-eigenvalue directions are learnt first, the small ones last.",
         CITE, "convergence", ("convergence-widths",), **CIRCLE),
    Step("Each eigen-direction at its own rate",
         "Scroll below the spectrum: the training residual of networks of width 512 (the "
         "sidebar's ensemble size), projected on the NTK's eigenvectors vᵢ. Each component falls like "
         "(1 − η λᵢ/|Y|)ᵗ (dashed), the largest λ first, and the networks (solid) follow "
         "it until the slower directions leak in (their kernel is not exactly Θ). Lower the "
         "width to 16 and they part; raise the training steps to watch the small "
         "eigenvalues go.",
         FIG2, "convergence", ("width-slider", "convergence-steps"), **CIRCLE),
    Step("Early in training: the top directions",
         "After 10 steps the mean prediction has picked up the broad, smooth shape of the "
         "data (the top eigen-directions) but none of its detail. Press Play and watch the "
         "finer components arrive one after another.",
         CITE, "dynamics", ("t-slider", "t-play"), preset="ReLU MLP", t=10),
    Step("Late in training: the small eigenvalues",
         "At 10,000 steps the small-eigenvalue directions have decayed too: the mean passes "
         "through the training points and the training loss (right) has fallen by orders "
         "of magnitude, in steps set by the spectrum.",
         CITE, "dynamics", ("t-slider",), preset="ReLU MLP", t=10000),
))
