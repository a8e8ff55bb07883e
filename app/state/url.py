"""The whole view in the URL: every setting is a query parameter, the spec as JSON.

A copied link reproduces the view. Values a link asks for that the server refuses (beyond
a limit, malformed) are reported in the session's notice; the rest still apply. A link is
untrusted input: values Panel's query reader cannot read (``n_train=²``, a 4,301-digit
number) and a spec beyond the server's limits (app/state/spec_input.py) are dropped from the query
before anything reads it, so such a link still opens the page, with the reason. So are values
param would take but the views cannot use (``True`` for a number, ``256.0`` for a width,
a list holding a value twice or more values than there are choices).
"""
from __future__ import annotations

import functools
import urllib.parse

import panel as pn
import param
from panel.util import parse_query

from ..jobs.background import in_document, session_document
from . import spec_input
from .session import Session

#: settings object -> {parameter: query name}
SYNCED = {
    "architecture": {"spec": "spec", "width": "width"},
    "data": {"dataset": "dataset", "n_train": "n_train", "n_test": "n_test", "noise": "noise",
             "seed": "seed"},
    "training": {"mode": "mode", "t": "t", "learning_rate": "learning_rate",
                 "diag_reg": "diag_reg"},
    "finite": {"ensemble_size": "ensemble_size", "network_seed": "network_seed",
               "show": "finite"},
    # the analysis views (app/state/analysis_settings.py)
    "selection": {"view": "view"},
    "sweep": {"widths": "sweep_widths", "seeds": "sweep_seeds", "steps": "sweep_steps",
              "samples": "samples"},
    "images": {"max_train": "image_max_train", "n_test": "image_n_test",
               "diag_reg": "image_diag_reg", "seed": "image_seed"},
    # the theory tabs (app/state/theory_settings.py, app/jobs/lazy_rich_jobs.py,
    # app/jobs/recurrent_jobs.py)
    "signal": {"depth": "signal_depth", "input_correlation": "signal_correlation"},
    "matrices": {"width": "rm_width", "ratio": "rm_ratio", "depth": "rm_depth"},
    "lazy": {"alphas": "lazy_alphas", "width": "lazy_width"},
    "sequences": {"n_train": "rnn_n_train", "length": "rnn_length", "noise": "rnn_noise",
                  "w_std": "rnn_w_std"},
}
#: query name -> (settings object on the session, parameter)
QUERIES = {query: (owner, name) for owner, names in SYNCED.items() for name, query in names.items()}
#: the teaching state (app/lessons/teaching.py): {parameter: query name}
TEACHING = {"lesson": "lesson", "step": "step", "layout": "layout"}
#: the server limit behind each bounded setting (by query name: ``rm_width`` and
#: ``image_n_test`` have bounds of their own)
LIMITED = {"width": "max_width", "n_train": "max_train", "n_test": "max_test",
           "ensemble_size": "max_ensemble_size"}


def page_location(session: Session):
    """(the page's Location, refused values): the request's query is cleaned first.

    Panel reads the query when it makes the Location, and a value it cannot read
    (``n_train=²``) would stop the page from rendering at all.
    """
    refused: list[str] = []
    context = getattr(pn.state.curdoc, "session_context", None)
    request = getattr(context, "request", None)
    uri = getattr(request, "uri", None)
    if isinstance(uri, str) and "?" in uri:
        path, _, query = uri.partition("?")
        cleaned = _readable(session, query, refused)
        if refused:
            request.uri = path + cleaned  # read by Panel's Location.from_request
    return pn.state.location, refused


def sync(session: Session, location, refused: list[str] | None = None, teaching=None) -> None:
    """Apply the URL's settings to ``session``, then keep the URL up to date with it.

    ``teaching``: the page's lesson and layout (app/lessons/teaching.py), applied after the
    settings (a lesson step sets its own).

    ``refused``: reasons found before (page_location). The query stays readable: the
    browser sends its own address back once the page loads (and on back/forward), and
    that is cleaned before Panel reads it (a watcher that runs before Panel's own).
    """
    refused = list(refused or [])
    _clean(session, location, refused)
    location.param._watch(lambda event: _clean(session, location, []), ["search"],
                          precedence=-1)  # negative: before Panel's reader (param allows it here)
    with session.one_update():
        for owner, parameters in SYNCED.items():
            target = getattr(session, owner)
            location.sync(target, parameters,
                          on_error=functools.partial(_apply_each, session, target, parameters,
                                                     refused))
    if teaching is not None:
        location.sync(teaching, TEACHING,
                      on_error=functools.partial(_apply_each, session, teaching, TEACHING,
                                                 refused))
        teaching.param.watch(functools.partial(_step_in_url, teaching, location),
                             ["lesson", "step"])
    if refused:
        session.notice = "This link asks for settings the server refuses: " + "; ".join(refused)


def _step_in_url(teaching, location, *events) -> None:
    """Write the lesson step into the URL again, on the page's event loop.

    Panel's Location skips a parameter's change while it is writing another into the URL
    (one ``_syncing`` flag for every thread): a step moved by the → key on one server thread
    while a job's thread changed a synced setting stayed out of the URL for good (the page
    showed step 4 under a link to step 3; CI, 3 lesson walks in parallel).
    """
    if not teaching.lesson:
        return
    lesson, step = teaching.lesson, teaching.step

    def write():
        query = location.query_params
        if (query.get("lesson"), query.get("step")) != (lesson, step):
            location.update_query(lesson=lesson, step=step)
    in_document(session_document(), write)


def _clean(session: Session, location, refused: list) -> None:
    """Take out of the location's query what cannot be read (the reasons go to ``refused``)."""
    cleaned = _readable(session, location.search.removeprefix("?"), refused)
    if cleaned != location.search:
        location.search = cleaned


def _readable(session: Session, query: str, refused: list) -> str:
    """``?query`` without the values that cannot be read or ask for a spec beyond the limits."""
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    kept = []
    for name, text in pairs:
        problem = _unreadable(session, name, text)
        if problem:
            refused.append(problem)
        else:
            kept.append((name, text))
    if len(kept) == len(pairs):
        return "?" + query if query else ""
    return "?" + urllib.parse.urlencode(kept) if kept else ""


def _unreadable(session: Session, name: str, text: str) -> str:
    """Why the query value ``text`` of ``name`` cannot be read, or ""."""
    spec = name == SYNCED["architecture"]["spec"]
    if spec and (problem := _spec_problem(spec_input.check_text, text, session.limits)):
        return problem  # before Panel reads it: its JSON and Python readers recurse
    try:
        value = parse_query("?" + urllib.parse.urlencode({name: text})).get(name)
    except Exception:  # e.g. int("²"): Panel reads "²".isdigit() as a number
        return f"{name}={_shown(text)} is not a valid value of {name}"
    if spec:  # the spec as Panel reads it (it writes lists back to the URL as Python literals)
        return _spec_problem(spec_input.check, value, session.limits)
    return _kind_problem(session, name, value)


def _kind_problem(session: Session, query: str, value) -> str:
    """Why ``value`` of ``query``, which param would take, is refused anyway, or "".

    param takes ``True`` for a number (it is the integer 1), ``256.0`` for the choice 256
    (they are equal) and a list holding a choice many times; the views would compute with
    them (a float width, thousands of copies of one alpha).
    """
    if query not in QUERIES:
        return ""
    owner, name = QUERIES[query]
    parameter = getattr(session, owner).param[name]
    if isinstance(parameter, param.ListSelector):
        items = value if isinstance(value, list) else [value]
        fits = (len(items) <= len(parameter.objects)
                and not any(_wrong_kind(v, parameter.objects) for v in items)
                and all(items.index(v) == i for i, v in enumerate(items)))
        return "" if fits else _list_reason(parameter, value, query)
    if isinstance(parameter, param.Selector):
        wrong = _wrong_kind(value, parameter.objects)
    else:
        wrong = isinstance(parameter, param.Number) and isinstance(value, bool)
    return f"{query}={_shown(value)} is not a valid value of {query}" if wrong else ""


def _wrong_kind(value, objects) -> bool:
    """``value`` is a bool or a float where ``objects`` hold neither."""
    if isinstance(value, bool):
        return not any(isinstance(o, bool) for o in objects)
    integers = all(isinstance(o, int) and not isinstance(o, bool) for o in objects)
    return isinstance(value, float) and bool(objects) and integers


def _list_reason(parameter, value, query: str) -> str:
    choices = ", ".join(f"{o:g}" if isinstance(o, float) else str(o) for o in parameter.objects)
    return (f"{query}={_shown(value)} is not a valid value of {query}: a list of distinct "
            f"values among {choices}")


def _spec_problem(check, value, limits) -> str:
    try:
        check(value, limits)
    except ValueError as err:
        return f"spec: {err}"
    return ""


def _apply_each(session: Session, target, parameters: dict, refused: list, values: dict) -> None:
    """Apply what can be applied one by one; note the refused values."""
    for name, value in values.items():
        try:
            setattr(target, name, value)
        except (ValueError, TypeError):
            refused.append(_reason(session, target, name, value, parameters[name]))


def _reason(session: Session, target, name: str, value, query: str) -> str:
    """Why ``value`` of parameter ``name`` (``query`` in the link) was refused."""
    limit = LIMITED.get(query)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if limit and number and value > getattr(session.limits, limit):
        return f"{query}={_shown(value)} is beyond the limit {session.limits.describe(limit)}"
    if query == TEACHING["lesson"]:
        return (f"{query}={_shown(value)} is not a lesson; the lessons are: "
                + ", ".join(o for o in target.param[name].objects if o))
    if isinstance(target.param[name], param.ListSelector):
        return _list_reason(target.param[name], value, query)
    low, high = getattr(target.param[name], "bounds", None) or (None, None)
    if number and ((low is not None and value < low) or (high is not None and value > high)):
        return f"{query}={_shown(value)} is outside the range {low} to {high}"
    return f"{query}={_shown(value)} is not a valid value of {query}"


def _shown(value, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters (a link can hold a megabyte)."""
    try:
        text = repr(value)
    except ValueError:  # an integer of more than 4300 digits
        return "<a number with more than 4300 digits>"
    return text if len(text) <= limit else text[:limit - 3] + "..."
