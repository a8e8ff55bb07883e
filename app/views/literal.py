"""Text that may come from a user (a link, the JSON box, an engine message quoting them),
made safe to put in a pane.

Panel's Alert, Markdown and Str panes all end as HTML in the browser (Str escapes once for
transport and the page reads it back as HTML), so a layer named
``<img src=x onerror=alert(1)>`` would run in a visitor's page, and ``*``, ``_`` or ``[..](..)``
would be read as Markdown. ``literal`` replaces every ASCII punctuation character by its
character reference: HTML and Markdown read none of it as markup, and the browser shows
the text exactly as given.
"""
from __future__ import annotations

import string

_REFERENCES = str.maketrans({c: f"&#{ord(c)};" for c in string.punctuation})


def literal(text) -> str:
    """``text`` for an Alert, Markdown or Str pane: shown as written, never interpreted."""
    return str(text).translate(_REFERENCES)
