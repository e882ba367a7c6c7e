"""The storage layer owns every query (#27): no SQL text in flows/ or tasks/. Their reads and writes are named
calls on nightcast.warehouse and nightcast.catalog; a query the command line suggests comes from
catalog.EXAMPLES. Docstrings may describe SQL; strings in code may not hold it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.structure.walker import modules, tree

SQL = re.compile(
    r"\bselect\s+(\*|distinct\b|count\s*\(|[\w.]+(\s+as\s+\w+)?\s*(,|\bfrom\b))"
    r"|\binsert\s+into\b|\bcreate\s+(or\s+replace\s+)?(temp\s+)?(view|table|macro)\b"
    r"|\bdelete\s+from\b|\bupdate\s+\w+\s+set\b|\bread_parquet\s*\(",
    re.IGNORECASE,
)


def sql_in(source: str | Path) -> list[tuple[int, str]]:
    """(line, text) of every string in the code of a text or a file (f-strings joined, docstrings left out) that
    reads as SQL."""
    parsed = tree(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(parsed)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    inside = {id(v) for node in ast.walk(parsed) if isinstance(node, ast.JoinedStr) for v in node.values}
    pieces = []
    for node in ast.walk(parsed):
        if isinstance(node, ast.JoinedStr):
            pieces.append((node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings | inside:
            pieces.append((node.lineno, node.value))
    return sorted((line, text) for line, text in pieces if SQL.search(text))


def test_no_sql_text_in_flows_or_tasks():
    files = modules(("flows", "tasks"))
    assert len(files) > 40
    found = [f"{m.relative}:{line}: {text[:80]!r}" for m in files for line, text in sql_in(m.path)]
    assert found == []


def test_the_check_finds_sql_in_code_and_not_in_docstrings_or_prose():
    sample = (
        '"""A module docstring may say: select close from prices."""\n'
        "def f(t):\n"
        '    """select * from here"""\n'
        "    return f\"select * from latest_forecasts where ticker = '{t}'\"\n"
        "QUERY = 'INSERT INTO runs VALUES (1)'\n"
        "TEXT = 'we select the champion from the evidence'\n"
        "VIEW = 'create or replace view v as select a, b from t'\n"
    )
    assert [line for line, _ in sql_in(sample)] == [4, 5, 7]
