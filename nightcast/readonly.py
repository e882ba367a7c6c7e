"""The read-only SQL path: which statements a query may run, and a DuckDB that cannot touch files at all.

Two independent defences, so that one gap does not become a write:

1. `check_statement` accepts exactly one plain read: a SELECT (or VALUES, FROM, DESCRIBE, SUMMARIZE,
   PIVOT with its values listed, `ON ticker IN ('A', 'B')`, which DuckDB parses as SELECT), or `EXPLAIN` of
   one; at most MAX_SQL_BYTES of it. `EXPLAIN ANALYZE` is refused outright
   because it executes the statement it wraps; several statements in one string are refused.
2. `sandboxed_connection` is an in-memory DuckDB that reads the warehouse through `WarehouseFiles`
   (nightcast/readonly_files.py): a file system registered under nightcast:// that opens files inside the
   warehouse for reading and refuses everything else. DuckDB's local file system is disabled and external
   access is off but for nightcast://<warehouse>/, so no COPY, EXPORT, ATTACH, INSTALL, read_text,
   read_csv, glob or profiling output can create or change a file anywhere (inside the warehouse or not),
   there is no temp folder to spill into, and the configuration is locked.

Why not DuckDB's local file system with `allowed_directories`: that allow-list grants writes as well as
reads, so a reader allowed into the warehouse folder could also write there (`COPY ... TO
'<warehouse>/...'`). Why not Arrow datasets handed over by Python (the path before issue 12): importing
pyarrow.dataset imports pandas, 0.6 s of every `nightcast query`.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Mapping

import duckdb
import pyarrow as pa

from nightcast.errors import ExpectedFailure
from nightcast.readonly_files import PREFIX, WarehouseFiles, sql_text

READ_STATEMENTS = {duckdb.StatementType.SELECT}
MAX_SQL_BYTES = 1024 * 1024
"""Longest SQL a query may be: DuckDB's parser takes seconds and gigabytes over tens of megabytes."""
SANDBOX_SETTINGS: dict[str, str | bool] = {
    "temp_directory": "",  # never spill to disk: no temp folder to write into
    "max_temp_directory_size": "0KB",
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    # Joins run in the order written. The derived views are written in a good order; the optimizer's own,
    # misled by the estimates of the tiered tables' unions, joined realized_forecasts' newest runs with
    # prices on the ticker alone (0.7 s for one ticker; out of memory over 500 tickers instead of 6 s).
    "disabled_optimizers": "join_order",
}
"""Settings given when the connection opens (external access is switched off once the views exist)."""


def query_limits() -> dict[str, str]:
    """What one process's queries may take, so that one query cannot take the machine (nothing spills to disk):
    $NIGHTCAST_QUERY_MEMORY (default 4GB) and $NIGHTCAST_QUERY_THREADS (default: the cores, at most 4), read
    when the process first opens a warehouse."""
    return {
        "memory_limit": os.environ.get("NIGHTCAST_QUERY_MEMORY", "4GB"),
        "threads": os.environ.get("NIGHTCAST_QUERY_THREADS", str(min(4, os.cpu_count() or 1))),
    }


class QueryRefused(ExpectedFailure, ValueError):
    """A statement that could change something (or is not one plain read) was sent to the read-only path."""


def _words(sql: str) -> list[tuple[int, str]]:
    """DuckDB's tokens of sql without comments: (start offset, upper-cased text)."""
    tokens = duckdb.tokenize(sql)
    ends = [start for start, _ in tokens[1:]] + [len(sql)]
    return [
        (start, sql[start:end].strip().upper())
        for (start, kind), end in zip(tokens, ends)
        if kind != duckdb.token_type.comment
    ]


def _explained(sql: str) -> str:
    """The statement an EXPLAIN wraps; EXPLAIN ANALYZE (which runs it) is refused."""
    words = _words(sql)[1:]  # after EXPLAIN
    texts = [text for _, text in words]
    options, rest = texts[:1], 0
    if texts[:1] == ["("]:  # EXPLAIN (FORMAT json, ANALYZE) SELECT ...
        close = texts.index(")") if ")" in texts else len(texts)
        options, rest = texts[1:close], close + 1
    if any(text in ("ANALYZE", "ANALYSE") for text in options):
        raise QueryRefused("EXPLAIN ANALYZE runs the statement it explains; use EXPLAIN without ANALYZE")
    if rest >= len(words):
        raise QueryRefused("EXPLAIN of nothing")
    return sql[words[rest][0] :]


def check_statement(sql: str) -> duckdb.Statement:
    """The one read statement in sql; anything else raises QueryRefused with a one-line reason."""
    if len(sql.encode("utf-8", "surrogateescape")) > MAX_SQL_BYTES:
        raise QueryRefused(f"the SQL is over {MAX_SQL_BYTES // 1024} KB; a query that long is refused unread")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(f"invalid SQL: {str(error).splitlines()[0]}") from None
    if not statements:
        raise QueryRefused("no SQL statement given")
    if len(statements) > 1:
        raise QueryRefused(f"one statement at a time: got {len(statements)} statements separated by ';'")
    statement = statements[0]
    try:
        kind = statement.type
    except ValueError:  # a statement type this DuckDB's Python enum does not know (UPDATE EXTENSIONS)
        raise QueryRefused("only read-only queries (SELECT, or EXPLAIN of a SELECT) are allowed") from None
    if kind == duckdb.StatementType.MULTI:
        raise QueryRefused("PIVOT needs its values listed (PIVOT prices ON ticker IN ('A', 'B') USING ...)")
    if kind == duckdb.StatementType.EXPLAIN:
        check_statement(_explained(statement.query))
    elif kind not in READ_STATEMENTS:
        raise QueryRefused(
            f"only read-only queries (SELECT, or EXPLAIN of a SELECT) are allowed; refused a {kind.name} statement"
        )
    return statement


_PARSER: dict[int, duckdb.DuckDBPyConnection] = {}
_LOCK = threading.Lock()


def _locked_database(files: WarehouseFiles | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that can touch no file but, through files when given, read the warehouse; its
    local file system is disabled, external access is off and its configuration is locked."""
    con = duckdb.connect(":memory:", config={**SANDBOX_SETTINGS, **query_limits()})
    con.execute("SET disabled_filesystems='LocalFileSystem'")
    if files is not None:
        con.register_filesystem(files)
        con.execute(f"SET allowed_directories=[{sql_text(PREFIX + files.root + '/')}]")
    con.execute("SET enable_external_access=false")
    con.execute("SET lock_configuration=true")
    return con


def _parser() -> duckdb.DuckDBPyConnection:
    """One connection per process for naming tables: no tables, no file system (a new DuckDB costs 30 ms)."""
    if os.getpid() not in _PARSER:  # one per process: a forked child never uses its parent's
        _PARSER[os.getpid()] = _locked_database()
    return _PARSER[os.getpid()]


def _parameters_as_null(sql: str) -> str:
    """sql with its prepared parameters (? and $1) written as NULL: DuckDB names no table of a statement
    with parameters."""
    tokens = duckdb.tokenize(sql)
    ends = [start for start, _ in tokens[1:]] + [len(sql)]
    pieces, last = [], 0
    for i, ((start, kind), end) in enumerate(zip(tokens, ends)):
        text = sql[start:end].strip()
        numbered = text == "$" and i + 1 < len(tokens) and tokens[i + 1][1] == duckdb.token_type.numeric_const
        if kind == duckdb.token_type.operator and (text == "?" or numbered):
            stop = ends[i + 1] if numbered else start + 1
            pieces.append(sql[last:start] + "NULL ")
            last = start + len(sql[start:stop].rstrip())
    return "".join(pieces) + sql[last:]


def tables_read(sql: str, tables: Iterable[str], views: Mapping[str, str]) -> list[str]:
    """The tables and derived views that sql reads, with the tables those views read, in the order given
    (views after tables); all of them when DuckDB cannot name them without binding (a USING join, a table
    function), when sql names none (SHOW TABLES, information_schema and duckdb_views() then list every one)
    or when it names something else (so that an error can suggest every name). DuckDB is asked on a
    connection with no tables and no file system: asking reads nothing."""
    known = [*tables, *views]
    with _LOCK:
        con = _parser()
        try:
            named = {name.lower() for name in con.get_table_names(_parameters_as_null(sql))}
            for view in (v for v in reversed(list(views)) if v in named):  # a view may read the views before it
                named |= {name.lower() for name in con.get_table_names(views[view])}
        except duckdb.Error:
            return known
    if not named <= set(known) or (not named and _reads_catalog(sql)):  # a typo, or SHOW TABLES and the like
        return known
    return [name for name in known if name in named]


_CATALOG = re.compile(r"SHOW|DESCRIBE|INFORMATION_SCHEMA|SQLITE_MASTER|(DUCKDB|PG|PRAGMA)_\w+")


def _reads_catalog(sql: str) -> bool:
    """Whether sql asks the catalog which tables and views exist (show tables, information_schema, ...)."""
    return any(_CATALOG.fullmatch(text.strip('"')) for _, text in _words(sql))


_SANDBOXES: dict[tuple[str, int], tuple[duckdb.DuckDBPyConnection, WarehouseFiles]] = {}


def _sandbox(root: str) -> tuple[duckdb.DuckDBPyConnection, WarehouseFiles]:
    """The process's locked DuckDB for one warehouse (a new DuckDB costs 30-40 ms, so each query takes a
    cursor of this one), with the file system it reads through. Keyed by process too: a forked child never
    uses its parent's."""
    key = (os.path.realpath(root), os.getpid())
    with _LOCK:
        if key not in _SANDBOXES:
            files = WarehouseFiles(key[0])
            _SANDBOXES[key] = _locked_database(files), files
        return _SANDBOXES[key]


def warehouse_files(root: str | os.PathLike[str]) -> WarehouseFiles:
    """The read-only file system the sandbox of the warehouse at root reads through."""
    return _sandbox(os.fspath(root))[1]


def sandboxed_connection(
    files: WarehouseFiles, tables: Mapping[str, tuple[pa.Schema, str]], views: Mapping[str, str], shared: bool = True
) -> duckdb.DuckDBPyConnection:
    """A connection with one temporary view per table (its schema, and a SELECT over its files' nightcast://
    addresses or its empty table) and the derived views, able to read the warehouse and nothing else. Shared:
    a cursor of the warehouse's locked DuckDB, for statements check_statement accepted (its views are its own:
    closing it drops them). Not shared: a locked DuckDB of its own (30-40 ms more), for a caller who may run
    any statement on it: what it attaches or creates (ATTACH ':memory:', a table, a macro) would otherwise
    stay in the shared DuckDB for every next query."""
    con = _sandbox(files.root)[0].cursor() if shared else _locked_database(files)
    for name, (_, source) in tables.items():
        con.execute(f'CREATE TEMP VIEW "{name}" AS {source}')
    for name, sql in views.items():
        con.execute(f'CREATE TEMP VIEW "{name}" AS {sql}')
    return con
