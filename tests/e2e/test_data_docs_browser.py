"""Data Docs in headless Debian Chromium with the network cut: every page of a real site loads from file:// with no
request leaving the machine, no missing file, no script error, and renders styled (Bootstrap, Font Awesome, jQuery
with bootstrap-table, Vega)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import pytest

from nightcast.data_docs import write_site
from nightcast.stage_options import Limits
from tasks.prices.validate import validate_for_docs
from tests.e2e.conftest import chromium

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tasks" / "prices"))
from test_validate import MIN_ROWS, prices

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NO_NAMES = "--host-resolver-rules=MAP * ~NOTFOUND"  # no name resolves: nothing could load from the internet anyway
STYLED = """async () => {
    await document.fonts.ready;
    const navbar = document.querySelector('.navbar');
    const icon = document.querySelector('i.fas, i.fa');
    return {
        navbar: navbar && getComputedStyle(navbar).display,
        icon_font: icon && getComputedStyle(icon, '::before').fontFamily,
        icon_font_loaded: [...document.fonts].some(f => f.family.includes('Font Awesome') && f.status === 'loaded'),
        scripts: [typeof jQuery, typeof (window.jQuery && jQuery.fn.bootstrapTable), typeof (window.jQuery &&
            jQuery.fn.tooltip), typeof (window.vega && vega.View), typeof (window.vegaLite && vegaLite.compile),
            typeof vegaEmbed],
    };
}"""


@pytest.fixture
def browser():
    """Headless Debian Chromium in which no host name resolves."""
    with chromium(NO_NAMES) as browser:
        yield browser


def test_data_docs_render_styled_with_no_network(tmp_path: Path, browser) -> None:
    frame = prices(60).drop(index=range(20, 40)).reset_index(drop=True)  # a gap: a failed expectation
    page_path = write_site(validate_for_docs(frame, MIN_ROWS, Limits(today=date(2030, 1, 1)))[1], tmp_path / "docs")
    pages = [tmp_path / "docs" / "index.html", tmp_path / "docs" / "expectations" / "nightcast_prices.html", page_path]
    context = browser.new_context(offline=True)
    outside, failed, errors, icons = [], [], [], []
    context.route("**/*", lambda route: outside.append(route.request.url) or route.abort())
    context.route("file://**", lambda route: route.continue_())
    tab = context.new_page()
    tab.on("requestfailed", lambda request: failed.append(request.url))
    tab.on("pageerror", lambda error: errors.append(str(error)))
    for path in pages:
        tab.goto(path.as_uri(), wait_until="load")
        styled = tab.evaluate(STYLED)
        assert styled["navbar"] == "flex", (path, styled)  # Bootstrap's .navbar; a bare <nav> is block
        assert styled["scripts"] == ["function"] * 6, (path, styled)
        if styled["icon_font"] is not None:  # the suite's page shows no icon
            icons.append(path)
            assert "Font Awesome" in styled["icon_font"] and styled["icon_font_loaded"], (path, styled)
    assert icons == [pages[0], pages[2]]
    assert (outside, failed, errors) == ([], [], [])
