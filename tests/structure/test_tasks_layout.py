"""tasks/ inside (#27): every stage module sits in a subpackage by concern (prices, training, scoring,
forecasting, records), the subpackages import one another in one direction only, and pyproject lists every
package folder (setuptools installs only the packages listed)."""

from __future__ import annotations

import tomllib

from tests.structure.test_imports import GRAPH, cycles
from tests.structure.walker import ROOT, modules


def subpackage_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Which subpackage of tasks/ imports which other one."""
    package = lambda module: ".".join(module.split(".")[:2])
    out: dict[str, set[str]] = {}
    for source, targets in graph.items():
        if source.startswith("tasks."):
            out.setdefault(package(source), set()).update(
                package(t) for t in targets if t.startswith("tasks.") and package(t) != package(source)
            )
    return out


def test_every_tasks_module_sits_in_a_subpackage():
    top = [m.path.name for m in modules(("tasks",)) if m.path.parent == ROOT / "tasks"]
    assert sorted(name for name in top if name != "__init__.py") == []


def test_the_subpackages_of_tasks_import_one_another_in_one_direction():
    assert cycles(subpackage_graph(GRAPH)) == []


def test_the_subpackage_check_sees_a_planted_circle():
    planted = {"tasks.a.x": {"tasks.b.y"}, "tasks.b.y": set(), "tasks.b.z": {"tasks.a.w"}, "tasks.a.w": set()}
    assert subpackage_graph(planted) == {"tasks.a": {"tasks.b"}, "tasks.b": {"tasks.a"}}
    assert cycles(subpackage_graph(planted)) == [["tasks.a", "tasks.b"]]


def test_pyproject_lists_every_package_folder():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    tops = {name for name in listed if "." not in name}
    found = {m.name for m in modules(tuple(sorted(tops))) if m.path.name == "__init__.py"}
    assert found == listed
