"""Every stylesheet from our own server, also after updates to views in hidden tabs.

Panel 1.9 rewrites a component's stylesheet links with its document's ``dist_url`` and,
when the component's model is in no document, with its CDN's address instead. The views
of a tab not shown are such models (``pn.Tabs(dynamic=True)`` keeps them detached), and
the stylesheet objects are shared by a session's components, so one progress update in a
hidden tab pointed the whole page's ``loading.css`` at cdn.holoviz.org: a browser
without internet logged errors and drew loading states unstyled.

``serve_stylesheets_locally()`` replaces that fallback by the server's own path whenever
Panel is not in CDN mode (a served app; a saved HTML file or a notebook still use the
CDN). tests/app/test_local_resources.py shows the case; tests/ui/test_offline.py checks
every tab and job in a browser.
"""
from __future__ import annotations

import panel.reactive
from panel.io import resources

_panel_patch_stylesheet = resources.patch_stylesheet


def _patch_stylesheet(stylesheet, dist_url: str) -> None:
    if dist_url == resources.CDN_DIST and not resources.use_cdn():
        dist_url = resources.get_dist_path()
    _panel_patch_stylesheet(stylesheet, dist_url)


def serve_stylesheets_locally() -> None:
    """Install the local fallback (idempotent; Panel looks the function up in two modules)."""
    resources.patch_stylesheet = _patch_stylesheet
    panel.reactive.patch_stylesheet = _patch_stylesheet
