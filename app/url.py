"""The whole view in the URL: every setting is a query parameter, the spec as JSON.

A copied link reproduces the view. Values a link asks for that the server refuses (beyond
a limit, malformed) are reported in the session's notice; the rest still apply.
"""
from __future__ import annotations

import functools

from .state import Session

#: settings object -> {parameter: query name}
SYNCED = {
    "architecture": {"spec": "spec", "width": "width"},
    "data": {"dataset": "dataset", "n_train": "n_train", "n_test": "n_test", "noise": "noise",
             "seed": "seed"},
    "training": {"mode": "mode", "t": "t", "learning_rate": "learning_rate",
                 "diag_reg": "diag_reg"},
    "finite": {"ensemble_size": "ensemble_size", "network_seed": "network_seed",
               "show": "finite"},
    # the analysis views (app/analysis_settings.py)
    "selection": {"view": "view"},
    "sweep": {"widths": "sweep_widths", "seeds": "sweep_seeds", "steps": "sweep_steps",
              "samples": "samples"},
    "images": {"max_train": "image_max_train", "n_test": "image_n_test",
               "diag_reg": "image_diag_reg", "seed": "image_seed"},
}
#: the server limit behind each bounded setting
LIMITED = {"width": "max_width", "n_train": "max_train", "n_test": "max_test",
           "ensemble_size": "max_ensemble_size"}


def sync(session: Session, location) -> None:
    """Apply the URL's settings to ``session``, then keep the URL up to date with it."""
    refused: list[str] = []
    with session.one_update():
        for owner, parameters in SYNCED.items():
            target = getattr(session, owner)
            location.sync(target, parameters,
                          on_error=functools.partial(_apply_each, session, target, refused))
    if refused:
        session.notice = "This link asks for settings the server refuses: " + "; ".join(refused)


def _apply_each(session: Session, target, refused: list, values: dict) -> None:
    """Apply what can be applied one by one; note the refused values."""
    for name, value in values.items():
        try:
            setattr(target, name, value)
        except (ValueError, TypeError):
            refused.append(_reason(session, name, value))


def _reason(session: Session, name: str, value) -> str:
    limit = LIMITED.get(name)
    if limit and isinstance(value, (int, float)) and value > getattr(session.limits, limit):
        return f"{name}={value!r} is beyond the limit {session.limits.describe(LIMITED[name])}"
    return f"{name}={value!r} is not a valid value of {name}"
