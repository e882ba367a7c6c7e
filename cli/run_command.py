"""`nightcast run` (one night of one ticker) and `nightcast backfill` (the last N nights, replayed)."""

from __future__ import annotations

import argparse

from cli.common import (
    CliError,
    add_settings_options,
    prepare_prefect,
    run_flow,
    settings_from_args,
    start_preload,
)
from cli.prefetch import discard_prefetched, prefetch_prices
from cli.preflight import from_staged, refuse_bad_prices, refuse_failing_backfill
from nightcast import catalog


def command_run(args: argparse.Namespace) -> int:
    """Fetch tonight's prices and check them (a failing source or a bad file ends here, in seconds), run the
    retrain flow, print the summary."""
    settings = settings_from_args(args)
    staged = prefetch_prices(settings, args)
    try:
        refuse_bad_prices(settings, from_staged(settings, staged))
        prepare_prefect()
        from flows.retrain import retrain
        from tasks.records.plot import leaderboard
        from tasks.records.summary import night_text

        start_preload(settings)
        result = run_flow(args, retrain, settings=settings, prefetched=staged)
    finally:
        discard_prefetched(settings, staged)
    sql = catalog.example_query("latest_forecasts", ticker=result.ticker)
    print(night_text(result, leaderboard(result.scores), sql))
    return 0


MAX_DAYS = 1_000
"""Most nights one backfill replays (the backfill flow's own limit)."""


def command_backfill(args: argparse.Namespace) -> int:
    """Replay the last --days trading days night by night and print the served forecasts' accuracy so far."""
    settings = settings_from_args(args)
    if not 1 <= args.days <= MAX_DAYS:
        raise CliError(f"--days must be between 1 and {MAX_DAYS} trading days, got {args.days}")
    staged = prefetch_prices(settings.model_copy(update={"refetch": True}), args)  # every night reads from it
    try:
        refuse_failing_backfill(settings, staged, args.days)
        prepare_prefect()
        from flows.backfill import backfill
        from nightcast import catalog
        from nightcast.warehouse import Warehouse, resolve_root
        from tasks.records.summary import backfill_text

        outcomes = run_flow(args, backfill, settings=settings, days=args.days, prefetched=staged)
    finally:
        discard_prefetched(settings, staged)
    accuracy = catalog.served_accuracy(Warehouse(resolve_root(settings.warehouse)), settings.ticker)
    print(backfill_text(outcomes, accuracy))
    return 0 if all(o.status == "completed" for o in outcomes) else 1


def register(commands: argparse._SubParsersAction) -> None:
    """Add `run` and `backfill` to the nightcast command line."""
    run = commands.add_parser(
        "run",
        help="one night for one ticker: fit every candidate, store its forecasts",
        description="Run one night for one ticker: ingest, validate and store prices, "
        "fit every candidate on all data up to the last close, forecast the next trading "
        "sessions with 80% and 95% intervals, serve the candidate with the best "
        "out-of-sample evidence, and print the evidence beside naive.",
    )
    add_settings_options(run)
    run.set_defaults(handler=command_run)
    backfill = commands.add_parser(
        "backfill",
        help="replay the last N trading days night by night",
        description="Run one night per day over the last --days trading days, each "
        "night seeing only data up to that night, so that the forecast history and "
        "the registry fill as if nightcast had run every night.",
    )
    add_settings_options(backfill)
    backfill.add_argument("--days", type=int, default=5, help="trading days to replay (default: 5)")
    backfill.set_defaults(handler=command_backfill)
