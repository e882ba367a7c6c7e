"""A night over many tickers (the nightly's universe, or the one ticker of a retrain): every stage runs once
over all of them, each ticker's forecasting in chunks of tickers (the unit of parallel work), and each table
is written once for the night. A ticker that fails any stage drops out with its run marked failed and its
reason; the others go on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from flows import prices, records
from flows.chunk import ChunkItem, ChunkOutcome, forecast_chunk
from flows.steps import StageFailed, stage
from nightcast import catalog, upkeep
from nightcast.price_batches import Batching
from nightcast.settings import Settings
from nightcast.stage_options import ForecastPlan
from nightcast.warehouse import Warehouse
from tasks.forecasting import registry
from tasks.forecasting.tonight import NightResult
from tasks.records import store as store_stage

TABLE_ORDER = ("forecasts", "metrics", "model_events", "backtests", "decisions")
"""Tonight's tables in the order they are written: the decision last, so a reader who sees it sees what it
was made on."""


@dataclass(frozen=True)
class TickerOutcome:
    """How one ticker's night ended."""

    ticker: str
    status: str
    run_id: str | None = None
    as_of: str | None = None
    served: str | None = None
    action: str | None = None
    error: str | None = None
    train_seconds: float | None = None
    """Fitting time of the night, cold-start backtest folds included."""
    training: str | None = None
    """How the night's RNN candidates trained (full, fine_tune; fit when there is none)."""
    worker: str | None = None
    """Where its forecasts were made: 'pid 1234 on host'."""


@dataclass
class Night:
    """What a night over its tickers ended with: each ticker's outcome, result when it completed, and error
    (a StageFailed naming the stage) when it failed."""

    outcomes: dict[str, TickerOutcome] = field(default_factory=dict)
    results: dict[str, NightResult] = field(default_factory=dict)
    errors: dict[str, BaseException] = field(default_factory=dict)
    workers: dict[str, str] = field(default_factory=dict)


def chunks_of(tickers: list[str], size: int) -> list[list[str]]:
    """Consecutive chunks of at most size tickers."""
    return [tickers[i : i + size] for i in range(0, len(tickers), max(1, size))]


@stage("plan_fits")
def plan_fits(
    warehouse: Warehouse, histories: dict[str, pd.DataFrame], forecasting: ForecastPlan
) -> dict[str, tuple[pd.DataFrame, frozenset[str], dict[str, registry.Training], str | None]]:
    """Per ticker, what the warehouse holds for tonight's forecasts: the stored forecasts of its evidence
    window, the candidates it has backtests of, each candidate's plan (continue its previous version, or
    fit from scratch) and the champion it served last."""
    as_of: dict[str, dt.date] = {t: h["date"].iloc[-1].date() for t, h in histories.items()}
    if not as_of:
        return {}
    stored = catalog.stored_forecasts(warehouse, as_of, forecasting.evidence.window)
    backtested = catalog.backtested(warehouse, list(as_of))
    versions = catalog.latest_versions(warehouse, as_of)
    revisions = catalog.recorded_revisions(warehouse, list(as_of))
    champions = catalog.current_champions(warehouse, as_of)
    out = {}
    for ticker, night in as_of.items():
        mine = versions[versions["ticker"] == ticker]
        taken = revisions[revisions["ticker"] == ticker]
        plans = {}
        for name in forecasting.candidates:
            rows = mine[mine["candidate"] == name]
            last = None if rows.empty else rows.iloc[0].to_dict()
            folder = last is not None and (warehouse.root / str(last["path"])).is_dir()
            revised = registry.taken_since(taken, last)
            every = forecasting.full_retrain_every_days
            plans[name] = registry.plan_training(name, last, night, every, folder, revised)
        own = stored[stored["ticker"] == ticker].drop(columns="ticker").reset_index(drop=True)
        out[ticker] = (own, frozenset(backtested[ticker]), plans, champions[ticker])
    return out


@stage("store_results")
def store_results(warehouse: Warehouse, outcomes: list[ChunkOutcome]) -> int:
    """Write tonight's rows of every table (each ticker's file), then make each served path its ticker's
    latest forecast (one rewrite of the shared file); returns the tickers stored."""
    done = [o for o in outcomes if o.tables is not None and o.result is not None]
    for table in TABLE_ORDER:
        for outcome in done:
            assert outcome.tables is not None and outcome.result is not None
            if table in outcome.tables:
                warehouse.write_run_table(table, outcome.ticker, outcome.result.run_id, outcome.tables[table])
    if done:
        served = [o.tables["forecasts"] for o in done if o.tables is not None]
        warehouse.replace_latest(pd.concat([f[f["served"]] for f in served], ignore_index=True))
    return len(done)


@stage("prune")
def prune(warehouse: Warehouse, tickers: list[str], keep: int) -> int:
    """Delete each ticker's model folders, plots and Data Docs pages older than its last `keep` runs."""
    return sum(upkeep.prune_ticker(warehouse, ticker, keep) for ticker in tickers)


Submit = Callable[[str, ForecastPlan, list[ChunkItem]], Callable[[], list[ChunkOutcome]]]


def inline(root: str, forecasting: ForecastPlan, items: list[ChunkItem]) -> Callable[[], list[ChunkOutcome]]:
    """Forecast a chunk in this process, now (a run of one ticker, and tests)."""
    done = forecast_chunk(root, forecasting, items)
    return lambda: done


def outcome_of(result: NightResult, worker: str | None = None) -> TickerOutcome:
    """A completed ticker's outcome."""
    return TickerOutcome(
        worker=worker,
        ticker=result.ticker,
        status="completed",
        run_id=result.run_id,
        as_of=str(result.as_of),
        served=result.decision.champion,
        action=result.decision.action,
        train_seconds=result.train_seconds + result.backtest_seconds,
        training=result.rnn_training,
    )


def item_of(run: store_stage.RunInfo, tonight: prices.Prices, held: tuple) -> ChunkItem:
    """One ticker's part of a chunk (its ticker travels in its run)."""
    stored, backtested, plans, champion = held
    return ChunkItem(
        run=run,
        history=tonight.histories[run.ticker],
        stored=stored,
        backtested=backtested,
        plans=plans,
        champion=champion,
        added=tonight.added[run.ticker],
        data_docs=tonight.data_docs[run.ticker],
    )


def run_night(
    warehouse: Warehouse,
    settings: Settings,
    tickers: list[str],
    submit: Submit = inline,
    chunk_size: int = 50,
    prefetched: dict[str, str] | None = None,
    batching: Batching | None = Batching(),
) -> Night:
    """Tonight for every ticker: prices, evidence, fits and forecasts (in chunks through submit), results
    stored; each ticker's run row says how it ended."""
    runs = records.open_runs(warehouse, {t: settings.for_ticker(t) for t in tickers})
    forecasting = ForecastPlan.from_settings(settings)
    books = {t: records.Books() for t in tickers}
    night = Night()
    try:
        tonight = prices.refresh_prices(warehouse, runs, settings, prefetched, batching)
        night.errors.update(tonight.failed)
        held = plan_fits(warehouse, tonight.histories, forecasting)
        items = {t: item_of(runs[t], tonight, held[t]) for t in tickers if t in held}
        for t, item in items.items():
            books[t].data_hash = store_stage.hash_prices(item.history)
        pending = [
            submit(str(warehouse.root), forecasting, [items[t] for t in c]) for c in chunks_of(list(items), chunk_size)
        ]
        outcomes = [outcome for wait in pending for outcome in wait()]
        store_results(warehouse, outcomes)
        for outcome in outcomes:
            night.workers[outcome.ticker] = outcome.worker
            if outcome.result is not None:
                night.results[outcome.ticker] = outcome.result
                books[outcome.ticker].model_path = outcome.result.model_folder
            else:
                night.errors[outcome.ticker] = StageFailed(outcome.stage or "forecast", outcome.cause or RuntimeError())
        prune(warehouse, list(night.results), settings.keep_runs)
    except BaseException as error:
        for t in tickers:
            night.errors.setdefault(t, error)
        raise
    finally:
        for ticker, failure in night.errors.items():
            books[ticker].error = str(failure).splitlines()[0] if str(failure) else type(failure).__name__
        close_night(warehouse, runs, books, night)
    return night


def close_night(warehouse: Warehouse, runs: dict, books: dict[str, records.Books], night: Night) -> None:
    """Record every run's end and each ticker's outcome."""
    records.close_runs(warehouse, runs, books)
    for ticker, run in runs.items():
        if ticker in night.results:
            night.outcomes[ticker] = outcome_of(night.results[ticker], night.workers.get(ticker))
        else:
            night.outcomes[ticker] = TickerOutcome(ticker, "failed", run.run_id, error=books[ticker].error)
