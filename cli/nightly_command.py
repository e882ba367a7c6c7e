"""`nightcast nightly`: one night over a universe of tickers (the `nightly` deployment's flow), a line per ticker."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.common import (
    CliError,
    add_settings_options,
    format_validation_error,
    prepare_prefect,
    run_flow,
    settings_from_args,
)
from cli.preflight import failing_tickers

if TYPE_CHECKING:  # pragma: no cover
    from flows.night import TickerOutcome
    from nightcast.plans import NightlyPlan
    from nightcast.settings import Settings


def _tickers(args: argparse.Namespace, settings: Settings) -> list[str]:
    """--tickers, else every <TICKER>.csv/.parquet of a --path folder, else the sample's tickers."""
    if args.tickers:
        return [t.strip() for t in args.tickers.split(",") if t.strip()]
    if settings.source == "file":
        from nightcast.price_sources import FolderSource

        found = FolderSource(settings.path or "").tickers()
        if not found:
            raise CliError(f"no <TICKER>.csv or <TICKER>.parquet file in {settings.path}")
        return found
    if settings.source == "yahoo":
        raise CliError("nightly --source yahoo needs --tickers A,B,...")
    from nightcast.plans import NightlyPlan

    return list(NightlyPlan.model_fields["tickers"].get_default(call_default_factory=True))  # the plan's default


def build_plan(args: argparse.Namespace) -> NightlyPlan:
    """The nightly plan the options describe (one error line when it is refused)."""
    from pydantic import ValidationError

    from nightcast.plans import NightlyPlan, RunnerSettings

    settings = settings_from_args(args)
    if settings.source == "file" and not args.tickers and not settings.path:
        raise CliError("nightly --source file needs --path DIR, a folder of <TICKER>.csv or <TICKER>.parquet files")
    try:
        runner = RunnerSettings(
            kind=args.runner, workers=args.workers, dask_address=args.dask_address, chunk_tickers=args.chunk_tickers
        )
        return NightlyPlan(tickers=_tickers(args, settings), settings=settings, runner=runner)
    except ValidationError as error:
        raise CliError(format_validation_error(error)) from None


def nightly_text(outcomes: list[TickerOutcome]) -> str:
    """One line per ticker (served candidate, or the stage and reason it failed) and a count."""
    width = max(len(o.ticker) for o in outcomes)
    lines = [
        f"{o.ticker:<{width}}  served {o.served} ({o.training or 'fit'})"
        if o.status == "completed"
        else failed_line(o.ticker, width, o.error)
        for o in outcomes
    ]
    done = sum(o.status == "completed" for o in outcomes)
    as_of = sorted({o.as_of for o in outcomes if o.as_of})
    night = f" for {as_of[-1]}" if as_of else ""
    return "\n".join([*lines, f"{done} of {len(outcomes)} tickers completed{night}"])


def failed_line(ticker: str, width: int, error: str | None) -> str:
    return f"{ticker:<{width}}  FAILED {error}"


def failures_text(errors: dict[str, str]) -> str:
    """The summary of a night whose every ticker failed before it started (pre-flight)."""
    width = max(len(ticker) for ticker in errors)
    lines = [failed_line(ticker, width, error) for ticker, error in errors.items()]
    return "\n".join([*lines, f"0 of {len(errors)} tickers completed (none started: nothing was stored)"])


def command_nightly(args: argparse.Namespace) -> int:
    """Run the nightly flow over the universe, print each ticker's outcome; exit 1 when any ticker failed."""
    plan = build_plan(args)
    failing = failing_tickers(plan.settings, plan.tickers)
    if failing:
        print(failures_text(failing))
        return 1
    prepare_prefect()
    from flows.nightly import TickersFailed, nightly

    try:
        outcomes = run_flow(args, nightly, plan=plan)
    except CliError as error:
        failed = error.failure if isinstance(error.failure, TickersFailed) else None
        if failed is None:
            raise
        outcomes = failed.outcomes
    print(nightly_text(outcomes))
    return 0 if all(o.status == "completed" for o in outcomes) else 1


def register(commands: argparse._SubParsersAction) -> None:
    """Add `nightly` to the nightcast command line."""
    parser = commands.add_parser(
        "nightly",
        help="one night over many tickers (a watchlist or an index), stage by stage over all of them",
        description="Run one night over a universe of tickers: one batched ingest, one validation of the whole "
        "panel, every candidate fitted chunk by chunk on the runner, one write per table. A ticker that fails "
        "never stops the others; the exit code is 1 when any failed.",
    )
    parser.add_argument("--tickers", help="comma-separated tickers (default: every file of --path, or GOOG,^GSPC)")
    parser.add_argument("--runner", choices=["processes", "threads", "dask"], default="processes")
    parser.add_argument("--workers", type=int, default=2, help="processes, threads or local Dask workers (default: 2)")
    parser.add_argument("--dask-address", help="an existing Dask scheduler (tcp://host:8786), with --runner dask")
    parser.add_argument(
        "--chunk-tickers", type=int, default=0, help="tickers per chunk of parallel work (default: 0, automatic)"
    )
    add_settings_options(parser, skip=("ticker",))  # --tickers names the universe
    parser.set_defaults(handler=command_nightly)
