"""Stages take the small groups they read, never the whole Settings (#27): no module under tasks/ (its subpackages
too) imports nightcast.settings, at the top, inside a function or under TYPE_CHECKING, and no parameter of a
function there is annotated with Settings. The flows (and the command line's pre-flight) build each group from a
run's Settings with its from_settings (nightcast/stage_options.py) and pass it down; the ticker travels with the
ticker's own inputs (its RunInfo, its TickerInputs), not inside a group."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.structure.test_imports import imports_of
from tests.structure.walker import modules, tree

SETTINGS_MODULE = "nightcast.settings"
WORD = re.compile(r"\bSettings\b")


def settings_uses(path: Path, package: str = "tasks") -> list[str]:
    """Where a module reaches for the whole Settings: its imports of nightcast.settings, and the parameters
    annotated with Settings (a string annotation too)."""
    found = sorted(
        f"imports {name}"
        for name in imports_of(path, package)
        if name == SETTINGS_MODULE or name.startswith(SETTINGS_MODULE + ".")
    )
    for node in ast.walk(tree(path)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            arguments = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
            for argument in arguments:
                annotation = argument.annotation
                if annotation is not None and WORD.search(
                    annotation.value if isinstance(annotation, ast.Constant) else ast.unparse(annotation)
                ):
                    found.append(f"{node.name}({argument.arg}: Settings)")
    return found


def test_no_stage_module_takes_the_whole_settings():
    offenders = {module.relative: uses for module in modules(("tasks",)) if (uses := settings_uses(module.path))}
    assert offenders == {}


def test_the_check_sees_a_planted_settings_import_and_parameter(tmp_path):
    planted = {
        "typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from nightcast.settings import Settings\n"
        "def fit(closes, settings: 'Settings', horizon: int):\n    return closes\n",
        "inside.py": "def fit(closes):\n    from nightcast import settings\n    return settings\n",
        "clean.py": "from nightcast.stage_options import Fitting\n"
        "def fit(closes, fitting: Fitting):\n    return closes\n",
    }
    for name, text in planted.items():
        (tmp_path / name).write_text(text)
    assert settings_uses(tmp_path / "typed.py") == [
        "imports nightcast.settings",
        "imports nightcast.settings.Settings",
        "fit(settings: Settings)",
    ]
    assert settings_uses(tmp_path / "inside.py") == ["imports nightcast.settings"]
    assert settings_uses(tmp_path / "clean.py") == []
