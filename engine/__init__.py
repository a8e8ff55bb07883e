"""Infinite-width network engine: finite networks and their exact NNGP/NTK limits.

The public surface; the app imports only from here.
"""
from . import empirical, predict, stax
from .batch import batch
from .checks import Limits
from .compiled import release_if_crowded
from .data import DATASETS, Dataset, make_dataset
from .closed_form.accuracy import AccuracyCurves, accuracy_curves
from .closed_form.ensemble import EnsemblePredictor, Losses, ensemble_predictor
from .kernel import Kernel
from .closed_form.losses import LossCurve
from .network import Kernels, Network
from .predict import (Gaussian, gp_inference, gradient_descent_mse, gradient_descent_mse_ensemble,
                      max_learning_rate)
from .spec import build
from .spec_limits import MAX_SEED, SpecLimits, check_spec
from .spec_layers import LAYERS as SPEC_LAYERS
from .widths import WIDTH_ARGUMENT, with_width

__all__ = [
    "stax", "predict", "empirical", "batch", "build", "SpecLimits", "check_spec", "MAX_SEED",
    "Limits", "Kernel", "Kernels", "Network",
    "DATASETS", "Dataset", "make_dataset",
    "EnsemblePredictor", "ensemble_predictor", "LossCurve", "Losses",
    "Gaussian", "gp_inference", "gradient_descent_mse", "gradient_descent_mse_ensemble",
    "max_learning_rate", "AccuracyCurves", "accuracy_curves", "with_width", "WIDTH_ARGUMENT",
    "SPEC_LAYERS", "release_if_crowded",
]

# width sweeps against the limit (used by the dashboard's convergence and kernel views)
from .sweeps.angles import AngleKernels, angle_kernels  # noqa: E402
from .sweeps.init_outputs import OutputDistribution, output_distribution  # noqa: E402
from .sweeps.spectrum import NtkChange, NtkSpectrum, ntk_change, ntk_spectrum  # noqa: E402
from .sweeps.join_widths import join_widths  # noqa: E402  (a sweep computed in parts, one whole)

__all__ += ["AngleKernels", "angle_kernels", "OutputDistribution", "output_distribution",
            "NtkChange", "NtkSpectrum", "ntk_change", "ntk_spectrum", "join_widths"]

# finite ensembles trained with real gradient descent (the dashboard's finite networks)
from .finite.training import EnsembleRun, train_ensemble  # noqa: E402

__all__ += ["EnsembleRun", "train_ensemble"]

# the train residual along the analytic NTK's eigenvectors (Jacot et al. 2018, Fig. 2)
from .finite.training import log_step_grid  # noqa: E402
from .finite.residual_modes import ResidualModes, residual_modes  # noqa: E402

__all__ += ["ResidualModes", "residual_modes", "log_step_grid"]

# lazy vs rich training: the output scale alpha beside width (Chizat et al. 2019)
from .theory.lazy_training import LazyRich, lazy_rich  # noqa: E402

__all__ += ["LazyRich", "lazy_rich"]

# sequences: a recurrent network beside fully connected and convolutional ones (stax.Rnn)
from .data.sequences import sine_sequences  # noqa: E402
from .theory.sequence_models import MODELS as SEQUENCE_MODELS  # noqa: E402
from .theory.sequence_models import SequenceComparison, compare_sequence_models  # noqa: E402

__all__ += ["sine_sequences", "SEQUENCE_MODELS", "SequenceComparison", "compare_sequence_models"]

# neural-tangents' top-level names: a program ports by changing its import
from .empirical import (NtkImplementation, empirical_kernel_fn, empirical_nngp_fn,  # noqa: E402
                        empirical_ntk_fn)
from .finite.linearize import linearize, taylor_expand  # noqa: E402
from .finite.monte_carlo import monte_carlo_kernel_fn  # noqa: E402

__all__ += ["NtkImplementation", "empirical_kernel_fn", "empirical_nngp_fn", "empirical_ntk_fn",
            "linearize", "taylor_expand", "monte_carlo_kernel_fn"]

# theory: signal propagation (order to chaos) and random-matrix laws at initialisation
from .theory.jacobian_spectrum import JacobianSpectrum, jacobian_spectrum  # noqa: E402
from .theory.random_matrix import (LAWS, JacobianLaw, LawFit, fit_law, jacobian_law,  # noqa: E402
                                   jacobian_singular_values)
from .theory.signal_propagation import (Block, KernelCorrelations, PhaseDiagram,  # noqa: E402
                                        Propagation, chi_1_diagram, correlation_map_over_depth,
                                        critical_line,
                                        critical_w_std, kernel_correlations_over_depth,
                                        phase_diagram, propagation, repeated_block)

__all__ += ["JacobianSpectrum", "jacobian_spectrum"]
__all__ += ["LAWS", "JacobianLaw", "LawFit", "fit_law", "jacobian_law",
            "jacobian_singular_values", "Block", "KernelCorrelations", "PhaseDiagram",
            "Propagation", "chi_1_diagram", "correlation_map_over_depth", "critical_line", "critical_w_std",
            "kernel_correlations_over_depth", "phase_diagram", "propagation", "repeated_block"]
