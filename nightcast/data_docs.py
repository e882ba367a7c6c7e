"""Great Expectations Data Docs readable offline: GX's page templates load Bootstrap, jQuery, Font Awesome, Vega and
friends from CDNs, and its logo from S3. nightcast ships those files (nightcast/static/data_docs/, the exact
versions the templates name, fetched by scripts/vendor_data_docs.py) and, after GX writes a site, copies them into
the site's static/offline/ and points every page at the copies by relative URLs (decision 0009).

The validate stage only validates (in memory); `write_site` writes a validation's pages into a site folder."""

from __future__ import annotations

import copy
import os
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from nightcast.files import write_then_rename
from nightcast.gx_contexts import LOCK, Validated, ephemeral, gx_module

ASSETS = Path(__file__).resolve().parent / "static" / "data_docs"
OFFLINE = "static/offline"
"""Where a site keeps its copy of the assets, relative to its index.html."""
SITE = "nightcast"
"""The name of the one Data Docs site a folder holds."""


@dataclass(frozen=True)
class Asset:
    """One file a GX page loads from the internet, and where nightcast keeps its copy."""

    url: str  # exactly as GX's templates write it
    package: str  # the npm package@version it comes from
    source: str  # its path inside that package
    local: str  # its path under ASSETS (and under a site's static/offline/)


def _npm(package: str, files: dict[str, str], flat: bool = True) -> tuple[Asset, ...]:
    """The assets of one npm package (CDN url -> path inside the package), under a folder named after it: by
    file name, or (flat=False) by their path inside the package."""
    folder = package.lstrip("@").replace("/", "-")
    return tuple(
        Asset(url, package, source, f"{folder}/{Path(source).name if flat else source}")
        for url, source in files.items()
    )


_UNPKG_TABLE = "https://unpkg.com/bootstrap-table@"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs/"
ASSET_LIST: tuple[Asset, ...] = (
    *_npm("bootstrap@4.3.1", {
        "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "dist/css/bootstrap.min.css",
        "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "dist/js/bootstrap.min.js",
    }),
    *_npm("bootstrap-table@1.19.1", {
        f"{_UNPKG_TABLE}1.19.1/dist/bootstrap-table.min.css": "dist/bootstrap-table.min.css",
        f"{_UNPKG_TABLE}1.19.1/dist/bootstrap-table.min.js": "dist/bootstrap-table.min.js",
        f"{_UNPKG_TABLE}1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    }),
    *_npm("bootstrap-table@1.19.0", {
        f"{_UNPKG_TABLE}1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
            "dist/extensions/filter-control/bootstrap-table-filter-control.css",
        f"{_UNPKG_TABLE}1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
            "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    }),
    *_npm("bootstrap-datepicker@1.9.0", {
        f"{_CDNJS}bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "dist/css/bootstrap-datepicker.min.css",
        f"{_CDNJS}bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "dist/js/bootstrap-datepicker.min.js",
    }),
    *_npm("@forevolve/bootstrap-dark@1.1.0", {  # the minified build of the same file
        "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
            "dist/css/bootstrap-prefers-dark.min.css",
    }),
    *_npm("@fortawesome/fontawesome-free@6.6.0", {  # css/ beside webfonts/, as its url(../webfonts/...) expects
        f"{_CDNJS}font-awesome/6.6.0/css/all.min.css": "css/all.min.css",
    }, flat=False),
    *_npm("jquery@3.7.1", {"https://code.jquery.com/jquery-3.7.1.min.js": "dist/jquery.min.js"}),
    *_npm("popper.js@1.12.9", {f"{_CDNJS}popper.js/1.12.9/umd/popper.min.js": "dist/umd/popper.min.js"}),
    # "@5" and "@6" are ranges the CDN resolves to the newest release: these were the newest on 2026-12-04
    *_npm("vega@5.33.1", {"https://cdn.jsdelivr.net/npm/vega@5": "build/vega.min.js"}),
    *_npm("vega-lite@5.23.0", {"https://cdn.jsdelivr.net/npm/vega-lite@5": "build/vega-lite.min.js"}),
    *_npm("vega-embed@6.29.0", {"https://cdn.jsdelivr.net/npm/vega-embed@6": "build/vega-embed.min.js"}),
)  # fmt: skip
_LOCAL = {a.url: a.local for a in ASSET_LIST}
_TAG = re.compile(r"<(?:script|link)\b[^>]*>")
_URL = re.compile(r'\b(src|href)="(https?://[^"]+)"')
_CHECKS = re.compile(r'\s(?:integrity|crossorigin)="[^"]*"')  # SRI and CORS: a file:// page cannot use them
_STATIC = re.compile(r'\b(src|href)="(?:\.{1,2}/)*static/')  # GX's favicon link on a result page is a folder short
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/[\w.-]+\.png[^\"')\s]*")


def _tag_offline(tag: str, root: str) -> str:
    """A <script>/<link> tag with a known CDN url pointing at the site's copy, without its SRI/CORS attributes."""
    match = _URL.search(tag)
    if not match or match.group(2) not in _LOCAL:
        return tag
    tag = tag.replace(match.group(0), f'{match.group(1)}="{root}{OFFLINE}/{_LOCAL[match.group(2)]}"')
    return _CHECKS.sub("", tag)


def offline_html(html: str, root: str) -> str:
    """A page's html with its CDN assets and GX logos local, and its links to the site's static/ right; root is
    the relative url of the site's folder."""
    html = _TAG.sub(lambda m: _tag_offline(m.group(0), root), html)
    html = _STATIC.sub(lambda m: f'{m.group(1)}="{root}static/', html)
    return _LOGO.sub(f"{root}static/images/logo-long.png", html)


def install_assets(site: Path) -> None:
    """Copy the bundled assets into the site's static/offline/ (files already there with the same size stay)."""
    for source in ASSETS.rglob("*"):
        target = site / OFFLINE / source.relative_to(ASSETS)
        if source.is_file() and not (target.is_file() and target.stat().st_size == source.stat().st_size):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)


def _writer(text: str) -> Callable[[Path], None]:
    """A function that writes text to a path (for write_then_rename)."""

    def write(path: Path) -> None:
        path.write_text(text, encoding="utf-8")

    return write


def make_offline(site: Path) -> int:
    """Make every page of a GX Data Docs site load only local files; returns how many pages were rewritten."""
    install_assets(site)
    changed = 0
    for page in sorted(site.rglob("*.html")):
        html = page.read_text(encoding="utf-8")
        root = Path(os.path.relpath(site, page.parent)).as_posix() + "/"
        offline = offline_html(html, "" if root == "./" else root)
        if offline != html:
            write_then_rename(page, _writer(offline))
            changed += 1
    return changed


def _site(folder: Path) -> dict:
    """GX's configuration of a Data Docs site written under folder."""
    return {
        SITE: {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        }
    }


def write_site(validated: Validated, folder: Path) -> Path:
    """Write a validation's pages (its result and its suite) into the Data Docs site under folder, as GX's
    UpdateDataDocsAction would, readable offline; earlier results in the folder stay listed on its index.
    Returns the result's page."""
    from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier

    folder = Path(folder).resolve()
    suite = validated.suite
    with LOCK:
        context = ephemeral(_site(folder))
        expectations = [copy.copy(e) for e in suite.expectations]  # an expectation belongs to one suite
        context.suites.add(gx_module().ExpectationSuite(name=suite.name, expectations=expectations))
        context.validation_results_store.set(validated.key, validated.result)
        context.build_data_docs(
            site_names=[SITE], resource_identifiers=[validated.key, ExpectationSuiteIdentifier(name=suite.name)]
        )
        url = context.get_docs_sites_urls(resource_identifier=validated.key, site_name=SITE)[0]["site_url"]
        make_offline(folder)
    return Path(url2pathname(urlparse(url).path))
