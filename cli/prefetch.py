"""Tonight's prices fetched by the command line before a run starts Prefect or TensorFlow: a source that
fails (no network, an unknown symbol, a file that is not prices) ends the command in seconds with one line,
and the run reads the rows staged here (the nightly's batches hand their rows to each run the same way)."""

from __future__ import annotations

import argparse

from cli.common import CliError
from nightcast.catalog import price_dates
from nightcast.errors import ExpectedFailure
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, resolve_root


def prefetch_prices(settings: Settings, args: argparse.Namespace) -> str:
    """Fetch settings.ticker's window (the overlap and the new days; the whole history the first night) and
    stage the rows in the warehouse's incoming/ folder; returns the staged file. A failure -> CliError."""
    from cli.terminal import quiet_clients
    from nightcast.price_fetch import ingest_prices
    from tasks.prices.revisions import fetch_window
    from tasks.records.store import new_run_id

    quiet_clients(args)
    warehouse = Warehouse(resolve_root(settings.warehouse))
    window = fetch_window(
        price_dates(warehouse, settings.ticker),
        settings.start,
        settings.end,
        settings.ingest_overlap,
        settings.fetches_whole_history,
    )
    try:
        frame = ingest_prices(settings, None, window)
    except ExpectedFailure as error:
        raise CliError(f"ingest failed: {error}") from None
    return str(warehouse.stage_incoming(settings.ticker, new_run_id(), frame))


def discard_prefetched(settings: Settings, staged: str) -> None:
    """Delete the staged rows once the run has ended, whichever way."""
    Warehouse(resolve_root(settings.warehouse)).discard_incoming(staged)
