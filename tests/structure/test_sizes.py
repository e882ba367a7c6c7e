"""The house's sizes (#27): no module over 250 lines outside tests/ and bench/, no function over 7 parameters
outside the command line, tests/ and bench/ (a stage takes the small groups it reads: TrainOptions,
RevisionPolicy, ...), and no frozen model changed in place with object.__setattr__.

The project's folders are discovered, not listed: tasks/ in subpackages, and the command line whether in the
top-level cli/ or where it once lived, nightcast/cli/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.structure.walker import ROOT, folders, modules, text, top_level, tree

MAX_LINES = 250
MAX_PARAMETERS = 7
OUTSIDE = {"tests", "bench"}
"""Top-level folders the limits leave out (benchmarks and tests may be long and wide)."""


def project_files() -> list[Path]:
    """Every Python file of the project's own folders (hidden folders, links such as .venv, tests/ and bench/
    left out), in subfolders too."""
    inside = tuple(folder for folder in folders() if folder not in OUTSIDE)
    return sorted(m.path for m in (*top_level(), *modules(inside)))


def is_cli(path: Path) -> bool:
    """Whether a file is part of the command line (nightcast/cli/ or a top-level cli/)."""
    parts = path.relative_to(ROOT).parts
    return parts[0] == "cli" or parts[:2] == ("nightcast", "cli")


def parameters(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> list[str]:
    """A function's parameters, positional, keyword-only, *args and **kwargs alike, self and cls left out."""
    a = node.args
    names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)]
    names += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    return [name for name in names if name not in ("self", "cls")]


def wide_functions(source: str | Path, limit: int = MAX_PARAMETERS) -> list[tuple[int, str, int]]:
    """(line, name, count) of every function (nested ones too) of a text or a file taking more than limit
    parameters."""
    return [
        (node.lineno, node.name, len(parameters(node)))
        for node in ast.walk(tree(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and len(parameters(node)) > limit
    ]


def frozen_mutations(source: str | Path) -> list[int]:
    """Lines of a text or a file that call object.__setattr__ (the way to change a frozen dataclass or pydantic
    model in place)."""
    return [
        node.lineno
        for node in ast.walk(tree(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "__setattr__"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "object"
    ]


def long_modules(paths: list[Path], limit: int = MAX_LINES) -> dict[str, int]:
    """The files over limit lines, with their line counts."""
    return {str(p): n for p in paths if (n := len(text(p).splitlines())) > limit}


FILES = project_files()


def test_the_project_files_are_found():
    names = {p.relative_to(ROOT).parts[0] for p in FILES}
    assert {"nightcast", "tasks", "flows"} <= names and not names & OUTSIDE
    assert len(FILES) > 80
    assert any(is_cli(p) for p in FILES)
    assert all(".venv" not in p.parts for p in FILES)


def test_no_module_is_over_250_lines():
    assert long_modules(FILES) == {}


def test_no_function_outside_the_command_line_takes_over_7_parameters():
    wide = [
        f"{p.relative_to(ROOT)}:{line} {name} ({count})"
        for p in FILES
        if not is_cli(p)
        for line, name, count in wide_functions(p)
    ]
    assert wide == []


def test_no_frozen_model_is_changed_in_place():
    found = [f"{p.relative_to(ROOT)}:{line}" for p in FILES for line in frozen_mutations(p)]
    assert found == []


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def f(a, b, c, d, e, f, g):\n    pass\n", []),
        ("def f(a, b, c, d, *, e, f, g, h):\n    pass\n", [(1, "f", 8)]),
        ("class C:\n    def m(self, a, b, c, d, e, f, g):\n        pass\n", []),
        ("def outer():\n    def inner(a, b, c, d, e, f, g, *rest):\n        pass\n", [(2, "inner", 8)]),
        ("async def f(a, /, b, c, d, e, f, g, **k):\n    pass\n", [(1, "f", 8)]),
    ],
)
def test_the_parameter_check_counts_every_kind_of_parameter(source, expected):
    assert wide_functions(source) == expected


def test_the_checks_see_a_planted_long_module_and_a_frozen_change(tmp_path):
    (tmp_path / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    (tmp_path / "short.py").write_text("x = 1\n" * MAX_LINES)
    assert long_modules(sorted(tmp_path.glob("*.py"))) == {str(tmp_path / "long.py"): MAX_LINES + 1}
    source = "class S:\n    def fill(self):\n        object.__setattr__(self, 'ticker', 'GOOG')\n"
    source += "        setattr(x, 'a', 1)\n"
    assert frozen_mutations(source) == [3]


def test_the_command_line_is_found_where_it_lives():
    assert is_cli(ROOT / "nightcast" / "cli" / "run.py") and is_cli(ROOT / "cli" / "run.py")
    assert not is_cli(ROOT / "nightcast" / "settings.py") and not is_cli(ROOT / "tasks" / "training" / "train.py")
