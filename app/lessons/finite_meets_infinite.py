"""Lesson: finite networks meet the infinite-width limit (Lee et al. 2019)."""
from .lesson import Lesson, Step

CITE = ("J. Lee et al., *Wide Neural Networks of Any Depth Evolve as Linear Models Under "
        "Gradient Descent*, NeurIPS 2019; R. Novak et al., *Neural Tangents*, ICLR 2020 "
        "(the cookbook figure).")

LESSON = Lesson("finite", "Finite meets infinite", (
    Step("Before training: the prior",
         "At t = 0 the closed-form band is the NNGP prior, and the thin lines, finite "
         "networks of width 128 trained by real gradient descent, are draws from it.",
         CITE, "dynamics", ("t-slider",), preset="Cookbook Erf net", t=0),
    Step("During training",
         "Move t: the band contracts onto the training points and the finite networks move "
         "with it, inside the band; the loss curves (right) follow the closed form's.",
         CITE, "dynamics", ("t-slider", "t-play"), preset="Cookbook Erf net", t=100),
    Step("Width closes the gap",
         "Trained to 10,000 steps, the ensemble mean matches the closed-form mean. Move the "
         "width: narrow ensembles stray from the band, wide ones sit on it.",
         CITE, "dynamics", ("width-slider",), preset="Cookbook Erf net", t=10000, width=512),
))
