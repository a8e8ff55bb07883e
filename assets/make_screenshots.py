"""The README's pictures, taken from the real app at its defaults: `make screenshots`.

Serves the app as the browser tests do (tests/ui/conftest.py: 127.0.0.1, a free port, the
default limits), opens each tab in headless Chromium, waits until its jobs are done and
saves the tab's views to assets/screenshots/<tab>.png, and the whole page of the default
view to assets/screenshot.png (`python assets/make_screenshots.py images kernels`: only
those tabs). The only thing changed from the defaults is the data of the
Classification tab (XOR), which draws only 2-D classification data. Takes a few minutes
(the Images tab's kernels alone take a minute on two cores).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.ui.analysis import wait_for_data, wait_idle  # noqa: E402
from tests.ui.conftest import CHROMIUM, FLAGS, open_app, serve, wait_for_members  # noqa: E402

OUT = ROOT / "assets" / "screenshots"
TIMEOUT = 900_000  # ms: a slow machine compiles everything once

#: tab title -> (file name, glyph and column that hold data once drawn, job bar slug)
TABS = {
    "Training dynamics": ("dynamics", "fs_mean", "y", None),
    "Convergence with width": ("convergence", "spec_distance_mean", "y", "convergence"),
    "Kernels": ("kernels", "angle_ntk_wide_trained", "ys", "kernel-angles"),
    "Output distribution": ("distribution", "dist_ks", "y", "distribution"),
    "Classification": ("classification", "cls_finite_mean", "image", None),
    "Images": ("images", "img_size_fc_inf", "y", "images"),
}


def _finite_done(page) -> None:
    """The finite ensemble trained (its bar is in the sidebar, shown with every tab)."""
    page.locator(".finite-stop").wait_for(state="hidden", timeout=TIMEOUT)


def _dynamics_done(page) -> None:
    """The default view: members and both loss curves drawn."""
    wait_for_members(page, timeout=TIMEOUT)
    _finite_done(page)
    wait_for_data(page, "loss_train", timeout=TIMEOUT)
    wait_for_data(page, "loss_finite_train", timeout=TIMEOUT)


def _shoot_tab(page, title: str) -> Path:
    name, glyph, key, job = TABS[title]
    page.locator(".bk-tab", has_text=title).click()
    if title == "Classification":
        page.locator("select:has(option[value='xor'])").select_option("xor")
    wait_for_data(page, glyph, key, timeout=TIMEOUT, nonzero=title == "Classification")
    if job:
        wait_idle(page, job, timeout=TIMEOUT)
    if title == "Training dynamics":
        _dynamics_done(page)
    if title == "Classification":
        _finite_done(page)
    page.wait_for_timeout(1500)  # the last patches drawn
    path = OUT / f"{name}.png"
    page.locator(".views").first.screenshot(path=str(path))
    return path


def main(names: list[str]) -> None:
    """Every picture, or only the tabs named (file names: dynamics, images, ...)."""
    titles = [t for t in TABS if not names or TABS[t][0] in names]
    OUT.mkdir(exist_ok=True)
    process, base = serve()  # the default limits, as `make serve`
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.set_default_navigation_timeout(TIMEOUT)  # the first page computes first
            open_app(page, base)
            _dynamics_done(page)
            page.wait_for_timeout(1500)
            if not names or "dynamics" in names:
                page.screenshot(path=str(ROOT / "assets" / "screenshot.png"))
                print("assets/screenshot.png")
            for title in titles:
                print(_shoot_tab(page, title).relative_to(ROOT))
            browser.close()
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main(sys.argv[1:])
