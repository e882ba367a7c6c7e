"""The house's floors: core (nightcast/) -> tasks/ -> flows/ -> the command line (cli/) -> bench/, each
importing only from its own floor or below, and no import circle anywhere (imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.structure.walker import PACKAGES, Module, modules, tree

FLOORS = {"core": 0, "tasks": 1, "flows": 2, "app": 3, "bench": 4}
FLOOR_OF = dict(zip(PACKAGES, FLOORS, strict=True))
"""Each top-level package of the project and its floor."""


def floor(module: str) -> str | None:
    """The floor of a project module (None for anything outside the project)."""
    for prefix, name in FLOOR_OF.items():
        if module == prefix or module.startswith(prefix + "."):
            return name
    return None


def imports_of(path: Path, package: str | None = None) -> set[str]:
    """Every project module a file imports, at the top or inside a function (relative ones against package)."""
    found = set()
    if package is None:
        package = Module(path).package
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if floor(name)}


def project_modules() -> dict[str, set[str]]:
    found = {m.name: m.path for m in modules(PACKAGES)}
    graph = {}
    for name, path in found.items():
        targets = set()
        for imported in imports_of(path):
            while imported and imported not in found:  # `from pkg import name`: name may be an attribute
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


GRAPH = project_modules()


def test_every_import_goes_to_the_same_floor_or_below():
    upward = [
        f"{source} ({floor(source)}) imports {target} ({floor(target)})"
        for source, targets in GRAPH.items()
        for target in targets
        if FLOORS[floor(target)] > FLOORS[floor(source)]
    ]
    assert upward == []


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_there_is_no_import_circle():
    assert cycles(GRAPH) == []


@pytest.mark.parametrize(
    "graph, expected",
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ],
)
def test_the_circle_check_finds_circles(graph, expected):
    assert cycles(graph) == expected


def test_the_floor_check_sees_a_planted_upward_import(tmp_path):
    planted = tmp_path / "x.py"
    planted.write_text(
        "from flows.retrain import retrain\n\ndef f():\n    import cli.run_command\n    from . import evidence\n"
    )
    assert imports_of(planted, package="tasks") >= {"flows.retrain", "cli.run_command", "tasks.evidence"}
    assert floor("cli.run_command") == "app" and floor("cli") == "app" and floor("nightcast.settings") == "core"
    assert floor("client") is None and floor("os") is None
