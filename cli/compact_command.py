"""`nightcast compact`: fold recent runs, and per-run files of a warehouse written before the one-file layout,
fill its latest_forecasts, (with --keep-runs) prune old model folders, plots and Data Docs pages, and rewrite
its DuckDB file (nightcast/duckdb_file.py)."""

from __future__ import annotations

import argparse

from cli.common import CliError


def command(args: argparse.Namespace) -> int:
    """Compact every ticker of the warehouse (or the one given) and print what changed."""
    from nightcast import duckdb_file, upkeep
    from nightcast.tickers import check_ticker
    from nightcast.warehouse import Warehouse, resolve_root

    warehouse = Warehouse(resolve_root(args.warehouse))
    if not warehouse.root.is_dir():
        raise CliError(f"no warehouse at {warehouse.root}")
    try:
        names = [check_ticker(args.ticker)] if args.ticker else upkeep.tickers(warehouse)
    except ValueError as error:
        raise CliError(str(error)) from None
    folded = pruned = 0
    for ticker in names:
        folded += upkeep.compact(warehouse, ticker)
        pruned += upkeep.prune_ticker(warehouse, ticker, args.keep_runs) if args.keep_runs else 0
    print(
        f"compacted {len(names)} ticker(s) in {warehouse.root}: {folded} recent or per-run file(s) folded into "
        f"each ticker's file of their table"
        + (f", {pruned} old model folder(s), plot(s) and page(s) pruned" if args.keep_runs else "")
    )
    if duckdb_file.refresh(warehouse):
        print(f"rewrote {duckdb_file.path(warehouse)} (the tables and views for any DuckDB client)")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `compact` subcommand to the nightcast command line."""
    parser = commands.add_parser(
        "compact",
        help="fold each ticker's recent runs (and older layouts' per-run files) into its big file per table",
        description="Migrate a warehouse written before the one-file layout: fold every ticker's per-run "
        "files into one file per table (under each table's lock; readers see the old files or the new one), "
        "fill latest_forecasts, and with --keep-runs delete model folders, plots and Data Docs pages older "
        "than each ticker's last N runs. Nightly runs do this for their own ticker; run it once after an "
        "upgrade. A query during the fold sees every row once (the views skip a recent row the big file holds).",
    )
    parser.add_argument("--ticker", default=None, help="only this ticker (default: every ticker)")
    parser.add_argument(
        "--keep-runs",
        type=int,
        default=None,
        metavar="N",
        help="also prune each ticker's folders and plots beyond its last N runs",
    )
    parser.add_argument(
        "--warehouse", default=None, help="warehouse folder (default: $NIGHTCAST_WAREHOUSE or ./warehouse)"
    )
    parser.set_defaults(handler=command)
