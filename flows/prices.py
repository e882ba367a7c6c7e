"""A night's prices for many tickers at once, each stage one task run over all of them: read what the warehouse
holds, fetch only the overlap and the new days (the whole history the first night), reconcile them with the
stored closes, validate the history tonight's models will see, store, and read back what they fit on.

A ticker that fails a stage (bad data, a rewritten history, an unknown symbol) drops out with its reason and
its fetched rows quarantined where validation refused them; the others go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flows.steps import StageFailed, stage
from nightcast import catalog, data_docs, price_fetch
from nightcast.price_batches import Batching
from nightcast.settings import Settings
from nightcast.stage_options import Limits, RevisionPolicy
from nightcast.warehouse import Warehouse
from tasks.forecasting import tonight
from tasks.forecasting.folds import minimum_history
from tasks.prices import revisions as revisions_stage
from tasks.prices import validate as validate_stage
from tasks.prices.panel_validate import PanelChecked, validate_panel
from tasks.prices.validation_report import ValidationReport
from tasks.records.store import RunInfo


@dataclass(frozen=True)
class Stored:
    """What the warehouse holds for the tickers before tonight: their prices and recorded revisions."""

    prices: pd.DataFrame
    revisions: pd.DataFrame

    def of(self, ticker: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """One ticker's stored prices and revisions."""
        return (
            self.prices[self.prices["ticker"] == ticker].reset_index(drop=True),
            self.revisions[self.revisions["ticker"] == ticker].reset_index(drop=True),
        )


@stage("load_stored")
def load_stored(warehouse: Warehouse, tickers: list[str]) -> Stored:
    """Every stored price and recorded revision of the tickers (one query each)."""
    return Stored(catalog.stored_prices(warehouse, tickers), catalog.recorded_revisions(warehouse, tickers))


def fetch_windows(stored: Stored, settings: Settings, tickers: list[str]) -> dict[str, revisions_stage.FetchWindow]:
    """Each ticker's window: from its overlap-th last stored session to end (the whole history when none)."""
    whole = settings.fetches_whole_history
    return {
        t: revisions_stage.fetch_window(
            stored.of(t)[0]["date"], settings.start, settings.end, settings.ingest_overlap, whole
        )
        for t in tickers
    }


@stage("ingest")
def ingest(
    settings: Settings,
    windows: dict[str, revisions_stage.FetchWindow],
    prefetched: dict[str, str],
    batching: Batching | None = None,
) -> dict[str, pd.DataFrame | Exception]:
    """Each ticker's rows within its window from the configured source (Yahoo in batches), or from the rows
    fetched for it already (prefetched: ticker -> staged Parquet file); a ticker's failure is its entry."""
    staged = {t: w for t, w in windows.items() if t in prefetched}
    out = {t: _staged(prefetched[t], t, w) for t, w in staged.items()}
    rest = {t: w for t, w in windows.items() if t not in prefetched}
    if rest:
        out.update(price_fetch.fetch_tickers(price_fetch.source_for(settings), rest, batching))
    for ticker, frame in out.items():
        if isinstance(frame, pd.DataFrame) and frame.empty:
            out[ticker] = price_fetch.empty_window(settings, ticker, windows[ticker])
    return {t: out[t] for t in windows}


def _staged(path: str, ticker: str, window: revisions_stage.FetchWindow) -> pd.DataFrame | Exception:
    try:
        return price_fetch.FileSource(path).fetch(ticker, window.start, window.end)
    except Exception as error:
        return error


@stage("reconcile")
def reconcile_panel(
    stored: Stored,
    fetched: dict[str, pd.DataFrame],
    windows: dict[str, revisions_stage.FetchWindow],
    settings: Settings,
) -> dict[str, revisions_stage.Reconciled | Exception]:
    """Each ticker's new days and revisions (recorded once, kept or taken by settings.on_revision), or the
    refusal of a rewritten history."""
    out: dict[str, revisions_stage.Reconciled | Exception] = {}
    for ticker, rows in fetched.items():
        prices, recorded = stored.of(ticker)
        try:
            out[ticker] = revisions_stage.reconcile(
                ticker,
                prices,
                rows,
                windows[ticker],
                RevisionPolicy.from_settings(settings),
                recorded[["date", "new_close"]],
            )
        except Exception as error:
            out[ticker] = error
    return out


@stage("validate")
def validate(
    warehouse: Warehouse,
    runs: dict[str, RunInfo],
    merged: dict[str, revisions_stage.Reconciled],
    fetched: dict[str, pd.DataFrame],
    settings: Settings,
    min_rows: int | None = None,
) -> tuple[dict[str, str], dict[str, Exception]]:
    """Run the suite on each ticker's history as the source has it tonight (every fetched row, stored rows on
    the other days), store the results; a failed ticker's fetched rows are quarantined. Returns each ticker's
    Data Docs page and the failures."""
    limits, rows_needed = (
        Limits.from_settings(settings),
        min_rows or minimum_history(settings.candidates, settings.time_step),
    )
    checked = {ticker: reconciled.checked for ticker, reconciled in merged.items()}
    reports, pages = _validate_all(warehouse, checked, rows_needed, limits)
    failures: dict[str, Exception] = {}
    now = pd.Timestamp.now(tz="UTC")
    for ticker, report in reports.items():
        run = runs[ticker]
        warehouse.write_run_table("validations", ticker, run.run_id, report.rows(run.run_id, ticker, now))
        if not report.success:
            warehouse.quarantine(ticker, run.run_id, fetched[ticker], report.to_json())
            failures[ticker] = validate_stage.ValidationFailed(ticker, report)
    return {ticker: str(page) for ticker, page in pages.items()}, failures


def _validate_all(
    warehouse: Warehouse, checked: dict[str, pd.DataFrame], rows_needed: int, limits: Limits
) -> tuple[dict[str, ValidationReport], dict[str, Path]]:
    """One ticker alone (its Data Docs in its folder); many as one panel (one page for those that pass). The
    stage validates; the pages are written here, into the warehouse's Data Docs folders."""
    if not checked:
        return {}, {}
    if len(checked) == 1:
        [(ticker, frame)] = checked.items()
        report, validated = validate_stage.validate_for_docs(frame, rows_needed, limits)
        with warehouse.lock(f"data-docs-{ticker}"):
            return {ticker: report}, {ticker: data_docs.write_site(validated, warehouse.data_docs_dir(ticker))}
    done = validate_panel(checked, rows_needed, limits)
    with warehouse.lock("data-docs-panel"):
        pages = write_panel_docs(done, warehouse.panel_docs_dir(), warehouse.data_docs_dir)
    return done.reports, pages


def write_panel_docs(done: PanelChecked, folder: Path, folder_of: Callable[[str], Path]) -> dict[str, Path]:
    """Write a panel validation's Data Docs: the panel's runs under folder (the last one's page is every panel
    ticker's), each ticker validated alone under folder_of(ticker); returns each ticker's page."""
    panel = [data_docs.write_site(validated, folder) for validated in done.panel]
    return {
        t: data_docs.write_site(done.alone[t], folder_of(t)) if t in done.alone else panel[-1] for t in done.reports
    }


@stage("store_prices")
def store_prices(
    warehouse: Warehouse, runs: dict[str, RunInfo], merged: dict[str, revisions_stage.Reconciled], settings: Settings
) -> dict[str, int]:
    """Record tonight's revisions, then merge the new (and taken) rows into prices; rows written per ticker."""
    now, added = pd.Timestamp.now(tz="UTC"), {}
    for ticker, rows in merged.items():
        if not rows.revisions.empty:
            revised = rows.revisions.assign(run_id=runs[ticker].run_id, rule=settings.on_revision, detected_at=now)
            warehouse.write_run_table("price_revisions", ticker, runs[ticker].run_id, revised)
        added[ticker] = warehouse.merge_prices(rows.rows, ticker, settings.source, now, replace=rows.replaced)
    return added


@stage("load_history")
def load_history(warehouse: Warehouse, as_of: dict[str, dt.date]) -> dict[str, pd.DataFrame]:
    """The stored prices of each ticker up to its as_of: exactly what tonight's models may see."""
    stored = catalog.stored_prices(warehouse, list(as_of), max(as_of.values()))
    return {t: tonight.history_until(stored[stored["ticker"] == t], day) for t, day in as_of.items()}


@dataclass
class Prices:
    """Tonight's prices after the chain: per ticker the history to fit on, rows written, the Data Docs page;
    and the tickers that failed a stage, with the stage's error."""

    histories: dict[str, pd.DataFrame] = field(default_factory=dict)
    added: dict[str, int] = field(default_factory=dict)
    data_docs: dict[str, str] = field(default_factory=dict)
    failed: dict[str, StageFailed] = field(default_factory=dict)


def keep_ok(results: dict, stage_name: str, failed: dict[str, StageFailed]) -> dict:
    """The entries that are not errors; each error is recorded as its ticker's failure of that stage."""
    for ticker, value in results.items():
        if isinstance(value, Exception):
            failed[ticker] = StageFailed(stage_name, value)
    return {t: v for t, v in results.items() if not isinstance(v, Exception)}


def refresh_prices(
    warehouse: Warehouse,
    runs: dict[str, RunInfo],
    settings: Settings,
    prefetched: dict[str, str] | None = None,
    batching: Batching | None = None,
    min_rows: int | None = None,
) -> Prices:
    """load_stored -> ingest -> reconcile -> validate -> store_prices -> load_history, over every ticker."""
    out = Prices()
    stored = load_stored(warehouse, list(runs))
    windows = fetch_windows(stored, settings, list(runs))
    fetched = keep_ok(ingest(settings, windows, prefetched or {}, batching), "ingest", out.failed)
    merged = keep_ok(reconcile_panel(stored, fetched, windows, settings), "reconcile", out.failed)
    out.data_docs, refused = validate(warehouse, runs, merged, fetched, settings, min_rows)
    merged = {t: m for t, m in keep_ok({**merged, **refused}, "validate", out.failed).items()}
    out.added = store_prices(warehouse, runs, merged, settings)
    as_of = {t: m.history["date"].max().date() for t, m in merged.items()}
    out.histories = load_history(warehouse, as_of) if as_of else {}
    return out
