"""The view registry: which views the dashboard shows, grouped in tabs, defined once here
for the dashboard (app/views/tabs.py) and the server's warm-up (app/warmup.py).

A new view is a ``pn.viewable.Viewer`` taking ``session=``; register it here under a tab
title and the dashboard shows it. Views in one tab sit side by side; those in ``BELOW``
under the tab's row, at its full width.
"""
from __future__ import annotations

from .classification import ClassificationView
from .distribution import DistributionView
from .function_space import FunctionSpaceView
from .images import ImagesView
from .kernels import KernelsView
from .lazy_rich import LazyRichView
from .loss import LossView
from .random_matrix import RandomMatrixView
from .residual_modes import ResidualModesView
from .recurrent import RecurrentView
from .signal_propagation import SignalPropagationView
from .spectrum import SpectrumView

#: tab title -> the views it shows
TABS: dict[str, list[type]] = {
    "Training dynamics": [FunctionSpaceView, LossView],
    # the analysis views (titles and URL names: app/state/analysis_settings.py TAB_SLUGS)
    "Convergence with width": [SpectrumView],
    "Kernels": [KernelsView],
    "Output distribution": [DistributionView],
    "Classification": [ClassificationView],
    "Images": [ImagesView],
    "Signal propagation": [SignalPropagationView],
    "Random matrices": [RandomMatrixView],
    "Lazy vs rich": [LazyRichView],
    "Recurrent": [RecurrentView],
}


#: views shown under a tab's row at its full width (tab title -> views): the residual along
#: the NTK's eigenvectors reads the spectrum above it
BELOW: dict[str, list[type]] = {"Convergence with width": [ResidualModesView]}


def tab_views(title: str) -> list[type]:
    """Every view of the tab ``title``: its row, then those below it."""
    return [*TABS.get(title, []), *BELOW.get(title, [])]


def register(tab: str, view: type) -> None:
    """Add ``view`` to ``tab`` (a new tab is appended)."""
    TABS.setdefault(tab, []).append(view)
