"""Real GX Data Docs sites (a ticker's, validated twice, and a night's panel) load no script, stylesheet or image
from the internet, and every local file a page loads exists. Links to GX's website (<a href>) may stay."""

from __future__ import annotations

import re
import sys
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flows.prices import write_panel_docs
from nightcast.stage_options import Limits
from tasks.prices.panel_validate import validate_panel

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_validate import MIN_ROWS, build_data_docs, prices

LIMITS = Limits(today=date(2030, 1, 1))
LOADED = {("script", "src"), ("link", "href"), ("img", "src"), ("iframe", "src"), ("source", "src")}


class Loads(HTMLParser):
    """The urls a page loads by itself: script/link/img sources and css url()s."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value for name, value in attrs if (tag, name) in LOADED and value]
        self.urls += re.findall(r"url\(['\"]?([^'\")]+)", dict(attrs).get("style") or "")

    def handle_data(self, data: str) -> None:
        if self.lasttag == "style":
            self.urls += re.findall(r"url\(['\"]?([^'\")]+)", data)


def loads_of(page: Path) -> list[str]:
    parser = Loads()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.urls


def check_site(site: Path) -> int:
    """Assert no page of the site loads from the internet and each local load exists; returns the pages' count."""
    pages = sorted(site.rglob("*.html"))
    for page in pages:
        urls = loads_of(page)
        assert urls, page
        remote = [url for url in urls if urlsplit(url).scheme or url.startswith("//")]
        assert remote == [], (page, remote)
        missing = [url for url in urls if not (page.parent / unquote(urlsplit(url).path)).is_file()]
        assert missing == [], (page, missing)
        assert "static/offline/bootstrap@4.3.1/bootstrap.min.css" in " ".join(urls), page
    return len(pages)


def test_a_tickers_site_loads_nothing_from_the_internet(tmp_path: Path) -> None:
    gap = prices(60).drop(index=range(20, 40)).reset_index(drop=True)  # fails the gap expectation
    first = build_data_docs(gap, MIN_ROWS, LIMITS, tmp_path / "ticker=GOOG")
    second = build_data_docs(prices(), MIN_ROWS, LIMITS, tmp_path / "ticker=GOOG")
    assert first != second
    assert check_site(tmp_path / "ticker=GOOG") == 3  # index, the suite, a result (GX rebuilt the site)


def test_a_panels_sites_load_nothing_from_the_internet(tmp_path: Path) -> None:
    frames = {"AAA": prices(40, seed=1), "BBB": prices(40, seed=2), "CCC": prices(5, seed=3)}  # CCC: alone
    frames = {ticker: frame.assign(ticker=ticker) for ticker, frame in frames.items()}
    done = validate_panel(frames, MIN_ROWS, LIMITS)
    pages = write_panel_docs(done, tmp_path / "panel", lambda t: tmp_path / f"ticker={t}")
    assert pages["AAA"] == pages["BBB"] and pages["CCC"].is_relative_to(tmp_path / "ticker=CCC")
    assert check_site(tmp_path / "panel") == 3  # index, the suite, the panel's result
    assert check_site(tmp_path / "ticker=CCC") == 3
