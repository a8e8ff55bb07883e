"""Lesson: training follows the kernel's eigen-directions (Jacot et al. 2018, §5)."""
from .lesson import Lesson, Step

CITE = ("A. Jacot, F. Gabriel, C. Hongler, *Neural Tangent Kernel*, NeurIPS 2018, §5 and "
        "Fig. 2: the residual decays as d(t) = e^(−Θt) d(0).")

LESSON = Lesson("eigen", "Training follows the kernel's eigen-directions", (
    Step("The NTK's spectrum",
         "Left: the eigenvalues λᵢ of the NTK on the training inputs, a few large and many "
         "small. Along eigenvector i the training residual decays like e^(−η λᵢ t/|Y|): the "
         "large-eigenvalue directions are learnt first, the small ones last.",
         CITE, "convergence", ("convergence-widths",), preset="ReLU MLP", widths=(64, 512),
         seeds=1, steps=20, show_finite=False),
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
