"""Infinite-width network engine: finite networks and their exact NNGP/NTK limits.

The public surface; the app imports only from here.
"""
from . import stax
from .kernel import Kernel
from .network import Kernels, Network
from .spec import build

__all__ = ["stax", "build", "Kernel", "Kernels", "Network"]
