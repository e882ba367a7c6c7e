"""The read-only SQL path: which statements a query may run, and a DuckDB that cannot touch files at all.

Two independent defences, so that one gap does not become a write:

1. `check_statement` accepts exactly one plain read: a SELECT (or VALUES, FROM, DESCRIBE, SUMMARIZE,
   PIVOT, which DuckDB parses as SELECT), or `EXPLAIN` of one. `EXPLAIN ANALYZE` is refused outright
   because it executes the statement it wraps; several statements in one string are refused.
2. `sandboxed_connection` is an in-memory DuckDB whose tables are Arrow datasets handed over by Python.
   DuckDB itself needs no file access, so its local file system is disabled: no COPY, EXPORT, ATTACH,
   INSTALL, read_text/read_csv/glob or profiling output can reach a file anywhere (inside the warehouse
   or not), there is no temp folder to spill into, and the configuration is locked.

Why Arrow datasets rather than DuckDB's own Parquet reader with `allowed_directories`: DuckDB's
allow-list grants reads and writes alike, so a reader allowed into the warehouse folder may also write
there (`COPY ... TO '<warehouse>/...'`), and its temp folder is writable too. With Arrow the
reads happen in pyarrow, outside DuckDB; measured on the bundled warehouse the views are as fast
(filters and projections are pushed into the Arrow scan).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

from nightcast.errors import ExpectedFailure

READ_STATEMENTS = {duckdb.StatementType.SELECT}
SANDBOX_SETTINGS: dict[str, str | bool] = {
    "temp_directory": "",  # never spill to disk: no temp folder to write into
    "max_temp_directory_size": "0KB",
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
}
"""Settings given when the connection opens (the file system is disabled after the views exist)."""


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
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(f"invalid SQL: {str(error).splitlines()[0]}") from None
    if not statements:
        raise QueryRefused("no SQL statement given")
    if len(statements) > 1:
        raise QueryRefused(f"one statement at a time: got {len(statements)} statements separated by ';'")
    statement = statements[0]
    if statement.type == duckdb.StatementType.EXPLAIN:
        check_statement(_explained(statement.query))
    elif statement.type not in READ_STATEMENTS:
        raise QueryRefused(
            f"only read-only queries (SELECT, or EXPLAIN of a SELECT) are allowed; refused "
            f"a {statement.type.name} statement"
        )
    return statement


def tables_read(sql: str, tables: Iterable[str], views: Mapping[str, str]) -> list[str]:
    """The tables and derived views that sql reads, with the tables those views read, in the order given
    (views after tables); all of them when DuckDB cannot name them without binding (a USING join, a table
    function) or sql names something else (so that an error can suggest every name). DuckDB is asked on a
    connection with no tables and no file system: asking reads nothing."""
    known = [*tables, *views]
    con = duckdb.connect(":memory:", config=dict(SANDBOX_SETTINGS))
    try:
        con.execute("SET disabled_filesystems='LocalFileSystem'")
        named = {name.lower() for name in con.get_table_names(sql)}
        for view in (v for v in reversed(list(views)) if v in named):  # a view may read the views before it
            named |= {name.lower() for name in con.get_table_names(views[view])}
    except duckdb.Error:
        return known
    finally:
        con.close()
    return [name for name in known if name in named] if named <= set(known) else known


def sandboxed_connection(
    tables: Mapping[str, ds.Dataset | pa.Table], views: Mapping[str, str]
) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with one view per Arrow table or dataset and the derived views, unable to use files."""
    con = duckdb.connect(":memory:", config=dict(SANDBOX_SETTINGS))
    for name, data in tables.items():
        con.register(f"_{name}", data)
        con.execute(f'CREATE VIEW "{name}" AS SELECT * FROM "_{name}"')
    for name, sql in views.items():
        con.execute(f'CREATE VIEW "{name}" AS {sql}')
    con.execute("SET disabled_filesystems='LocalFileSystem'")
    con.execute("SET enable_external_access=false")
    con.execute("SET lock_configuration=true")
    return con
