"""Prefect tasks: each stage's pure function with a name, retries only where there is network I/O.

Nothing here computes; every body hands straight to functions in tasks/ and the warehouse. Results are
kept in memory (NO_CACHE): fitted state is persisted explicitly by the store steps, never pickled by Prefect.
"""

from __future__ import annotations

import datetime as dt
import time
from functools import wraps

import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from nightcast import progress, upkeep
from nightcast.candidates import candidate as lookup
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, write_folder_atomic
from tasks import backtest as backtest_stage
from tasks import evidence as evidence_stage
from tasks import forecasters, registry, tonight
from tasks import store as store_stage


class StageFailed(RuntimeError):
    """A stage failed; the message starts with the stage's name and keeps the cause's one-line reason."""

    def __init__(self, stage: str, cause: BaseException):
        super().__init__(f"{stage} failed: {cause}")
        self.stage = stage
        self.cause = cause


def stage(name: str, **options):
    """Declare a Prefect task named after its stage whose errors say which stage failed, and which reports
    its time to whoever listens to progress (the command line prints one line per stage)."""

    def decorate(fn):
        @wraps(fn)
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            except StageFailed:
                raise
            except Exception as error:
                raise StageFailed(name, error) from error
            label = run_label(name, fn, args, kwargs)
            progress.current().stage(label, time.perf_counter() - started)
            return result

        return task(name=name, cache_policy=NO_CACHE, **options)(run)

    return decorate


def run_label(name: str, fn, args, kwargs) -> str:
    """The stage's name, with the candidate it worked on when there is one (fit simple_rnn-log_return)."""
    import inspect

    bound = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
    which = bound.get("name") or getattr(getattr(bound.get("fitted"), "candidate", None), "name", None)
    return f"{name} {which}" if which else name


@stage("load_forecasts")
def load_forecasts(warehouse: Warehouse, ticker: str, as_of: dt.date, window: int) -> pd.DataFrame:
    """The stored candidate forecasts (live, else backtest) of the last `window` origins whose target is on or
    before as_of."""
    return registry.stored_forecasts(warehouse, ticker, as_of, window)


@stage("backtested")
def backtested(warehouse: Warehouse, ticker: str) -> set[str]:
    """Candidates the ticker has backtest evidence for already."""
    return registry.backtested_candidates(warehouse, ticker)


@stage("gather_evidence")
def gather_evidence(forecasts: pd.DataFrame, history: pd.DataFrame, window: int) -> pd.DataFrame:
    """The forecasts realized by tonight from the last `window` origins, scored against the stored closes."""
    as_of = history["date"].iloc[-1].date()
    return evidence_stage.realized(forecasts, evidence_stage.price_facts(history), as_of, window)


@stage("plan_folds")
def plan_folds(prices: pd.DataFrame, settings: Settings) -> None:
    """Check before anything is written that every candidate's folds fit the history."""
    for name in settings.candidates:
        backtest_stage.fold_plan(
            len(prices),
            forecasters.min_closes(lookup(name), settings),
            settings.backtest_refit_every,
            settings.backtest_folds,
        )


@stage("backtest", task_run_name="backtest-{name}")
def backtest(
    history: pd.DataFrame, name: str, settings: Settings, refit_every: int, folds: int
) -> list[backtest_stage.FoldResult]:
    """Rolling-origin folds of one candidate, horizons 1..H from every origin, out of sample."""
    return backtest_stage.run_backtest(history, lookup(name), settings, refit_every, folds)


@stage("fit", task_run_name="fit-{name}")
def fit(
    warehouse: Warehouse, history: pd.DataFrame, name: str, settings: Settings, run: store_stage.RunInfo
) -> tuple[forecasters.Fitted, registry.Training, str]:
    """Fit one candidate on every row up to tonight (an RNN fine-tunes its previous version unless a full
    fit is due) and store it in the run's model folder, which appears whole or not at all."""
    candidate, as_of = lookup(name), history["date"].iloc[-1].date()
    plan, previous = registry.Training("fit", "refitted nightly"), None
    if candidate.is_rnn:
        last = registry.previous_version(warehouse, run.ticker, name, as_of)
        stored = last is not None and (warehouse.root / last["path"]).is_dir()
        revised = registry.taken_revision(warehouse, run.ticker, last)
        plan = registry.plan_rnn_training(last, as_of, settings.full_retrain_every_days, stored, revised)
        parent = plan.parent_path if plan.mode == "fine_tune" else None
        previous = forecasters.load_rnn(warehouse.root / parent) if parent else None
    fitted = forecasters.fit(
        candidate, history["close"].to_numpy("float64"), settings, previous, log=get_run_logger().info
    )
    folder = warehouse.model_dir(run.ticker, run.run_id) / name
    write_folder_atomic(folder, lambda tmp: forecasters.save(fitted, tmp))
    return fitted, plan, str(folder.relative_to(warehouse.root))


@stage("forecast", task_run_name="forecast-{fitted.candidate.name}")
def forecast(
    fitted: forecasters.Fitted, history: pd.DataFrame, realized: pd.DataFrame, settings: Settings
) -> pd.DataFrame:
    """One candidate's path for the next trading sessions with its 80% and 95% intervals."""
    return tonight.forecast_candidate(fitted, history, realized, settings)


@stage("choose_champion")
def choose_champion(
    warehouse: Warehouse, realized: pd.DataFrame, settings: Settings, as_of: dt.date
) -> registry.Decision:
    """Serve the candidate the evidence favours (the champion unless a challenger beats it by the margin)."""
    current = registry.current_champion(warehouse, settings.ticker, as_of)
    return registry.choose_champion(
        realized, settings.candidates, current, settings.champion_margin, settings.min_forecasts
    )


@stage("store_results")
def store_results(warehouse: Warehouse, run: store_stage.RunInfo, tables: dict[str, pd.DataFrame], plot: bytes) -> str:
    """Merge tonight's rows into the ticker's tables, make the served path its latest forecast, write the plot."""
    store_stage.store_results(warehouse, run, tables)
    forecasts = tables["forecasts"]
    warehouse.replace_latest(run.ticker, forecasts[forecasts["served"]])
    path = warehouse.plot_path(run.ticker, run.run_id)
    warehouse.write_bytes(path, plot)
    return str(path)


@stage("prune")
def prune(warehouse: Warehouse, ticker: str, keep: int) -> int:
    """Delete the ticker's model folders, plots and Data Docs pages older than its last `keep` runs."""
    return upkeep.prune(warehouse, ticker, keep)
