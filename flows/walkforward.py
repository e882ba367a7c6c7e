"""The `backtest` flow: a walk-forward (rolling-origin) evaluation of one ticker, each fold refit on its past.

Not to be confused with flows/backfill.py, which replays whole nightly runs to fill the forecast history.
"""

from dataclasses import dataclass
from functools import partial

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from flows import records, steps
from flows.steps import stage
from nightcast import report
from nightcast.settings import Folds, RefitEvery, Settings
from nightcast.warehouse import Warehouse, resolve_root
from tasks import backtest as backtest_stage
from tasks import store
from tasks import target as target_stage
from tasks.train import train_with_settings


@dataclass(frozen=True)
class BacktestResult:
    """What a completed backtest produced: its scores per fold and overall (the backtest_metrics rows)."""

    run_id: str
    ticker: str
    refit_every: int
    folds: int
    metrics: pd.DataFrame
    first_day: str
    last_day: str
    warehouse: str


@stage("plan_folds")
def plan_folds(prices: pd.DataFrame, settings: Settings, refit_every: int,
               folds: int) -> list[backtest_stage.Fold]:
    """Cut-offs every refit_every rows over the last folds x refit_every rows."""
    return backtest_stage.fold_plan(len(prices), settings.time_step, refit_every, folds,
                                    target_stage.extra_rows(settings.target))


@stage("fold", task_run_name="fold-{fold.fold}")
def refit_fold(prices: pd.DataFrame, fold: backtest_stage.Fold, settings: Settings) -> backtest_stage.FoldResult:
    """Refit the scaler and the model on the fold's past and predict its days; progress goes to the log."""
    fit = partial(train_with_settings, log=get_run_logger().info)
    return backtest_stage.run_fold(prices, fold, settings, fit=fit)


@stage("evaluate_folds")
def evaluate_folds(results: list[backtest_stage.FoldResult]) -> pd.DataFrame:
    """Score model and naive persistence per fold and over every predicted day."""
    return backtest_stage.score_folds(results)


@stage("store_backtest")
def store_backtest(warehouse: Warehouse, run: store.RunInfo, results: list[backtest_stage.FoldResult],
                   scores: pd.DataFrame) -> None:
    """Write every predicted day and the scores as this run's files of backtests and backtest_metrics."""
    store.store_results(warehouse, run, {"backtests": backtest_stage.backtest_rows(run, results),
                                         "backtest_metrics": backtest_stage.metric_rows(run, scores)})


@task(name="publish_backtest", cache_policy=NO_CACHE)
def publish_backtest(ticker: str, scores: pd.DataFrame) -> None:
    """Publish the scores as a table artifact keyed per ticker."""
    create_table_artifact(key=report.artifact_key("backtest", ticker), table=report.backtest_artifact_rows(scores),
                          description=f"{ticker}: walk-forward backtest per fold and overall, model vs naive")


@flow(name="backtest", description="Walk-forward backtest of one ticker: refit every refit_every trading days "
      "on all data before the cut-off, predict the following days one step ahead, score beside naive persistence.")
def backtest(settings: Settings = Settings(), refit_every: RefitEvery = 20, folds: Folds = 5) -> BacktestResult:
    """Run every fold of one ticker; the runs table records the outcome either way."""
    warehouse = Warehouse(resolve_root(settings.warehouse))
    run = store.RunInfo(run_id=store.new_run_id(), ticker=settings.symbol, flow_run_id=flow_run.get_id(),
                        settings_json=backtest_stage.backtest_settings_json(settings, refit_every, folds),
                        started_at=pd.Timestamp.now(tz="UTC"))
    records.recover_warehouse(warehouse, run.ticker)
    records.record_run(warehouse, store.run_row(run, "running"))
    data_hash = None
    try:
        prices = steps.ingest(settings)
        data_hash = store.hash_prices(prices)
        plan = plan_folds(prices, settings, refit_every, folds)
        steps.validate(warehouse, run, prices, settings)
        results = [refit_fold(prices, fold, settings) for fold in plan]
        scores = evaluate_folds(results)
        store_backtest(warehouse, run, results, scores)
        publish_backtest(run.ticker, scores)
    except BaseException as error:
        records.record_run(warehouse, store.run_row(run, "failed", data_hash, error=str(error)))
        raise
    records.record_run(warehouse, store.run_row(run, "completed", data_hash))
    return BacktestResult(run_id=run.run_id, ticker=run.ticker, refit_every=refit_every, folds=folds,
                          metrics=scores, first_day=str(results[0].dates.iloc[0].date()),
                          last_day=str(results[-1].dates.iloc[-1].date()), warehouse=str(warehouse.root))
