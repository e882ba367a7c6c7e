"""Pre-flight: the checks a flow makes on a ticker's prices (its backtest's folds, then the price suite), made by
the command line on the rows it has read, before Prefect, Great Expectations or TensorFlow start. A file that
fails ends the command in a second or two with the line the flow would end with; it writes nothing (no run
record, no quarantine). Rows this path cannot judge exactly (a rewritten history, a frame of an unusual shape)
are left to the flow, which checks everything again either way."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING

from cli.common import CliError
from nightcast import catalog
from nightcast.errors import ExpectedFailure
from nightcast.warehouse import Warehouse, resolve_root

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from nightcast.settings import Settings
    from tasks.prices.revisions import FetchWindow, Reconciled

Rows = Callable[["FetchWindow"], "pd.DataFrame"]
"""Reads the ticker's rows within a window, as the flow's ingest stage would."""


def from_source(settings: Settings) -> Rows:
    """The settings' source read as the ingest stage reads it (its failure is the stage's line)."""
    from nightcast.price_fetch import ingest_prices

    def read(window: FetchWindow) -> pd.DataFrame:
        try:
            return ingest_prices(settings, None, window)
        except ExpectedFailure as error:
            raise CliError(f"ingest failed: {error}") from None

    return read


def from_staged(settings: Settings, staged: str) -> Rows:
    """Rows the command line staged already, read back as the flow reads them (the file once, however many
    windows are asked for: a backfill asks one per night)."""
    from nightcast.price_sources import FileSource, within_dates

    whole = functools.cache(lambda: FileSource(staged).fetch(settings.ticker, None, None))
    return lambda window: within_dates(whole(), window.start, window.end)


Stored = tuple["pd.DataFrame", "pd.DataFrame"]
"""A ticker's stored prices and recorded revisions, as the reconcile stage reads them."""


def stored_history(settings: Settings) -> Stored:
    """The ticker's stored prices and recorded revisions in the settings' warehouse."""
    warehouse, ticker = Warehouse(resolve_root(settings.warehouse)), settings.ticker
    stored = catalog.stored_prices(warehouse, [ticker]).reset_index(drop=True)
    return stored, catalog.recorded_revisions(warehouse, [ticker]).reset_index(drop=True)


def reconciled_rows(settings: Settings, rows: Rows, known: Stored | None = None) -> Reconciled | None:
    """The ticker's rows met with its stored history (known: read already) as the reconcile stage meets them
    (None when it would refuse them: the flow says why)."""
    from nightcast.stage_options import RevisionPolicy
    from tasks.prices.revisions import fetch_window, reconcile

    ticker = settings.ticker
    stored, recorded = known or stored_history(settings)
    window = fetch_window(
        stored["date"], settings.start, settings.end, settings.ingest_overlap, settings.fetches_whole_history
    )
    fetched = rows(window)
    try:
        return reconcile(
            ticker,
            stored,
            fetched,
            window,
            RevisionPolicy.from_settings(settings),
            recorded[["date", "new_close"]],
        )
    except Exception:  # a rewritten history (or rows it cannot meet): the reconcile stage says why
        return None


def validation_error(settings: Settings, reconciled: Reconciled, min_rows: int) -> str | None:
    """The validate stage's line for the history it would check, or None when it passes (or cannot be judged
    here)."""
    from nightcast.stage_options import Limits
    from tasks.prices.prevalidate import prevalidate_prices
    from tasks.prices.validation_report import ValidationFailed

    report = prevalidate_prices(reconciled.checked, min_rows, Limits.from_settings(settings))
    if report is None or report.success:
        return None
    return f"validate failed: {ValidationFailed(settings.ticker, report)}"


def refuse_bad_prices(settings: Settings, rows: Rows, min_rows: int | None = None) -> None:
    """End the command with the validate stage's line when the ticker's history fails the price suite (min_rows:
    the flow's; by default a night's, every candidate's fewest rows)."""
    from tasks.forecasting.folds import minimum_history

    reconciled = reconciled_rows(settings, rows)
    error = reconciled and validation_error(
        settings, reconciled, min_rows or minimum_history(settings.candidates, settings.time_step)
    )
    if error:
        raise CliError(error)


def refuse_short_backtest(settings: Settings, rows: Rows) -> None:
    """End `nightcast backtest` when the history is too short for its folds (said in rows and options), or
    fails the price suite, in the flow's order."""
    from nightcast.candidates import candidate
    from tasks.forecasting.folds import fold_plan, min_closes, minimum_history

    reconciled = reconciled_rows(settings, rows)
    if reconciled is None:
        return
    needed = max(min_closes(candidate(name), settings.time_step) for name in settings.candidates)  # the longest fit
    try:
        fold_plan(len(reconciled.history), needed, settings.backtest_refit_every, settings.backtest_folds)
    except ExpectedFailure as error:
        raise CliError(f"too little history for a backtest of {settings.ticker}: {error}") from None
    refused = validation_error(settings, reconciled, minimum_history(settings.candidates, settings.time_step))
    if refused:
        raise CliError(refused)


def night_error(settings: Settings, rows: Rows, known: Stored | None = None) -> str | None:
    """The line a night of settings' ticker would end with in its ingest or validate stage, or None when it
    passes them (or cannot be judged here)."""
    from tasks.forecasting.folds import minimum_history

    try:
        reconciled = reconciled_rows(settings, rows, known)
    except CliError as error:
        return str(error)
    return (
        None
        if reconciled is None
        else validation_error(settings, reconciled, minimum_history(settings.candidates, settings.time_step))
    )


def refuse_failing_backfill(settings: Settings, staged: str, days: int) -> None:
    """End `nightcast backfill` when every night it would replay fails its ingest or validation (nothing is
    stored by a failed night, so each meets the warehouse as it is now); a night that passes lets the flow
    run, and it reports each night. The line is the last night's: it sees every row."""
    from tasks.prices.revisions import FetchWindow
    from tasks.training.split import replay_dates

    rows, known = from_staged(settings, staged), stored_history(settings)
    try:
        nights = replay_dates(rows(FetchWindow(settings.start, settings.end, False))["date"], days)
    except ExpectedFailure:
        return  # the flow's replay_dates stage says it, in its words
    errors = []
    for night in reversed(nights):
        error = night_error(settings.until(night), rows, known)
        if error is None:
            return
        errors.append(error)
    if errors:
        also = "" if len(nights) == 1 else f" (as does every one of the {len(nights)} nights to replay)"
        raise CliError(errors[0] + also)


def failing_tickers(settings: Settings, tickers: list[str]) -> dict[str, str] | None:
    """Each ticker's ingest or validate line when every ticker of a night from files fails, else None (one that
    passes lets the flow run: it checks them all again and records each). Other sources are left to the flow,
    whose ingest asks them in batches."""
    if settings.source != "file":
        return None
    errors: dict[str, str] = {}
    for ticker in tickers:
        one = settings.for_ticker(ticker)
        error = night_error(one, from_source(one))
        if error is None:
            return None
        errors[ticker] = error
    return errors
