"""One name per concept across the layers (#27): no public function or class of the product (nightcast/, tasks/,
flows/, cli/) is defined under the same name in two modules, and no two of its modules share a file name. A
flow's step that runs a stage over many tickers is named for what it does to them (`reconcile_panel` runs
`reconcile` per ticker), not after the stage. The one repetition allowed is the command line's subcommand
protocol: every `<name>_command.py` provides `register` (and may provide `command`)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from tests.structure.walker import PRODUCT, ROOT, modules

PROTOCOL = {"register", "command"}


def definitions(root: Path, folders: tuple[str, ...] = PRODUCT) -> dict[str, list[str]]:
    """Each public top-level function or class name, with the files that define it."""
    found: dict[str, list[str]] = defaultdict(list)
    for module in modules(folders, root):
        for node in module.tree.body:
            named = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if named and not node.name.startswith("_"):
                found[node.name].append(module.relative)
    return found


def repeated(root: Path, folders: tuple[str, ...] = PRODUCT) -> dict[str, list[str]]:
    return {name: files for name, files in definitions(root, folders).items() if len(files) > 1}


def test_no_name_is_defined_in_two_modules():
    repeats = {name: files for name, files in repeated(ROOT).items() if name not in PROTOCOL}
    assert repeats == {}


def test_only_subcommand_modules_use_the_protocol_names():
    for name in PROTOCOL:
        assert all(f.startswith("cli/") and f.endswith("_command.py") for f in definitions(ROOT)[name]), name


def test_no_two_modules_share_a_file_name():
    names = defaultdict(list)
    for module in modules(PRODUCT):
        if module.path.name != "__init__.py":
            names[module.path.name].append(module.relative)
    assert {name: files for name, files in names.items() if len(files) > 1} == {}


def test_the_check_sees_a_planted_repeat(tmp_path):
    planted = {"low": "def fit(x):\n    return x\n", "high": "class Fit:\n    pass\ndef fit(y):\n    pass\n"}
    for folder, text in planted.items():
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "m.py").write_text(text)
    assert repeated(tmp_path, ("low", "high")) == {"fit": ["low/m.py", "high/m.py"]}
