"""The unit of parallel work of a night: a chunk of tickers, forecast together in one task run.

The task loads each continuing candidate's previous version from its model folder, hands every ticker of the
chunk to tasks/forecasting/panel.py at once (so each candidate's fits of the chunk run in one call), stores each fitted
candidate's folder (whole or not at all) and the ticker's plot, and returns each ticker's rows of tonight's
tables for the flow to write. It runs wherever the night's task runner puts it: this process, a pool worker
or a Dask worker (the warehouse is a shared folder).
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import MissingContextError

from flows import model_files
from flows.publish import Fits, NightFiles, night_result, night_tables
from nightcast.candidates import candidate as lookup
from nightcast.errors import is_expected
from nightcast.stage_options import ForecastPlan
from nightcast.warehouse import Warehouse, write_folder_atomic
from tasks.forecasting import forecasters, panel, registry
from tasks.forecasting.rolling_origin import backtest_rows
from tasks.forecasting.tonight import NightResult
from tasks.records import plot
from tasks.records import store as store_stage


@dataclass(frozen=True)
class ChunkItem:
    """One ticker's part of a chunk: its run (the ticker), history and what the warehouse holds for it."""

    run: store_stage.RunInfo
    history: pd.DataFrame
    stored: pd.DataFrame
    backtested: frozenset[str] = frozenset()
    plans: dict[str, registry.Training] = field(default_factory=dict)
    champion: str | None = None
    added: int = 0
    data_docs: str = ""


@dataclass(frozen=True)
class ChunkOutcome:
    """How one ticker of the chunk ended: tonight's tables and result, or the failed step's one line."""

    ticker: str
    stage: str | None = None
    cause: BaseException | None = None
    tables: dict[str, pd.DataFrame] | None = None
    result: NightResult | None = None
    worker: str = field(default_factory=lambda: f"pid {os.getpid()} on {socket.gethostname()}")


def load_previous(warehouse: Warehouse, item: ChunkItem) -> dict[str, Any]:
    """The previous version of each candidate tonight's plans continue, loaded from its folder."""
    return {
        name: model_files.load_state(lookup(name), warehouse.root / plan.parent_path)
        for name, plan in item.plans.items()
        if plan.mode in ("fine_tune", "filter") and plan.parent_path
    }


def save_into(fitted: forecasters.Fitted, folder: Path) -> None:
    """Write a fitted candidate's state into a (temporary) model folder."""
    model_files.save(fitted, folder)


def save_fits(warehouse: Warehouse, item: ChunkItem, fits: dict[str, forecasters.Fitted]) -> Fits:
    """Store every fitted candidate in the run's model folder (each appears whole or not at all)."""
    stored: Fits = {}
    for name, fitted in fits.items():
        folder = warehouse.model_dir(item.run.ticker, item.run.run_id) / name
        write_folder_atomic(folder, functools.partial(save_into, fitted))
        plan = item.plans.get(name) or registry.Training("fit", "refitted nightly")
        stored[name] = store_stage.StoredFit(fitted, plan, str(folder.relative_to(warehouse.root)))
    return stored


def conclude(
    warehouse: Warehouse, item: ChunkItem, done: panel.TickerForecasts, forecasting: ForecastPlan
) -> ChunkOutcome:
    """Store the ticker's fits and plot; its tables and result."""
    fits = save_fits(warehouse, item, dict(done.fits))
    backtests = [backtest_rows(item.run.run_id, item.run.ticker, n, results) for n, results in done.folds.items()]
    tables = night_tables(item.run, forecasting, item.history, done, fits, backtests)
    board = plot.leaderboard(tables["metrics"])
    served = tables["forecasts"][tables["forecasts"]["served"]].sort_values("horizon")
    title = f"{item.run.ticker} as of {served['as_of'].iloc[0]}: served {done.decision.champion}"
    path = warehouse.plot_path(item.run.ticker, item.run.run_id)
    warehouse.write_bytes(path, plot.render_night(item.history, served, board, title))
    files = NightFiles(warehouse, str(path), item.data_docs)
    result = night_result(item.run, item.history, item.added, done, fits, tables, files)
    return ChunkOutcome(item.run.ticker, tables=tables, result=result)


def portable(error: BaseException) -> BaseException:
    """The error itself when it can travel back from a worker process, else its type and message."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


def forecast_items(warehouse_root: str, forecasting: ForecastPlan, items: list[ChunkItem]) -> list[ChunkOutcome]:
    """Every ticker of the chunk through tonight's forecasts; a ticker's failure is its own outcome."""
    warehouse = Warehouse(warehouse_root)
    inputs, failed = [], {}
    for item in items:
        try:
            previous = load_previous(warehouse, item)
        except Exception as error:
            report_bug(item.run.ticker, "fit", error)
            failed[item.run.ticker] = ChunkOutcome(item.run.ticker, "fit", portable(error))
            continue
        inputs.append(
            panel.TickerInputs(
                item.run.ticker,
                item.history,
                item.stored,
                item.backtested,
                item.plans,
                previous,
                item.champion,
            )
        )
    done = panel.forecast_tickers(inputs, forecasting)
    outcomes = []
    for item in items:
        ticker = item.run.ticker
        if ticker in failed:
            outcomes.append(failed[ticker])
            continue
        result = done[ticker]
        if isinstance(result, panel.TickerFailed):
            report_bug(ticker, result.stage, result.error)
            outcomes.append(ChunkOutcome(ticker, result.stage, portable(result.error)))
            continue
        try:
            outcomes.append(conclude(warehouse, item, result, forecasting))
        except Exception as error:
            report_bug(ticker, "store_results", error)
            outcomes.append(ChunkOutcome(ticker, "store_results", portable(error)))
    return outcomes


@task(name="forecast_chunk", cache_policy=NO_CACHE)
def forecast_chunk(warehouse_root: str, forecasting: ForecastPlan, items: list[ChunkItem]) -> list[ChunkOutcome]:
    """Backtest, fit, forecast and choose for a chunk of tickers at once (one task run, any worker)."""
    return forecast_items(warehouse_root, forecasting, items)


def report_bug(ticker: str, stage: str, error: BaseException) -> None:
    """A ticker's failure that is no expected one (bad data, a fit that failed) is a bug: its traceback goes to
    the log (the console and the UI), though the other tickers go on."""
    if is_expected(error):
        return
    try:
        logger: Any = get_run_logger()
    except MissingContextError:  # called outside a task run (tests of forecast_items)
        logger = logging.getLogger("nightcast.night")
    logger.error("%s: %s raised a bug", ticker, stage, exc_info=(type(error), error, error.__traceback__))
