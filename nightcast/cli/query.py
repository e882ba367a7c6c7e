"""`nightcast query`: one read-only SQL statement over the warehouse, printed as a table, CSV or JSON.

Kept light: it imports DuckDB and pyarrow but neither pandas nor Prefect, so a query answers in well under
a second from process start.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json

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


def command_query(args: argparse.Namespace) -> int:
    """Run read-only SQL over the warehouse views and print the result."""
    import duckdb

    from nightcast.warehouse import Warehouse, resolve_root

    try:
        columns, rows = Warehouse(resolve_root(args.warehouse)).query_rows(args.sql)
    except (ValueError, duckdb.Error) as error:
        raise CliError(str(error).splitlines()[0]) from None
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
    query.add_argument("sql", help='the SQL to run, e.g. "select * from latest_forecasts"')
    query.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="output format (default: table)"
    )
    query.add_argument(
        "--warehouse", default=None, help="warehouse folder (default: $NIGHTCAST_WAREHOUSE or ./warehouse)"
    )
    query.set_defaults(handler=command_query)
