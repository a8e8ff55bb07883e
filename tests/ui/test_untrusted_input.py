"""A crafted link or layer name never runs script in a visitor's page, and shows literally.

Before, six crafted links fired alert() dialogs: URL values, layer names and argument
values reached Alert/Markdown/Str panes, which the browser renders as HTML.
"""
import json
import time
import urllib.parse
import urllib.request

from .conftest import open_app, screenshot

PAYLOAD = "<img src=x onerror=alert({})>"


def _watch_dialogs(page) -> list:
    dialogs = []

    def dismiss(dialog):
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return dialogs


def _link(**query) -> str:
    return "?" + urllib.parse.urlencode(
        {k: json.dumps(v) if isinstance(v, list) else v for k, v in query.items()})


def _shown(page, css: str, text: str) -> None:
    """``text`` appears, as written, in the element of class ``css`` (no element made of it)."""
    page.locator(css).get_by_text(text).first.wait_for(timeout=120_000)
    assert page.locator(f"{css} img").count() == 0


def test_crafted_links_show_their_text_and_run_nothing(page, server):
    dialogs = _watch_dialogs(page)
    page.goto(f"{server}/main" + _link(dataset=PAYLOAD.format(1), mode=PAYLOAD.format(2)))
    _shown(page, ".session-notice", f"dataset='{PAYLOAD.format(1)}' is not a valid value of dataset")
    _shown(page, ".session-notice", f"mode='{PAYLOAD.format(2)}' is not a valid value of mode")
    page.goto(f"{server}/main" + _link(spec=[[PAYLOAD.format(3), {"*a*": "[x](javascript:alert(4))"}],
                                             ["Dense", {"out_dim": 1}]]))
    _shown(page, ".layer-error", f"unknown layer '{PAYLOAD.format(3)}'")
    _shown(page, ".layer-row", f'["{PAYLOAD.format(3)}", {{"*a*": "[x](javascript:alert(4))"}}]')
    page.goto(f"{server}/main" + _link(spec=[["Dense", {"out_dim": PAYLOAD.format(5)}],
                                             ["Dense", {"out_dim": 1}]]))
    _shown(page, ".layer-error", f"Dense(out_dim='{PAYLOAD.format(5)}'): out_dim must be an integer")
    page.wait_for_timeout(1500)
    screenshot(page, "untrusted_link")
    assert dialogs == []


def test_a_crafted_layer_name_in_the_json_box_shows_literally(page, server):
    dialogs = _watch_dialogs(page)
    open_app(page, server)
    page.locator(".card-stack").get_by_text("Spec as JSON").click()
    box = page.locator(".spec-json textarea")
    box.fill(json.dumps([[PAYLOAD.format(6), {}], ["Dense", {"out_dim": 1}]]))
    box.press("Tab")  # the text reaches the server on change
    page.wait_for_timeout(500)
    page.locator(".apply-json button").click()
    _shown(page, ".layer-error", f"unknown layer '{PAYLOAD.format(6)}'")
    box.fill('[["Dense", {"out_dim": 8}], ["FanOut", {"num": 100000}]]')
    box.press("Tab")
    page.wait_for_timeout(500)
    page.locator(".apply-json button").click()
    _shown(page, ".editor-notice", "Spec (JSON): layer 1 (FanOut): FanOut(num=100000): num is "
                                   "beyond the limit max_fan_out = 16")
    page.wait_for_timeout(1500)
    screenshot(page, "untrusted_json_box")
    assert dialogs == []


def _live(server: str) -> None:
    with urllib.request.urlopen(f"{server}/liveness", timeout=5) as response:
        assert response.status == 200


def test_links_that_never_rendered_render_with_their_reason(page, server):
    """Each link opens the page with the reason in the notice, and the server stays live:
    FanOut(num=100000) held the event loop for minutes before; the others showed nothing."""
    fan_out = [["Dense", {"out_dim": 8}], ["FanOut", {"num": 100000}], ["FanInSum", {}],
               ["Dense", {"out_dim": 1}]]
    links = {_link(spec=fan_out): "FanOut(num=100000): num is beyond the limit max_fan_out = 16",
             "?n_train=%C2%B2": "n_train='²' is not a valid value of n_train",
             "?seed=" + "9" * 4301: "is not a valid value of seed",
             "?spec=" + "[" * 20_000: "spec: the spec text nests lists and objects 20,000 deep",
             f"?network_seed={2 ** 70}": "network_seed=1180591620717411303424 is outside the range"}
    for query, reason in links.items():
        start = time.perf_counter()
        page.goto(f"{server}/main{query}")
        _shown(page, ".session-notice", reason)
        assert time.perf_counter() - start < 60, query
        _live(server)
    screenshot(page, "untrusted_seed_link")
