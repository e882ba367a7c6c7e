"""Fetch the files GX's Data Docs pages load from CDNs into nightcast/static/data_docs/ (run once per GX upgrade that
changes its templates; the output is committed). Each comes from the npm registry (`npm pack`), at the version the
template's URL names, with its package's license; nightcast/data_docs.py lists them.

Usage: python -m scripts.vendor_data_docs
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from nightcast.data_docs import ASSET_LIST, ASSETS

FONTS = {"@fortawesome/fontawesome-free@6.6.0": "webfonts/*.woff2"}
"""Extra files a stylesheet loads: every browser that runs these pages reads woff2, so the .ttf fallbacks stay out."""
MIT = """Copyright (C) {holder}

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated
documentation files (the "Software"), to deal in the Software without restriction, including without limitation
the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of the Software, and to
permit persons to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or substantial portions of
the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE
WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""
NO_LICENSE_FILE = {  # packages whose npm tarball has no license file: the license their package.json names
    "popper.js@1.12.9": lambda _: MIT.format(holder="Federico Zivolo 2017 (as in popper.min.js's header)"),
    "vega@5.33.1": lambda packed: (
        "Vega's npm package ships no license file; its package.json says BSD-3-Clause. "
        "It is by the same lab as Vega-Lite, under the same terms:\n\n"
        + (packed / "vega-lite@5.23.0" / "package" / "LICENSE").read_text()
    ),
}


def unpack(package: str, into: Path) -> Path:
    """`npm pack package` into a folder and extract it; returns the package's root."""
    into.mkdir(parents=True)
    name = subprocess.run(
        ["npm", "pack", package, "--silent"], cwd=into, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    with tarfile.open(into / name) as archive:
        archive.extractall(into, filter="data")
    return into / "package"


def license_text(package: str, root: Path, packed: Path) -> str:
    """The package's license file, or the text its package.json names."""
    files = sorted(root.glob("LICEN[CS]E*"))
    return files[0].read_text() if files else NO_LICENSE_FILE[package](packed)


def readme() -> str:
    """The folder's README: what each file is and where it came from."""
    lines = [
        "# Data Docs assets (vendored)",
        "",
        "Files Great Expectations' Data Docs pages load from CDNs, so a warehouse's pages render with no network",
        "(decision 0009). Fetched by `python -m scripts.vendor_data_docs` from the npm registry; each folder holds",
        "its package's license. Do not edit: rerun the script.",
        "",
        "| page URL | npm package | file |",
        "| --- | --- | --- |",
    ]
    lines += [f"| `{a.url}` | `{a.package}` | `{a.source}` |" for a in ASSET_LIST]
    lines += ["", *(f"Also from `{p}`: `{pattern}`." for p, pattern in FONTS.items())]
    return "\n".join(lines) + "\n"


def vendor() -> None:
    """Replace ASSETS by fresh copies of every listed file, their licenses and the README."""
    shutil.rmtree(ASSETS, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        packed = Path(tmp)
        packages = list(dict.fromkeys(a.package for a in ASSET_LIST))
        roots = {p: unpack(p, packed / p) for p in packages}
        for asset in ASSET_LIST:
            (ASSETS / asset.local).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(roots[asset.package] / asset.source, ASSETS / asset.local)
        for package, root in roots.items():
            folder = ASSETS / next(a.local for a in ASSET_LIST if a.package == package).split("/")[0]
            (folder / "LICENSE").write_text(license_text(package, root, packed))
            version = json.loads((root / "package.json").read_text())["version"]
            assert package.endswith(f"@{version}"), (package, version)
            for font in root.glob(FONTS.get(package, "-")):
                (folder / "webfonts").mkdir(exist_ok=True)
                shutil.copyfile(font, folder / "webfonts" / font.name)
    (ASSETS / "README.md").write_text(readme())


if __name__ == "__main__":
    vendor()
