"""The `retrain` flow: one ticker through ingest, validate, split, scale, window, train, predict, evaluate."""

import datetime as dt
from dataclasses import dataclass

import pandas as pd
from prefect import flow
from prefect.runtime import flow_run

from flows import champion, records, steps
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, resolve_root
from tasks import store
from tasks.evaluate import Evaluation
from tasks.predict import Predictions
from tasks.registry import Decision, TrainingPlan


@dataclass(frozen=True)
class RunResult:
    """What one completed run produced, for the command line's summary."""

    run_id: str
    ticker: str
    evaluation: Evaluation
    predictions: Predictions
    data_start: dt.date
    data_end: dt.date
    n_train: int
    n_test: int
    prices_added: int
    train_seconds: float
    model_path: str
    plot_path: str
    data_docs: str
    warehouse: str
    training: TrainingPlan
    decision: Decision
    forecast_version: str
    model: str = "simple_rnn"
    target: str = "price"


def start_run(settings: Settings) -> store.RunInfo:
    """A new run's identity, tied to the Prefect flow run when there is one."""
    return store.RunInfo(run_id=store.new_run_id(), ticker=settings.symbol, flow_run_id=flow_run.get_id(),
                         settings_json=settings.to_json(), started_at=pd.Timestamp.now(tz="UTC"))


@flow(name="retrain", description="Retrain the price forecaster for one ticker and store its forecasts.")
def retrain(settings: Settings = Settings()) -> RunResult:
    """Run every stage for settings.ticker; the runs table records the outcome either way."""
    warehouse = Warehouse(resolve_root(settings.warehouse))
    run = start_run(settings)
    records.recover_warehouse(warehouse, run.ticker)
    records.record_run(warehouse, store.run_row(run, "running"))
    data_hash = model_path = None
    try:
        prices = steps.ingest(settings)
        data_hash = store.hash_prices(prices)
        data_docs = steps.validate(warehouse, run, prices, settings)
        added = steps.store_prices(warehouse, prices, settings)
        parts = steps.split(prices, settings)
        plan, start = champion.plan_training(warehouse, settings, parts.test["date"].iloc[-1].date())
        scaled = steps.scale(parts, settings, start and start.scaler)
        train_windows, test_windows = steps.window(scaled, settings)
        trained = steps.train(train_windows, settings, start and start.model)
        model_path = steps.store_model(warehouse, trained, scaled.params, run, settings)
        predictions = steps.predict(trained, test_windows, parts, scaled, settings)
        evaluation, naive, plot = steps.evaluate(predictions, parts)
        facts = champion.model_facts(run, settings, prices, parts.train["date"].iloc[-1].date(), model_path,
                                     evaluation)
        selection = champion.select_champion(warehouse, settings, plan, facts, predictions,
                                             prices["close"].to_numpy())
        tables = {
            "predictions": store.prediction_rows(run, predictions, naive),
            "forecasts": store.forecast_rows(run, selection.predictions, selection.forecast_version),
            "metrics": store.metrics_row(run, settings, evaluation, len(train_windows.y), len(test_windows.y),
                                         trained.epochs_run, trained.seconds),
        }
        plot_path = steps.store_results(warehouse, run, tables, plot)
        result = RunResult(
            run_id=run.run_id, ticker=run.ticker, evaluation=evaluation, predictions=selection.predictions,
            data_start=prices["date"].iloc[0].date(), data_end=prices["date"].iloc[-1].date(),
            n_train=len(train_windows.y), n_test=len(test_windows.y), prices_added=added,
            train_seconds=trained.seconds, model_path=model_path, plot_path=plot_path,
            data_docs=data_docs, warehouse=str(warehouse.root), training=plan,
            decision=selection.decision, forecast_version=selection.forecast_version, model=settings.model,
            target=settings.target)
        records.publish_report(result, settings, plot)
    except BaseException as error:
        records.record_run(warehouse, store.run_row(run, "failed", data_hash, model_path, str(error)))
        raise
    records.record_run(warehouse, store.run_row(run, "completed", data_hash, model_path))
    return result
