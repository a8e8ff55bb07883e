"""A number box that refuses a value out of its parameter's range in place.

A value the parameter refuses (training points 0, diag_reg 5, a negative learning rate) is
not applied: the box goes back to the value in force and says why, next to it, until the
next accepted value. The URL path reports refusals the same way (app/state/url.py).
"""
from __future__ import annotations

import panel as pn

from .literal import literal


class OptionalFloatInput(pn.widgets.FloatInput):
    """A FloatInput whose empty value (None) shows as an empty box with its placeholder.

    Panel's FloatInput sends None to the browser as NaN, which the box then shows as "NaN"
    (the learning rate after a reset to ½ η_max); Bokeh's NumericInput takes null."""

    def _process_param_change(self, params):
        empty = [name for name in ("value", "value_throttled")
                 if name in params and params[name] is None]
        params = super()._process_param_change(params)
        for name in empty:
            params[name] = None
        return params


def _range(parameter) -> str:
    """E.g. "between 1 and 1000", "above 0", "at least 0"."""
    low, high = parameter.bounds or (None, None)
    low_in, high_in = getattr(parameter, "inclusive_bounds", (True, True))
    parts = []
    if low is not None:
        parts.append(f"{'at least' if low_in else 'above'} {low:g}")
    if high is not None:
        parts.append(f"{'at most' if high_in else 'below'} {high:g}")
    return " and ".join(parts) or "a number"


def refusal(label: str, parameter, value, kept, limit: str = "") -> str:
    """The message shown under a box whose value was refused."""
    text = f"{label}: {value!r} is not allowed; it must be {_range(parameter)}"
    return text + (f" ({limit})" if limit else "") + f". Kept {kept!r}."


def checked_input(owner, name: str, widget_type, label: str, limit: str = "",
                  **kwargs) -> pn.Column:
    """A ``widget_type`` box for ``owner.name`` with its refusal message below it."""
    parameter = owner.param[name]
    css = kwargs.pop("css_classes", [f"input-{name}"])
    widget = widget_type(name=label, value=getattr(owner, name), css_classes=css, **kwargs)
    message = pn.pane.Str("", visible=False, css_classes=[f"{css[0]}-refusal", "input-refusal"],
                          styles={"color": "#b00020", "font-size": "0.8em"}, margin=(0, 10))

    def typed(event):
        if event.new == getattr(owner, name):
            return  # the box set back (or to what is in force): the message stays
        try:
            setattr(owner, name, event.new)
        except (ValueError, TypeError):
            kept = getattr(owner, name)
            message.param.update(object=literal(refusal(label, parameter, event.new, kept, limit)),
                                 visible=True)
            widget.value = kept
            return
        message.visible = False

    def applied(event):
        if widget.value != event.new:
            widget.value = event.new

    widget.param.watch(typed, "value")
    owner.param.watch(applied, name)
    return pn.Column(widget, message, margin=0, sizing_mode="stretch_width")
