"""`nightcast query`: one read-only SQL statement over the warehouse, printed as a table, CSV or JSON.

Kept light: it imports DuckDB and pyarrow but neither pandas nor Prefect, so a query answers in well under
a second from process start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

from nightcast.cli.common import CliError


def _text(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}"
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else str(value)


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    """Rows as an aligned table, CSV or JSON records (dates as ISO strings)."""
    if fmt == "json":
        records = [
            {c: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v) for c, v in zip(columns, r)}
            for r in rows
        ]
        return json.dumps(records, indent=1, default=str)
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else _text(v) for v in r] for r in rows])
        return out.getvalue().rstrip("\n")
    if not rows:
        return f"(no rows; columns: {', '.join(columns)})"
    cells = [[_text(v) for v in r] for r in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [" ".join(c.rjust(w) for c, w in zip(columns, widths))]
    lines += [" ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def error_line(error: Exception) -> str:
    """DuckDB's error as one line: its first line, its "Did you mean" and, for an unknown table, every name."""
    lines = str(error).splitlines() or [type(error).__name__]
    hint = [line for line in lines[1:] if line.startswith(("Did you mean", "Candidate bindings"))]
    if not (lines[0].startswith("Catalog Error: Table with name") and lines[0].endswith("does not exist!")):
        return " ".join(lines[:1] + hint)
    from nightcast.schema import TABLES
    from nightcast.views import DERIVED_VIEWS

    return " ".join([*lines[:1], *hint, "Tables and views:", ", ".join(sorted([*TABLES, *DERIVED_VIEWS]))])


def statement_text(args: argparse.Namespace) -> str:
    """The SQL given: the argument, standard input for `-`, or the --file's text."""
    import sys

    if args.file is not None and args.sql is not None:
        raise CliError("give the SQL as an argument or with --file, not both")
    if args.file is not None:
        try:
            return Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise CliError(f"cannot read SQL from {args.file}: {error}") from None
    if args.sql is None:
        raise CliError('no SQL given: nightcast query "select ...", nightcast query - < file.sql, or --file')
    return sys.stdin.read() if args.sql == "-" else args.sql


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
    try:
        columns, rows = Warehouse(root).query_rows(sql)
    except (ValueError, duckdb.Error) as error:
        raise CliError(error_line(error)) from None
    print(render(columns, rows, args.format))
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
        "--format", choices=["table", "csv", "json"], default="table", help="output format (default: table)"
    )
    query.add_argument(
        "--warehouse", default=None, help="warehouse folder (default: $NIGHTCAST_WAREHOUSE or ./warehouse)"
    )
    query.set_defaults(handler=command_query)
