"""Lesson: the kernel stays put (Jacot, Gabriel & Hongler 2018)."""
from .lesson import Lesson, Step

CITE = ("A. Jacot, F. Gabriel, C. Hongler, *Neural Tangent Kernel: Convergence and "
        "Generalization in Neural Networks*, NeurIPS 2018, Fig. 1.")

LESSON = Lesson("kernel", "The kernel stays put", (
    Step("The empirical NTK approaches its limit",
         "Middle: how far the empirical NTK of a finite network is from the analytic one at "
         "initialisation; right: how far it moves while the network trains. Both fall like "
         "n^(−½) (dashed) as the width n grows: a wide network starts at the limit kernel "
         "and keeps it.",
         CITE, "convergence", ("convergence-widths", "convergence-steps"), preset="ReLU MLP",
         widths=(16, 64, 512), seeds=2, steps=50, show_finite=False),
    Step("Jacot's unit circle",
         "The NTK Θ(x₀, x) along the unit circle for a 4-layer ReLU net of width 512 and one "
         "of width 4096, at initialisation and after training on four points (Jacot et al. "
         "used 500 and 10,000; 4096 is this server's default width cap). The narrow net's "
         "curves wander and move when it trains; the wide net's lie on the analytic curve "
         "and stay there.",
         CITE, "kernels", ("kernel-angles-widths", "kernel-angles-steps"),
         preset="4-layer ReLU net on the unit circle (Jacot et al.)", widths=(512, 4096),
         seeds=2, steps=50, show_finite=False),
))
