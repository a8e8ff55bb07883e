"""Reading what the browser shows: Bokeh model state by the names the app gives its glyphs."""
from __future__ import annotations

import json

from .conftest import ENTRIES

_DATA = """(name) => {
  """ + ENTRIES + """
  const source = Bokeh.documents[0].get_model_by_name(name + ':source');
  if (!source) return null;
  const out = {};
  for (const [key, value] of entries(source.data)) out[key] = Array.from(value, v =>
      (v && typeof v === 'object' && v.length !== undefined) ? Array.from(v) : v);
  return JSON.stringify(out);
}"""


def data(page, name: str) -> dict | None:
    """The ColumnDataSource columns of the glyph named ``name`` (lists of numbers)."""
    text = page.evaluate(_DATA, name)
    return None if text is None else json.loads(text)


def column(page, name: str, key: str = "y") -> list:
    """One column ("x", "y" or "y2") of a named glyph's data."""
    return (data(page, name) or {}).get(key, [])


def wait_for_change(page, name: str, before, key: str = "y", timeout: float = 30_000):
    """Wait until the named glyph's column is non-empty and differs from ``before``."""
    page.wait_for_function(
        """([name, before, key]) => {
            """ + ENTRIES + """
            const source = Bokeh.documents[0].get_model_by_name(name + ':source');
            if (!source) return false;
            const found = entries(source.data).find(([k]) => k === key);
            const col = Array.from(found ? found[1] : [], v =>
                (v && typeof v === 'object' && v.length !== undefined) ? Array.from(v) : v);
            return col.length > 0 && JSON.stringify(col) !== JSON.stringify(before);
        }""", arg=[name, before, key], timeout=timeout)
    return column(page, name, key)


def model_property(page, name: str, prop: str):
    """A property of the Bokeh model named ``name`` (e.g. a Span's ``location``), or None."""
    return page.evaluate("([name, prop]) => { const m = Bokeh.documents[0].get_model_by_name(name);"
                         " return m ? m[prop] : null }", [name, prop])


def slider_value(page, css_class: str) -> float:
    """The value a Panel slider shows in its title ("Label: value")."""
    title = page.locator(f".{css_class} .bk-slider-title").inner_text()
    return float(title.rsplit(":", 1)[1].replace(",", ""))


def press_slider(page, css_class: str, key: str, times: int = 1):
    """Move a Panel slider with the keyboard, as a user would; returns its handle."""
    handle = page.locator(f".{css_class} .noUi-handle")
    handle.focus()
    for _ in range(times):
        handle.press(key)
    return handle
