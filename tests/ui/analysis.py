"""Helpers for the analysis views' browser tests: open a tab by URL, wait for its data."""
from __future__ import annotations

from .bokeh import column
from .conftest import ENTRIES

#: light sweep settings for tests (the first sweep in a server compiles once per width)
#: the first page of a new setting computes its kernels before the page loads
GOTO_TIMEOUT = 180_000
LIGHT_SWEEP = "sweep_widths=%5B8%2C64%2C512%5D&sweep_seeds=2&sweep_steps=20&samples=300"


def wait_for_data(page, name: str, key: str = "y", timeout: float = 240_000,
                  nonzero: bool = False) -> list:
    """Wait until the named glyph's column ``key`` holds a number (``nonzero``: one that is
    not 0, past a placeholder); return that column."""
    page.wait_for_function(
        """([name, key, nonzero]) => {
            """ + ENTRIES + """
            const doc = window.Bokeh && Bokeh.documents.length && Bokeh.documents[0];
            const source = doc && doc.get_model_by_name(name + ':source');
            if (!source) return false;
            const cols = entries(source.data);
            const found = cols.find(([k]) => k === key);
            if (!found) return false;
            const flat = (v) => (v && typeof v === 'object' && v.length !== undefined)
                ? Array.from(v).flatMap(flat) : [v];
            const values = flat(found[1]);
            return values.some(v => typeof v === 'number' && !isNaN(v) && (!nonzero || v !== 0));
        }""", arg=[name, key, nonzero], timeout=timeout)
    return column(page, name, key)


def open_view(page, base: str, query: str, glyph: str, key: str = "y",
              timeout: float = 240_000) -> list:
    """Load the app at ``?query`` and wait for ``glyph`` to hold data."""
    page.goto(f"{base}/main?{query}", timeout=GOTO_TIMEOUT)
    return wait_for_data(page, glyph, key, timeout)


def set_number(page, css_class: str, value) -> None:
    """Type a value into a NumericInput widget and commit it (Enter), as a user does."""
    field = page.locator(f".{css_class} input").first
    field.fill(str(value))
    field.press("Enter")


def flat(values) -> list:
    """Nested lists (multi-line glyphs, images) as one flat list of numbers."""
    out = []
    for v in values:
        out.extend(flat(v) if isinstance(v, list) else [v])
    return out


def plot_titles(page) -> list[str]:
    """The titles of every Bokeh plot on the page (drawn on the canvas, so read the models)."""
    return page.evaluate("""() => [...Bokeh.documents[0].all_models]
        .filter(m => m.type === 'Title' || (m.constructor && m.constructor.__name__ === 'Title'))
        .map(m => m.text)""")


def wait_idle(page, slug: str, timeout: float = 240_000) -> None:
    """Wait until the view's background job is done (its stop button hidden)."""
    page.locator(f".{slug}-job-stop").first.wait_for(state="hidden", timeout=timeout)
