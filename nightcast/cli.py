"""The `nightcast` command: run the retrain flow once, or query the warehouse with SQL."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Literal, Sequence, get_args, get_origin

from pydantic import ValidationError

from nightcast.settings import Settings

EPILOG = """examples:
  nightcast run                                   # GOOG from the bundled sample, default settings
  nightcast run --ticker ^GSPC --epochs 20
  nightcast run --source file --path prices.csv --ticker ACME
  nightcast backfill --ticker GOOG --days 10 --epochs 20
  nightcast run --candidates naive,ets,simple_rnn-price   # the tutorial's model among the candidates
  nightcast backtest --refit-every 20 --folds 5   # rolling origin: every candidate, horizons 1..5, vs naive
  nightcast compare --tickers GOOG,^GSPC --candidates simple_rnn-price,gru-log_return   # the tutorial's split
  nightcast query "select * from latest_forecasts"
"""


class CliError(Exception):
    """An error reported as one line on stderr with exit code 1."""

    @classmethod
    def from_failure(cls, error: BaseException) -> "CliError":
        """A failed flow's error as its first line (or its type when it has no message)."""
        return cls(str(error).splitlines()[0] if str(error) else type(error).__name__)


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """One option per Settings field, with the field's description and default as help."""
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else f" (default: {field.default})"
        choices = get_args(field.annotation) if get_origin(field.annotation) is Literal else None
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, default=None, choices=choices,
                            metavar="{" + ",".join(choices) + "}" if choices else name.upper(),
                            help=f"{field.description}{default}".replace("%", "%%"))


def format_validation_error(error: ValidationError) -> str:
    """A pydantic error as one line: 'field: reason; field: reason'."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "invalid settings: " + "; ".join(parts)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Build validated Settings from the options the user gave."""
    given = {name: getattr(args, name) for name in Settings.model_fields if getattr(args, name) is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        raise CliError(format_validation_error(error)) from None


EPHEMERAL_STARTUP_SECONDS = "120"
"""How long a command waits for Prefect's temporary server. Prefect's default, 20 s, is too short for the
first start on 2 cores, which creates and migrates the SQLite database while TensorFlow loads."""


def prepare_prefect() -> None:
    """Create $PREFECT_HOME with its parents (Prefect creates only the last folder); no telemetry by default;
    a first start of the temporary server may take longer than Prefect's 20 s (the user's value wins)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", EPHEMERAL_STARTUP_SECONDS)
    home = os.environ.get("PREFECT_HOME")
    if home:
        Path(home).expanduser().mkdir(parents=True, exist_ok=True)


def command_run(args: argparse.Namespace) -> int:
    """Run the retrain flow once and print the summary."""
    settings = settings_from_args(args)
    prepare_prefect()
    from flows.retrain import retrain
    from tasks.plot import leaderboard
    from tasks.summary import night_text

    start_preload(settings)
    try:
        result = retrain(settings=settings)
    except Exception as error:
        raise CliError.from_failure(error) from None
    print(night_text(result, leaderboard(result.scores)))
    return 0


def start_preload(settings: Settings) -> None:
    """Import TensorFlow and compile the train step in a background thread while Prefect starts its server
    (only when a simple_rnn candidate will train).

    Started after the imports above (they hold the GIL); from here on the main thread mostly waits for
    Prefect's temporary server, a subprocess, so the preload costs nothing and the train task starts warm.
    """
    import threading

    from tasks import train

    if any(name.startswith("simple_rnn-") for name in settings.candidates):
        threading.Thread(target=train.preload, kwargs={"time_step": settings.time_step,
                                                       "batch_size": settings.batch_size},
                         daemon=True, name="tensorflow-preload").start()


def command_backfill(args: argparse.Namespace) -> int:
    """Replay the last --days trading days night by night and print the served forecasts' accuracy so far."""
    settings = settings_from_args(args)
    prepare_prefect()
    from flows.backfill import backfill
    from nightcast.warehouse import Warehouse, resolve_root
    from tasks.summary import backfill_text

    try:
        outcomes = backfill(settings=settings, days=args.days)
    except Exception as error:
        raise CliError.from_failure(error) from None
    accuracy = Warehouse(resolve_root(settings.warehouse)).query(ACCURACY_SQL, [settings.symbol])
    print(backfill_text(outcomes, accuracy))
    return 0 if all(o.status == "completed" for o in outcomes) else 1


ACCURACY_SQL = """select horizon, n, mae, naive_mae, mase, naive_mase, coverage_80, coverage_95
    from served_accuracy where ticker = ? order by horizon"""


def command_query(args: argparse.Namespace) -> int:
    """Run read-only SQL over the warehouse views and print the result."""
    from nightcast.warehouse import Warehouse, resolve_root

    import duckdb

    try:
        frame = Warehouse(resolve_root(args.warehouse)).query(args.sql)
    except (ValueError, duckdb.Error) as error:
        raise CliError(str(error).splitlines()[0]) from None
    if args.format == "csv":
        print(frame.to_csv(index=False), end="")
    elif args.format == "json":
        print(frame.to_json(orient="records", date_format="iso", indent=1))
    else:
        print(frame.to_string(index=False) if len(frame) else f"(no rows; columns: {', '.join(frame.columns)})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for nightcast and its subcommands."""
    parser = argparse.ArgumentParser(
        prog="nightcast", description="Nightly retraining of a recurrent price forecaster; every "
        "forecast stored as Parquet and queryable with SQL.", epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="retrain one ticker now and store its forecasts",
                              description="Run one night for one ticker: ingest, validate and store prices, "
                              "fit every candidate on all data up to the last close, forecast the next trading "
                              "sessions with 80%%/95%% intervals, serve the candidate with the best out-of-sample "
                              "evidence, and print the evidence beside naive.")
    add_settings_options(run)
    run.set_defaults(handler=command_run)
    backfill = commands.add_parser("backfill", help="replay the last N trading days night by night",
                                   description="Run retrain once per night over the last --days trading "
                                   "days, each night seeing only data up to that night, so that "
                                   "forecast_accuracy fills with realized forecasts.")
    add_settings_options(backfill)
    backfill.add_argument("--days", type=int, default=5, help="trading days to replay (default: 5)")
    backfill.set_defaults(handler=command_backfill)
    query = commands.add_parser("query", help="run read-only SQL over the stored tables",
                                description="Run SQL over the tables and views of the warehouse (see "
                                "docs: latest_forecasts, forecasts, forecast_accuracy, leaderboard, decisions, "
                                "prices, ...). One SELECT (or EXPLAIN of a SELECT) at a time; nothing can be written.")
    query.add_argument("sql", help="the SQL to run, e.g. \"select * from forecasts\"")
    query.add_argument("--format", choices=["table", "csv", "json"], default="table",
                       help="output format (default: table)")
    query.add_argument("--warehouse", default=None, help="warehouse folder (default: $NIGHTCAST_WAREHOUSE or ./warehouse)")
    query.set_defaults(handler=command_query)
    from nightcast import backtest_cli, compare_cli, serve

    backtest_cli.register(commands)
    compare_cli.register(commands)
    serve.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the nightcast console command."""
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CliError as error:
        print(f"nightcast: error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # python -m nightcast.cli: run the importable module, so CliError is one class
    from nightcast.cli import main as module_main

    sys.exit(module_main())
