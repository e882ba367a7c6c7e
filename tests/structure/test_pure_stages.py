"""Stage functions are pure (#27): nothing under tasks/ (its subpackages too) reads or writes files, the network or
the warehouse. The I/O happens in the flows' steps and the storage layer (nightcast.warehouse, catalog, data_docs,
price_sources ...), which hand the stages data and take back data.

The check reads each module's syntax tree: imports (at the top or inside a function) of a module that does I/O,
and calls that do it (open(), a path's read_text/write_bytes/mkdir/..., pandas' read_csv/to_parquet, json.load,
a Keras model's save, GX's Data Docs writers), also when spelled through getattr(obj, "write_text") or
importlib.import_module("duckdb"). Rendering into memory stays allowed (tasks/records/plot.py draws its PNG into a
BytesIO).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.structure.walker import Module, modules, tree

IO_MODULES = (
    # the network
    "urllib.request",
    "urllib3",
    "http",
    "requests",
    "httpx",
    "aiohttp",
    "socket",
    "ftplib",
    "smtplib",
    "yfinance",
    "curl_cffi",
    # files, databases, processes
    "duckdb",
    "sqlite3",
    "pyarrow.parquet",
    "pyarrow.dataset",
    "pyarrow.csv",
    "shutil",
    "tempfile",
    "glob",
    "pickle",
    "shelve",
    "subprocess",
    # the project's storage layer and price sources
    "nightcast.warehouse",
    "nightcast.catalog",
    "nightcast.views",
    "nightcast.readonly",
    "nightcast.readonly_files",
    "nightcast.duckdb_file",
    "nightcast.files",
    "nightcast.upkeep",
    "nightcast.data_docs",
    "nightcast.run_tables",
    "nightcast.warehouse_mark",
    "nightcast.price_sources",
    "nightcast.price_fetch",
    "nightcast.yahoo",
    "nightcast.yahoo_client",
)
"""Modules whose import means the stage does I/O (a module and everything below it: `http` covers http.client)."""

IO_METHODS = {
    # pathlib
    "read_text",
    "read_bytes",
    "write_text",
    "write_bytes",
    "mkdir",
    "rmdir",
    "unlink",
    "touch",
    "iterdir",
    "glob",
    "rglob",
    "exists",
    "is_file",
    "is_dir",
    "symlink_to",
    # pandas and numpy
    "read_csv",
    "read_parquet",
    "read_json",
    "read_pickle",
    "read_excel",
    "read_sql",
    "read_feather",
    "to_csv",
    "to_parquet",
    "to_pickle",
    "to_excel",
    "to_sql",
    "to_feather",
    "tofile",
    "fromfile",
    "loadtxt",
    "savetxt",
    "savez",
    "savez_compressed",
    # Keras
    "load_model",
    "save_weights",
    "load_weights",
}
"""Method and function names that do I/O whatever they are called on."""

IO_ON = {
    "json": {"load", "dump"},
    "np": {"load", "save"},
    "numpy": {"load", "save"},
    "os": {"open", "listdir", "scandir", "walk", "makedirs", "mkdir", "remove", "unlink", "rmdir", "rename", "replace"}
    | {"removedirs", "system", "popen", "startfile", "truncate"},
}
"""Names that do I/O only on these modules (json.loads, a frame's rename, a list's remove stay allowed)."""
GX_WRITERS = {"UpdateDataDocsAction", "build_data_docs", "TupleFilesystemStoreBackend"}
"""Great Expectations' ways of writing Data Docs files, named in code or in a context's configuration."""
IO_FUNCTIONS = {"open", "input"}
"""Builtins that do I/O."""
SAVE_ON_MODELS = "save"
"""model.save(path): any .save() call with an argument (a dataclass's save(path) is I/O as much as Keras')."""


def _io_module(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in IO_MODULES)


def _imported(node: ast.AST) -> list[str]:
    """The modules an import statement names (`from a import b` names a and a.b: b may be a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return []


def _call_name(call: ast.Call) -> tuple[str | None, str | None]:
    """(receiver name or None, called name) of a call: open(...) -> (None, 'open'), json.load -> ('json', 'load')."""
    func = call.func
    if isinstance(func, ast.Name):
        return None, func.id
    if isinstance(func, ast.Attribute):
        return (func.value.id if isinstance(func.value, ast.Name) else ""), func.attr
    return None, None


def _text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _io_call(call: ast.Call) -> str | None:
    """What a call does that is I/O, or None."""
    receiver, name = _call_name(call)
    if name is None:
        return None
    if receiver is None and name in IO_FUNCTIONS:
        return f"{name}()"
    if receiver is not None and name in IO_METHODS:
        return f".{name}()"
    if receiver in IO_ON and name in IO_ON[receiver]:
        return f"{receiver}.{name}()"
    if receiver is not None and name == SAVE_ON_MODELS and (call.args or call.keywords):
        return ".save(...)"
    first = _text(call.args[0]) if call.args else None
    second = _text(call.args[1]) if len(call.args) > 1 else None
    if name in ("import_module", "__import__") and first and _io_module(first):
        return f"{name}({first!r})"
    if name == "getattr" and second and (second in IO_METHODS or second in IO_FUNCTIONS):
        return f"getattr(..., {second!r})"
    return None


def io_in(source: str | Path) -> list[tuple[int, str]]:
    """(line, what) of every I/O a module's code (a text or a file) does or imports."""
    found = []
    for node in ast.walk(tree(source)):
        found += [(node.lineno, f"imports {name}") for name in _imported(node) if _io_module(name)]
        if isinstance(node, ast.Call) and (what := _io_call(node)):
            found.append((node.lineno, what))
        named = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else _text(node)
        if named in GX_WRITERS:
            found.append((node.lineno, f"GX writes files: {named}"))
    return sorted(set(found))


def stage_modules() -> tuple[Module, ...]:
    return modules(("tasks",))


def test_no_stage_module_does_io():
    files = stage_modules()
    assert len(files) > 25  # every module of tasks/, its subpackages included
    found = [f"{m.relative}:{line}: {what}" for m in files for line, what in io_in(m.path)]
    assert found == []


def test_the_check_finds_each_kind_of_io():
    planted = (
        "import duckdb\n"
        "from nightcast.warehouse import Warehouse\n"
        "from urllib import request\n"
        "def f(path, frame, model, text):\n"
        "    import yfinance as yf\n"
        "    from curl_cffi import requests\n"
        "    open(path).read()\n"
        "    path.write_text(text)\n"
        "    frame.to_parquet(path)\n"
        "    model.save(path)\n"
        "    json.load(path)\n"
        "    getattr(path, 'read_bytes')()\n"
        "    importlib.import_module('nightcast.catalog')\n"
        "    os.remove(path)\n"
        "    gx.checkpoint.UpdateDataDocsAction(name='docs')\n"
        "    sites = {'store_backend': {'class_name': 'TupleFilesystemStoreBackend'}}\n"
        "    return pd.read_csv(path)\n"
    )
    assert sorted({line for line, _ in io_in(planted)}) == list(range(1, 4)) + list(range(5, 18))


def test_the_check_leaves_pure_code_alone():
    pure = (
        "import json\n"
        "from urllib.parse import urlparse\n"
        "from nightcast.schema import PRICE_COLUMNS\n"
        "def f(frame, items, text):\n"
        "    items.remove(1)\n"
        "    frame.rename(columns={'a': 'b'})\n"
        "    data = json.loads(text)\n"
        "    json.dumps(data)\n"
        "    frame.to_json()\n"
        "    return text.replace('a', 'b'), frame.to_numpy()\n"
    )
    assert io_in(pure) == []
