"""Infinite-width network engine: finite networks and their exact NNGP/NTK limits.

The public surface; the app imports only from here.
"""
from . import predict, stax
from .data import DATASETS, Dataset, make_dataset
from .accuracy import AccuracyCurves, accuracy_curves
from .ensemble import EnsemblePredictor, Losses, ensemble_predictor
from .kernel import Kernel
from .losses import LossCurve
from .network import Kernels, Network
from .predict import (Gaussian, gp_inference, gradient_descent_mse, gradient_descent_mse_ensemble,
                      max_learning_rate)
from .spec import build

__all__ = [
    "stax", "predict", "build", "Kernel", "Kernels", "Network",
    "DATASETS", "Dataset", "make_dataset",
    "EnsemblePredictor", "ensemble_predictor", "LossCurve", "Losses",
    "Gaussian", "gp_inference", "gradient_descent_mse", "gradient_descent_mse_ensemble",
    "max_learning_rate", "AccuracyCurves", "accuracy_curves",
]
