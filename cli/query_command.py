"""`nightcast query`: one read-only SQL statement over the warehouse, printed as a table, CSV or JSON.

Kept light: it imports DuckDB and pyarrow but neither pandas nor Prefect, so a query answers in well under
a second from process start.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from cli.common import CliError
from cli.query_output import TABLE_ROWS, WRITERS


def error_line(error: Exception) -> str:
    """DuckDB's error as one line: its first line, its "Did you mean" and, for an unknown table, every name."""
    lines = str(error).splitlines() or [type(error).__name__]
    if lines[0].startswith("Traceback (most recent call last)"):  # raised by the warehouse's file system
        causes = [line for line in lines if re.match(r"\w+(Error|Exception): ", line)]
        cause = causes[-1] if causes else lines[-1]
        return f"cannot read that: {cause.split(': ', 1)[-1]} (read the warehouse's tables by their names)"
    hint = [line for line in lines[1:] if line.startswith(("Did you mean", "Candidate bindings"))]
    if not (lines[0].startswith("Catalog Error: Table with name") and lines[0].endswith("does not exist!")):
        return " ".join(lines[:1] + hint)
    from nightcast.schema import TABLES
    from nightcast.views import DERIVED_VIEWS

    return " ".join([*lines[:1], *hint, "Tables and views:", ", ".join(sorted([*TABLES, *DERIVED_VIEWS]))])


def statement_text(args: argparse.Namespace) -> str:
    """The SQL given: the argument, standard input for `-`, or the --file's text."""
    if args.file is not None and args.sql is not None:
        raise CliError("give the SQL as an argument or with --file, not both")
    if args.file is not None:
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CliError(f"cannot read SQL from {args.file}: {error}") from None
    if args.sql is None:
        raise CliError('no SQL given: nightcast query "select ...", nightcast query - < file.sql, or --file')
    sql = sys.stdin.read() if args.sql == "-" else args.sql
    try:
        sql.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError("the SQL is not valid UTF-8 text") from None
    return sql


def command_query(args: argparse.Namespace) -> int:
    """Run read-only SQL over the warehouse views and print the result."""
    import duckdb

    from nightcast.readonly import check_statement
    from nightcast.warehouse import Warehouse, resolve_root

    sql = statement_text(args)
    try:
        check_statement(sql)  # a refused statement is refused whatever the warehouse
    except ValueError as error:
        raise CliError(error_line(error)) from None
    root = resolve_root(args.warehouse)
    if not root.is_dir():
        raise CliError(f"no warehouse at {root}: run a night first (nightcast run), or give --warehouse")
    if args.max_rows < 0:
        raise CliError(f"--max-rows must be 0 (every row) or more, got {args.max_rows}")
    os.environ["NIGHTCAST_QUERY_MEMORY"] = args.memory_limit
    limit = min(args.max_rows or TABLE_ROWS, TABLE_ROWS) if args.format == "table" else args.max_rows
    try:
        with Warehouse(root).stream_rows(sql, max_rows=limit, timeout=args.timeout) as rows:
            WRITERS[args.format](rows.columns, rows, sys.stdout, rows.types)
            sys.stdout.flush()  # a reader gone (| head) is found here, before any note on stderr
    except BrokenPipeError:
        raise
    except (ValueError, duckdb.Error, OSError) as error:
        raise CliError(error_line(error)) from None
    if rows.truncated:
        more = "raise --max-rows (0: all)" if limit == args.max_rows else "use --format csv or json for more"
        print(f"nightcast: only the first {limit} rows are shown; {more}", file=sys.stderr)
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add `query` to the nightcast command line."""
    query = commands.add_parser(
        "query",
        help="run read-only SQL over the stored tables",
        description="Run SQL over the tables and views of the warehouse "
        "(latest_forecasts, forecasts, forecast_accuracy, leaderboard, decisions, "
        "prices, ...: see docs/reference/tables.md). One SELECT (or EXPLAIN of a SELECT) "
        "at a time; nothing can be written.",
    )
    query.add_argument(
        "sql",
        nargs="?",
        help='the SQL to run, e.g. "select * from latest_forecasts" or "show tables"; - reads standard input',
    )
    query.add_argument("--file", help="read the SQL from this file")
    query.add_argument(
        "--max-rows",
        type=int,
        default=10_000,
        help="most rows printed; more are never fetched (0: all; default 10000); a table shows 250000 at most",
    )
    query.add_argument(
        "--timeout", type=float, default=60.0, help="seconds before the query is stopped (0: never; default 60)"
    )
    query.add_argument(
        "--memory-limit",
        default=os.environ.get("NIGHTCAST_QUERY_MEMORY", "4GB"),
        help="memory DuckDB may use for it, e.g. 2GB; more ends it with an error (default: 4GB)",
    )
    query.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="output format (default: table)"
    )
    query.add_argument(
        "--warehouse", default=None, help="warehouse folder (default: $NIGHTCAST_WAREHOUSE or ./warehouse)"
    )
    query.set_defaults(handler=command_query)
