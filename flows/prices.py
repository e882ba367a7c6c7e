"""Prefect tasks of a night's prices, and their chain written once (refresh_prices): read what the warehouse
holds for the ticker, fetch only the overlap and the new days (the whole history the first night), reconcile
them with the stored closes, validate the history tonight's models will see, store."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from flows.steps import stage
from nightcast.candidates import candidate as lookup
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse
from tasks import forecasters, sources, tonight
from tasks import ingest as ingest_stage
from tasks import revisions as revisions_stage
from tasks import store as store_stage
from tasks import validate as validate_stage
from tasks.expectations import Limits


def retry_if_throttled(task, task_run, state) -> bool:
    """Retry ingest only when a network source asked us to slow down (a rate limit). An unreachable source
    was already asked again by the source itself, and bad files or symbols fail at once."""
    error = state.result(raise_on_failure=False)
    return isinstance(getattr(error, "cause", error), ingest_stage.SourceThrottled)


@dataclass(frozen=True)
class Stored:
    """What the warehouse holds for a ticker before tonight: its prices and the revisions recorded so far."""

    prices: pd.DataFrame
    revisions: pd.DataFrame


@stage("load_stored")
def load_stored(warehouse: Warehouse, ticker: str) -> Stored:
    """The ticker's stored prices (all dates) and recorded revisions; reads only the ticker's files."""
    prices = warehouse.query("select * from prices where ticker = ? order by date", [ticker], tickers=[ticker])
    recorded = warehouse.query(
        "select date, new_close from price_revisions where ticker = ?", [ticker], tickers=[ticker]
    )
    return Stored(prices, recorded)


@stage("ingest", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_if_throttled)
def ingest(
    settings: Settings, window: revisions_stage.FetchWindow | None = None, prefetched: str | None = None
) -> pd.DataFrame:
    """Fetch the ticker's prices within the window from the configured source, or read the rows the
    nightly fetched for it in a batch (prefetched: their Parquet file)."""
    source = ingest_stage.FileSource(prefetched) if prefetched else None
    return sources.ingest_prices(settings, source, window)


@stage("reconcile")
def reconcile(
    stored: Stored, fetched: pd.DataFrame, window: revisions_stage.FetchWindow, settings: Settings
) -> revisions_stage.Reconciled:
    """New days, revisions (recorded once, kept or taken by settings.on_revision), a rewrite refused."""
    return revisions_stage.reconcile(
        settings.ticker,
        stored.prices,
        fetched,
        window,
        settings.on_revision,
        settings.revision_tolerance,
        settings.max_revised_days,
        stored.revisions,
    )


def minimum_rows(settings: Settings) -> int:
    """Fewest rows every candidate can be fitted on, plus one day to forecast from."""
    return max(forecasters.min_closes(lookup(name), settings) for name in settings.candidates) + 1


@stage("validate")
def validate(
    warehouse: Warehouse,
    run: store_stage.RunInfo,
    history: pd.DataFrame,
    fetched: pd.DataFrame,
    settings: Settings,
    min_rows: int | None = None,
) -> str:
    """Run the suite on tonight's history as the source has it (every fetched row, stored rows on the other
    days), store its results and Data Docs; a failed batch (the fetched rows) is quarantined and stops the flow."""
    limits = Limits.from_settings(settings)
    with warehouse.lock(f"data-docs-{run.ticker}"):
        report, docs = validate_stage.validate_and_document(
            history, min_rows or minimum_rows(settings), limits, warehouse.data_docs_dir(run.ticker)
        )
    rows = report.rows(run.run_id, run.ticker, pd.Timestamp.now(tz="UTC"))
    warehouse.write_run_table("validations", run.ticker, run.run_id, rows)
    if not report.success:
        warehouse.quarantine(run.ticker, run.run_id, fetched, report.to_json())
    validate_stage.check_report(settings.ticker, report)
    return str(docs)


@stage("store_prices")
def store_prices(
    warehouse: Warehouse, run: store_stage.RunInfo, merged: revisions_stage.Reconciled, settings: Settings
) -> int:
    """Record tonight's revisions, then merge the new (and taken) rows into prices; returns rows written."""
    now = pd.Timestamp.now(tz="UTC")
    if not merged.revisions.empty:
        rows = merged.revisions.assign(run_id=run.run_id, rule=settings.on_revision, detected_at=now)
        warehouse.write_run_table("price_revisions", run.ticker, run.run_id, rows)
    return warehouse.merge_prices(merged.rows, run.ticker, settings.source, now, replace=merged.replaced)


@stage("load_history")
def load_history(warehouse: Warehouse, ticker: str, as_of: dt.date) -> pd.DataFrame:
    """The stored prices up to as_of: exactly what tonight's models may see."""
    stored = warehouse.query(
        "select * from prices where ticker = ? and date <= ? order by date", [ticker, as_of], tickers=[ticker]
    )
    return tonight.history_until(stored, as_of)


@dataclass(frozen=True)
class Gathered:
    """Tonight's fetched rows and how they meet the stored history (nothing written yet)."""

    fetched: pd.DataFrame
    merged: revisions_stage.Reconciled


def gather_prices(
    warehouse: Warehouse, run: store_stage.RunInfo, settings: Settings, prefetched: str | None = None
) -> Gathered:
    """load_stored -> ingest (the overlap and the new days; the whole history the first night) -> reconcile."""
    stored = load_stored(warehouse, run.ticker)
    window = revisions_stage.fetch_window(
        stored.prices["date"], settings.start, settings.end, settings.ingest_overlap, settings.fetches_whole_history
    )
    fetched = ingest(settings, window, prefetched)
    return Gathered(fetched, reconcile(stored, fetched, window, settings))


@dataclass(frozen=True)
class Prices:
    """Tonight's prices after the chain: the history to fit on, what was written, the Data Docs page."""

    history: pd.DataFrame
    added: int
    revisions: pd.DataFrame
    data_docs: str


def refresh_prices(
    warehouse: Warehouse,
    run: store_stage.RunInfo,
    settings: Settings,
    prefetched: str | None = None,
    min_rows: int | None = None,
) -> Prices:
    """gather_prices -> validate the history as fetched -> store_prices -> load_history."""
    gathered = gather_prices(warehouse, run, settings, prefetched)
    merged = gathered.merged
    data_docs = validate(warehouse, run, merged.checked, gathered.fetched, settings, min_rows)
    added = store_prices(warehouse, run, merged, settings)
    as_of = merged.history["date"].max().date()
    return Prices(load_history(warehouse, run.ticker, as_of), added, merged.revisions, data_docs)
