"""The `nightcast` command line: one module per subcommand, each registering its parser.

Exit codes: 0 success, 1 an expected failure (one `nightcast: error:` line), 2 a usage error (argparse).

This is the application floor: it may import flows/, tasks/ and the core, and nothing imports it.
Subcommand modules import their heavy dependencies (Prefect, TensorFlow, pandas) inside their handlers, so
`nightcast query` and `nightcast --help` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from cli.common import CliError

EPILOG = """examples:
  nightcast run                                   # GOOG from the bundled sample, default settings
  nightcast run --ticker ^GSPC --epochs 20
  nightcast run --source file --path prices.csv --ticker ACME
  nightcast run --candidates naive,ets,simple_rnn-price   # the tutorial's model among the candidates
  nightcast backfill --ticker GOOG --days 10
  nightcast nightly --source file --path prices/   # every <TICKER>.csv/.parquet of a folder, as one panel
  nightcast nightly --source yahoo --tickers AAPL,MSFT,NFLX --runner dask --workers 4
  nightcast backtest --refit-every 20 --folds 5   # rolling origin: every candidate, horizons 1..5, vs naive
  nightcast compare --tickers GOOG,^GSPC --candidates simple_rnn-price,gru-log_return   # the tutorial's split
  nightcast query "select * from latest_forecasts"
  nightcast query "show tables"                   # every table and view (docs/reference/tables.md)
  nightcast query - < report.sql                  # SQL from standard input (or --file report.sql)
  nightcast status                                # one line per ticker; exit 1 when a night failed or is stale
  nightcast query "select * from alerts"          # open problems: failed, stale, worse than naive, coverage, ...
  nightcast compact                               # fold recent runs (and older layouts) into the big files
"""


COMMANDS = {
    "run": "run_command",
    "backfill": "run_command",
    "nightly": "nightly_command",
    "query": "query_command",
    "backtest": "backtest_command",
    "compare": "compare_command",
    "compact": "compact_command",
    "status": "status_command",
    "serve": "serve_command",
}
"""Each subcommand's module in cli, imported only when its parser is needed."""


def _version() -> str:
    """The installed distribution's version."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nightcast")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout that was never installed
        return "(not installed)"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser for nightcast and its subcommands (only one subcommand's module when `only` names
    one: `nightcast query` then never imports the settings model)."""
    parser = argparse.ArgumentParser(
        prog="nightcast",
        description="Nightly retraining of recurrent and statistical price forecasters; "
        "every forecast stored as Parquet and queryable with SQL.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"nightcast {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = [COMMANDS[only]] if only in COMMANDS else list(dict.fromkeys(COMMANDS.values()))
    for module in modules:
        importlib.import_module(f"cli.{module}").register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the nightcast console command."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:  # a bare `nightcast`: what it can do, not a usage error
        build_parser().print_help()
        return 0
    args = build_parser(argv[0] if argv and argv[0] in COMMANDS else None).parse_args(argv)
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show a character gets its escape
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        return args.handler(args)
    except CliError as error:
        print(f"nightcast: error: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader stopped reading (`| head`): nothing more to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
