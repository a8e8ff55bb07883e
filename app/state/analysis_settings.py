"""Settings of the analysis views: which view is shown, width sweeps, the images experiment,
the lazy vs rich alpha sweep and the recurrent comparison's task.

Like app/state/settings.py these are the whole state of a view (app/state/url.py puts them in
the URL); results are derived from them in app/jobs/ (convergence.py, image_jobs.py,
lazy_rich_jobs.py, recurrent_jobs.py). Views that need long computations start them only once
their tab is shown.
"""
from __future__ import annotations

import param

import engine

from .limits import Limits

#: tab title -> its name in the URL (``?view=kernels``), in the dashboard's order
TAB_SLUGS = {
    "Training dynamics": "dynamics",
    "Convergence with width": "convergence",
    "Kernels": "kernels",
    "Output distribution": "distribution",
    "Classification": "classification",
    "Images": "images",
    "Signal propagation": "signal-propagation",
    "Random matrices": "random-matrices",
    "Lazy vs rich": "lazy",
    "Recurrent": "recurrent",
}
#: widths a sweep may include (powers of two)
SWEEP_WIDTHS = [2 ** k for k in range(1, 13)]


class ViewSelection(param.Parameterized):
    view = param.Selector(default="dynamics", objects=list(TAB_SLUGS.values()), doc="""
        The dashboard tab shown.""")


class Sweep(param.Parameterized):
    """Finite networks of several widths next to the infinite-width limit."""

    widths = param.ListSelector(default=[2, 8, 32, 128, 512], objects=SWEEP_WIDTHS, doc="""
        Hidden widths of the finite networks compared with the limit (the kernel curves
        use the narrowest and the widest).""")
    seeds = param.Integer(default=4, bounds=(1, 16), doc="""
        Networks (initialisations) per width.""")
    steps = param.Integer(default=200, bounds=(1, 10_000), doc="""
        Gradient-descent steps after which the empirical NTK is compared with its start.""")
    samples = param.Integer(default=1000, bounds=(100, 10_000), doc="""
        Networks per width for the output distribution at initialisation.""")

    def __init__(self, limits: Limits | None = None, **params):
        super().__init__(**params)
        if limits is not None:
            self.param.widths.objects = [w for w in SWEEP_WIDTHS if w <= limits.max_width]

    @property
    def sorted_widths(self) -> tuple:
        return tuple(sorted(self.widths))


class ImageExperiment(param.Parameterized):
    """The digits split and the regularisation of the FC / CNN / residual CNN comparison."""

    max_train = param.Selector(default=128, objects=[32, 64, 128, 256, 512], doc="""
        The largest training set; the smaller ones are its leading 16, 32, ... images.""")
    n_test = param.Integer(default=300, bounds=(10, 1000), doc="Test images.")
    diag_reg = param.Number(default=1e-4, bounds=(0.0, 1.0), doc="""
        Diagonal regularization, relative to the mean diagonal of the train kernel.""")
    seed = param.Integer(default=0, bounds=(0, engine.MAX_SEED), doc="Seed of the train/test split.")

    @property
    def train_sizes(self) -> list[int]:
        """16, 32, ... doubling up to max_train."""
        sizes, n = [], 16
        while n < self.max_train:
            sizes.append(n)
            n *= 2
        return sizes + [self.max_train]

    @property
    def key(self) -> tuple:
        return (self.max_train, self.n_test, float(self.diag_reg), self.seed)


#: output scales the alpha sweep may include
ALPHAS = [0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
#: widths the alpha sweep may train at
ALPHA_WIDTHS = [4, 8, 16, 32, 64, 128]


class LazyRichSettings(param.Parameterized):
    """The alpha sweep (the width sweep uses the shared sweep settings)."""

    alphas = param.ListSelector(default=[0.25, 1.0, 4.0, 16.0], objects=ALPHAS, doc="""
        Output scales alpha: f_alpha = alpha (f - f_0), learning rate / alpha^2.""")
    width = param.Selector(default=16, objects=ALPHA_WIDTHS, doc="""
        Hidden width of the networks of the alpha sweep (narrow: width alone is not lazy).""")

    @property
    def sorted_alphas(self) -> tuple:
        return tuple(sorted(float(a) for a in self.alphas))


class SequenceSettings(param.Parameterized):
    """The noisy-sine continuation task and the networks' weight scale."""

    n_train = param.Integer(default=20, bounds=(4, 200), doc="Training sequences.")
    length = param.Integer(default=8, bounds=(2, 32), doc="Time steps T per sequence.")
    noise = param.Number(default=0.1, bounds=(0.0, 1.0), step=0.05, doc="""
        Std of the Gaussian noise on the inputs (targets are noiseless).""")
    w_std = param.Number(default=1.5, bounds=(0.1, 3.0), step=0.1, doc="""
        W_std of every weight layer (the RNN's recurrent weights too).""")

    @property
    def key(self) -> tuple:
        return (int(self.n_train), int(self.length), float(self.noise), float(self.w_std))
