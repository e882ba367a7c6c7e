"""One ticker's prices through the panel chain of flows.prices: a backtest's and a comparison's."""

from __future__ import annotations

import pandas as pd

from flows.prices import fetch_windows, ingest, keep_ok, load_stored, reconcile_panel, refresh_prices, validate
from flows.steps import StageFailed
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse
from tasks.prices import revisions as revisions_stage
from tasks.records.store import RunInfo


def gather_one(
    warehouse: Warehouse, run: RunInfo, settings: Settings
) -> tuple[pd.DataFrame, revisions_stage.Reconciled]:
    """One ticker's load_stored -> ingest -> reconcile, nothing stored (a backtest evaluates); its fetched rows
    and how they meet the stored history. A failure raises the stage's error."""
    ticker, failed = run.ticker, dict[str, StageFailed]()
    stored = load_stored(warehouse, [ticker])
    windows = fetch_windows(stored, settings, [ticker])
    fetched = keep_ok(ingest(settings, windows, {}), "ingest", failed)
    merged = keep_ok(reconcile_panel(stored, fetched, windows, settings), "reconcile", failed)
    if ticker in failed:
        raise failed[ticker]
    return fetched[ticker], merged[ticker]


def validate_one(
    warehouse: Warehouse, run: RunInfo, fetched: pd.DataFrame, merged: revisions_stage.Reconciled, settings: Settings
) -> str:
    """Validate one ticker's history as fetched (see validate); a failure raises; returns its Data Docs page."""
    pages, refused = validate(warehouse, {run.ticker: run}, {run.ticker: merged}, {run.ticker: fetched}, settings)
    if refused:
        raise StageFailed("validate", refused[run.ticker])
    return pages[run.ticker]


def refresh_one(warehouse: Warehouse, run: RunInfo, settings: Settings, min_rows: int | None = None) -> pd.DataFrame:
    """refresh_prices for one ticker (a comparison's): its history to fit on; a failure raises its stage's error."""
    tonight = refresh_prices(warehouse, {run.ticker: run}, settings, min_rows=min_rows)
    if run.ticker in tonight.failed:
        raise tonight.failed[run.ticker]
    return tonight.histories[run.ticker]
