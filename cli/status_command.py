"""`nightcast status`: one line per ticker for its latest night, and an exit code a cron job or a monitor can
alert on: 0 when every ticker's latest nightly run completed and is current, 1 otherwise (docs/morning.md).

Kept light like `nightcast query`: DuckDB, pyarrow and, for the exchange calendars, pandas; never Prefect,
TensorFlow or Great Expectations.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Any

from cli.common import CliError
from cli.query_output import write_csv, write_json, write_table

COLUMNS = [
    "ticker",
    "as_of",
    "status",
    "behind",
    "served",
    "fallback",
    "mase",
    "naive_mase",
    "coverage_80",
    "coverage_95",
    "evidence",
    "error",
]
"""What each line shows; `behind` is sessions of the ticker's exchange closed after its as_of."""


def parse_day(text: str) -> dt.date:
    """An --as-of date (YYYY-MM-DD); anything else is a usage error."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def sessions_behind_night(night: dict[str, Any], as_of: dt.date | None) -> int | None:
    """Sessions of the ticker's exchange closed after its served night, up to as_of's (None: no night served,
    or a calendar exchange_calendars does not know)."""
    from nightcast import calendars

    if night["as_of"] is None:
        return None
    try:
        name = calendars.calendar_for(night["ticker"], night["calendar"])
        latest = calendars.latest_closed_session(name, as_of)
        return calendars.sessions_behind(night["as_of"], latest, name)
    except ValueError:
        return None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def status_line(night: dict[str, Any], behind: int | None) -> tuple:
    """One ticker's line, in COLUMNS' order."""
    window = night["evidence_start"], night["evidence_end"]
    evidence = f"{window[0]}..{window[1]}" if None not in window else None
    scores = (_rounded(night[name]) for name in ("mase", "naive_mase", "coverage_80", "coverage_95"))
    return (
        night["ticker"],
        night["as_of"],
        night["status"],
        behind,
        night["served"],
        night["fallback"],
        *scores,
        evidence,
        night["error"],
    )


def is_current(night: dict[str, Any], behind: int | None, stale_sessions: int) -> bool:
    """Whether a ticker's latest nightly run completed and its served night is at most stale_sessions behind."""
    return night["status"] == "completed" and behind is not None and behind <= stale_sessions


def command(args: argparse.Namespace) -> int:
    """Print every ticker's line; exit 0 only when every ticker's latest night completed and is current."""
    from nightcast import catalog
    from nightcast.warehouse import Warehouse, resolve_root
    from nightcast.warehouse_mark import is_warehouse

    root = resolve_root(args.warehouse)
    if not root.is_dir():
        raise CliError(f"no warehouse at {root}: run a night first (nightcast nightly), or give --warehouse")
    if not is_warehouse(root):
        raise CliError(f"{root} is not a nightcast warehouse (it holds none of its tables); give --warehouse")
    warehouse = Warehouse(root)
    found = catalog.ticker_status(warehouse)
    if not found.rows:
        raise CliError(f"no nightly run in the warehouse at {root}: run a night first (nightcast nightly)")
    nights = [dict(zip(found.columns, row, strict=True)) for row in found.rows]
    behind = [sessions_behind_night(night, args.as_of) for night in nights]
    writer = {"csv": write_csv, "json": write_json}.get(args.format, write_table)
    writer(COLUMNS, [status_line(n, b) for n, b in zip(nights, behind, strict=True)], sys.stdout)
    sys.stdout.flush()
    alerts = catalog.open_alerts(warehouse)
    if alerts:
        print(f'nightcast: {alerts} open alert(s): nightcast query "select * from alerts"', file=sys.stderr)
    return 0 if all(is_current(n, b, args.stale_sessions) for n, b in zip(nights, behind, strict=True)) else 1


def register(commands: argparse._SubParsersAction) -> None:
    """Add `status` to the nightcast command line."""
    from nightcast.alert_rules import ALERT_RULES

    parser = commands.add_parser(
        "status",
        help="one line per ticker for its latest night; exit code 1 when one failed or is stale",
        description="One line per ticker of the warehouse for its latest night: the night served, its latest "
        "nightly run's status, how many sessions of its exchange closed since, the served candidate (naive when "
        "it fell back), its MASE beside naive's and its 80%% and 95%% coverage over the evidence window, and a "
        "failed run's error. Exit code 0 when every ticker's latest night completed and is current, else 1. "
        'Open problems: nightcast query "select * from alerts" (docs/morning.md).',
    )
    parser.add_argument(
        "--as-of",
        type=parse_day,
        default=None,
        metavar="DATE",
        help="judge staleness against the latest session closed by this day, YYYY-MM-DD "
        "(default: now, in each exchange's time zone)",
    )
    parser.add_argument(
        "--stale-sessions",
        type=int,
        default=ALERT_RULES.stale_sessions,
        metavar="N",
        help=f"sessions a ticker may be behind and still be current (default: {ALERT_RULES.stale_sessions})",
    )
    parser.add_argument(
        "--format", choices=["table", "csv", "json"], default="table", help="output format (default: table)"
    )
    parser.add_argument(
        "--warehouse", default=None, help="warehouse folder (default: $NIGHTCAST_WAREHOUSE or ./warehouse)"
    )
    parser.set_defaults(handler=command)
