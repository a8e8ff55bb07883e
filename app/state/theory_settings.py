"""Settings of the theory views (signal propagation, random matrices), and how a click on the
phase diagram sets the stack's W_std and b_std.

The settings live on the session (``Session.signal``, ``Session.matrices``; in the URL:
app/state/url.py). A click goes through the editor's own path: new editor items, checked against
the server's limits (app/state/spec_input.py), then ``Architecture.edit``; a refused spec
leaves the stack as it was and returns the reason.
"""
from __future__ import annotations

import param

from . import spec_input, stack

#: the phase diagram's grid: W_std (columns) and b_std (rows; sqrt(0.05) of Schoenholz et al.
#: 2017, Fig. 1, is one of them)
W_STD_GRID = tuple(round(0.2 + 0.1 * i, 10) for i in range(29))          # 0.2 ... 3.0
B_STD_GRID = tuple(sorted({round(0.1 * i, 10) for i in range(11)} | {0.05 ** 0.5}))
#: widths of the random-matrix sliders (powers of two)
MATRIX_WIDTHS = [2 ** k for k in range(4, 11)]  # 16 ... 1024
#: decimals of the W_std / b_std a click writes into the stack
CLICK_DECIMALS = 3


class SignalSettings(param.Parameterized):
    """The curves beside the phase diagram."""

    depth = param.Integer(default=40, bounds=(2, 200), doc="Layers the curves run over.")
    input_correlation = param.Number(default=0.5, bounds=(-1.0, 1.0), doc="""
        Correlation x . x' / (|x| |x'|) of the two inputs whose kernels are followed.""")


class MatrixSettings(param.Parameterized):
    """The random matrices and the network Jacobian."""

    width = param.Selector(default=256, objects=MATRIX_WIDTHS, doc="""
        n: the matrices are (ratio n) x n, n x n; the Jacobian is n x n.""")
    ratio = param.Number(default=0.5, bounds=(0.05, 1.0), step=0.05, doc="""
        Aspect ratio p / n of W (p x n) in W W^T / n (Marchenko-Pastur).""")
    depth = param.Integer(default=8, bounds=(1, 32), doc="Layers of the network Jacobian.")


def hidden_weights(items: list, w_std: float, b_std: float) -> list:
    """Editor items with every hidden Dense layer at this W_std and b_std (the readout keeps
    its own: it scales the output, not the propagation through the layers)."""
    w_std, b_std = round(float(w_std), CLICK_DECIMALS), round(float(b_std), CLICK_DECIMALS)
    for path in stack.hidden_paths(items):
        name, kwargs = stack.get(items, path)
        if name == "Dense":
            items = stack.replace(items, path, [name, {**kwargs, "W_std": w_std, "b_std": b_std}])
    return items


def set_weights(session, w_std: float, b_std: float) -> str:
    """Set the stack's hidden W_std and b_std as the editor would; '' or why it was refused."""
    items = hidden_weights(session.architecture.items, w_std, b_std)
    try:
        spec_input.check(stack.unfold(items), session.limits)
    except ValueError as err:
        return str(err)
    session.architecture.edit(items)
    return ""
