"""app/views/plotting.Glyphs: where a write to a figure's data goes."""
import types

from app.views import plotting


def _glyphs(monkeypatch, document):
    monkeypatch.setattr(plotting, "session_document", lambda: document)
    glyphs = plotting.Glyphs()
    fig = plotting.figure("f", "x", "y", (0, 1))
    glyphs.add("line", fig.line(x="x", y="y", source=plotting.source(x=[], y=[])))
    glyphs.add("range", fig.y_range)
    return glyphs, fig


def test_a_figure_not_yet_in_the_page_is_written_on_the_pages_event_loop(monkeypatch):
    """Panel adds a new figure to the page's document on the event loop: a job thread that
    wrote into it directly could do so while it is being added (unlocked), and the page
    never got the data. Writes go through the page's document whether or not the figure
    is in it yet."""
    page = types.SimpleNamespace(session_context=object())
    scheduled = []
    monkeypatch.setattr(plotting, "in_document", lambda doc, write: scheduled.append((doc, write)))
    glyphs, fig = _glyphs(monkeypatch, page)
    assert fig.document is None
    assert glyphs.patch({"line": {"x": [0, 1], "y": [2, 3]}})
    assert glyphs.set("range", start=-1)
    assert glyphs.clear(["line"])
    assert [doc for doc, _ in scheduled] == [page] * 3
    source = fig.renderers[0].data_source
    assert source.data["x"] == []  # nothing written from this thread
    scheduled[0][1]()  # on the event loop
    assert list(source.data["y"]) == [2, 3]


def test_without_a_served_page_writes_happen_at_once(monkeypatch):
    glyphs, fig = _glyphs(monkeypatch, None)
    assert glyphs.patch({"line": {"x": [0, 1], "y": [2, 3]}})
    assert list(fig.renderers[0].data_source.data["y"]) == [2, 3]
