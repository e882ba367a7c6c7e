"""Data Docs offline: the CDN urls GX's templates write are rewritten to the bundled copies, which ship in the wheel."""

from __future__ import annotations

import glob
import tomllib
from pathlib import Path

from nightcast.data_docs import ASSET_LIST, ASSETS, OFFLINE, install_assets, make_offline, offline_html

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP_JS = "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js"
PAGE = f"""<html><head>
<link rel="stylesheet" href="https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>
<link rel="shortcut icon" href="../../static/images/favicon.ico" type="image/x-icon"/>
<script src="{BOOTSTRAP_JS}" integrity="sha384-JjSm" crossorigin="anonymous"></script>
<style>.navbar-brand a {{ background: url('https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/full_logo_dark.png') }}</style>
</head><body>
<img src="https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=20261204T021630Z&amp;dataContextId=x"/>
<a href="https://greatexpectations.io">GX</a> <a href="https://docs.example/integrity="></a>
</body></html>"""  # noqa: E501


def test_cdn_tags_point_at_the_sites_copies() -> None:
    html = offline_html(PAGE, "../../../")
    assert 'href="../../../static/offline/bootstrap@4.3.1/bootstrap.min.css"' in html
    assert '<script src="../../../static/offline/bootstrap@4.3.1/bootstrap.min.js"></script>' in html
    assert 'href="../../../static/images/favicon.ico"' in html  # GX's short-by-one folder link, set right
    assert "url('../../../static/images/logo-long.png')" in html
    assert 'src="../../../static/images/logo-long.png"/>' in html
    assert "integrity" not in html.split("<body>")[0] and "crossorigin" not in html
    assert '<a href="https://greatexpectations.io">GX</a> <a href="https://docs.example/integrity="></a>' in html


def test_the_site_root_itself_gets_plain_relative_urls() -> None:
    html = offline_html(PAGE, "")
    assert 'href="static/offline/bootstrap@4.3.1/bootstrap.min.css"' in html
    assert 'href="static/images/favicon.ico"' in html


def test_rewriting_twice_changes_nothing() -> None:
    once = offline_html(PAGE, "../")
    assert offline_html(once, "../") == once


def test_an_unknown_cdn_url_is_left_alone() -> None:
    tag = '<script src="https://cdn.example/new-library@1.js" integrity="sha384-x" crossorigin="anonymous"></script>'
    assert offline_html(tag, "../") == tag


def test_every_listed_asset_and_its_license_is_bundled() -> None:
    for asset in ASSET_LIST:
        assert (ASSETS / asset.local).is_file(), asset
        assert (ASSETS / asset.local.split("/")[0] / "LICENSE").is_file(), asset
    assert len({asset.url for asset in ASSET_LIST}) == len(ASSET_LIST)


def test_font_awesomes_woff2_fonts_are_where_its_stylesheet_looks() -> None:
    [css] = [a for a in ASSET_LIST if a.local.endswith("all.min.css")]
    text = (ASSETS / css.local).read_text()
    fonts = {part.split(")")[0] for part in text.split("url(")[1:] if ".woff2" in part.split(")")[0]}
    assert len(fonts) == 4
    assert all((ASSETS / css.local).parent.joinpath(font).resolve().is_file() for font in fonts)


def test_the_wheel_carries_every_bundled_file() -> None:
    """pyproject's package-data globs (as setuptools expands them, recursively) cover the whole folder."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["nightcast"]
    packaged = {
        Path(p) for pattern in patterns for p in glob.glob(pattern, root_dir=ROOT / "nightcast", recursive=True)
    }
    bundled = {p.relative_to(ROOT / "nightcast") for p in ASSETS.rglob("*") if p.is_file()}
    assert bundled and bundled <= packaged


def test_install_and_rewrite_a_site(tmp_path: Path) -> None:
    (tmp_path / "validations" / "s").mkdir(parents=True)
    (tmp_path / "index.html").write_text(PAGE)
    (tmp_path / "validations" / "s" / "run.html").write_text(PAGE)
    (tmp_path / "notes.txt").write_text(BOOTSTRAP_JS)
    assert make_offline(tmp_path) == 2
    assert make_offline(tmp_path) == 0
    assert (
        'src="../../static/offline/bootstrap@4.3.1/bootstrap.min.js"'
        in (tmp_path / "validations/s/run.html").read_text()
    )
    assert (tmp_path / "notes.txt").read_text() == BOOTSTRAP_JS
    copied = {p.relative_to(tmp_path / OFFLINE) for p in (tmp_path / OFFLINE).rglob("*") if p.is_file()}
    assert copied == {p.relative_to(ASSETS) for p in ASSETS.rglob("*") if p.is_file()}


def test_installing_again_repairs_a_damaged_copy(tmp_path: Path) -> None:
    install_assets(tmp_path)
    [asset, *_] = ASSET_LIST
    (tmp_path / OFFLINE / asset.local).write_text("truncated")
    install_assets(tmp_path)
    assert (tmp_path / OFFLINE / asset.local).read_bytes() == (ASSETS / asset.local).read_bytes()
