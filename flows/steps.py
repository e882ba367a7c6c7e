"""Prefect tasks: each stage's pure function with a name, retries only where there is network I/O.

Nothing here computes; every body hands straight to a function in tasks/. Results are kept in
memory (NO_CACHE): fitted state is persisted explicitly by the store steps, never pickled by Prefect.
"""

from __future__ import annotations

from functools import wraps

import numpy as np
import pandas as pd
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, write_folder_atomic
from tasks import evaluate as evaluate_stage
from tasks import ingest as ingest_stage
from tasks import predict as predict_stage
from tasks import scale as scale_stage
from tasks import split as split_stage
from tasks import store as store_stage
from tasks import target as target_stage
from tasks import train as train_stage
from tasks import validate as validate_stage
from tasks import window as window_stage


class StageFailed(RuntimeError):
    """A stage failed; the message starts with the stage's name and keeps the cause's one-line reason."""

    def __init__(self, stage: str, cause: BaseException):
        super().__init__(f"{stage} failed: {cause}")
        self.stage = stage
        self.cause = cause


def stage(name: str, **options):
    """Declare a Prefect task named after its stage whose errors say which stage failed."""
    def decorate(fn):
        @wraps(fn)
        def run(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except StageFailed:
                raise
            except Exception as error:
                raise StageFailed(name, error) from error
        return task(name=name, cache_policy=NO_CACHE, **options)(run)
    return decorate


def retry_if_unavailable(task, task_run, state) -> bool:
    """Retry ingest only when a network source was unavailable; bad files or symbols fail at once."""
    error = state.result(raise_on_failure=False)
    return isinstance(getattr(error, "cause", error), ingest_stage.SourceUnavailable)


@stage("ingest", retries=2, retry_delay_seconds=[5, 30], retry_condition_fn=retry_if_unavailable)
def ingest(settings: Settings) -> pd.DataFrame:
    """Fetch the ticker's prices from the configured source."""
    return ingest_stage.ingest_prices(settings)


@stage("validate")
def validate(warehouse: Warehouse, run: store_stage.RunInfo, prices: pd.DataFrame, settings: Settings) -> str:
    """Run the suite, store its results and Data Docs; a failed batch is quarantined and stops the flow."""
    min_rows = split_stage.minimum_rows(settings.time_step, settings.train_fraction,
                                        target_stage.extra_rows(settings.target))
    limits = validate_stage.Limits.from_settings(settings)
    with warehouse.lock(f"data-docs-{run.ticker}"):
        report, docs = validate_stage.validate_and_document(prices, min_rows, limits,
                                                            warehouse.data_docs_dir(run.ticker))
    rows = report.rows(run.run_id, run.ticker, pd.Timestamp.now(tz="UTC"))
    warehouse.write_run_table("validations", run.ticker, run.run_id, rows)
    if not report.success:
        warehouse.quarantine(run.ticker, run.run_id, prices, report.to_json())
    validate_stage.check_report(settings.symbol, report)
    return str(docs)


@stage("store_prices")
def store_prices(warehouse: Warehouse, prices: pd.DataFrame, settings: Settings) -> int:
    """Merge validated prices into the prices table without duplicating dates."""
    return warehouse.merge_prices(prices, settings.symbol, settings.source, pd.Timestamp.now(tz="UTC"))


@stage("split")
def split(prices: pd.DataFrame, settings: Settings) -> split_stage.Split:
    """Chronological train/test split."""
    return split_stage.split_series(prices, settings.train_fraction, settings.time_step,
                                    target_stage.extra_rows(settings.target))


@stage("scale")
def scale(parts: split_stage.Split, settings: Settings,
          params: scale_stage.ScalerParams | None = None) -> scale_stage.ScaledSplit:
    """Turn closes into the target series, fit the scaler on the training period only (or reuse a
    champion's) and scale both periods."""
    train, test = parts.train["close"].to_numpy(), parts.test["close"].to_numpy()
    return scale_stage.scale_split(target_stage.to_series(train, settings.target),
                                   target_stage.holdout_series(train, test, settings.target), params)


@stage("window")
def window(scaled: scale_stage.ScaledSplit, settings: Settings) -> tuple[window_stage.Windows, window_stage.Windows]:
    """Training windows, and test windows with the training tail as context."""
    return (window_stage.make_windows(scaled.train, settings.time_step),
            window_stage.make_test_windows(scaled.train, scaled.test, settings.time_step))


@stage("train")
def train(windows: window_stage.Windows, settings: Settings, start_from=None) -> train_stage.TrainedModel:
    """Fit the model (from scratch, or fine-tune start_from); progress goes to the run's log about ten times."""
    return train_stage.train_with_settings(windows.X, windows.y, settings, log=get_run_logger().info,
                                           start_from=start_from)


@stage("store_model")
def store_model(warehouse: Warehouse, trained: train_stage.TrainedModel, scaler: scale_stage.ScalerParams,
                run: store_stage.RunInfo, settings: Settings) -> str:
    """Save model.keras, scaler.json and model.json (kind and target) side by side in the run's model folder,
    which appears whole or not at all (written in a temporary folder, fsynced, renamed)."""
    folder = warehouse.model_dir(run.ticker, run.run_id)

    def write(tmp):
        scaler.save(tmp / "scaler.json")
        train_stage.ModelCard(model=settings.model, target=settings.target).save(tmp / "model.json")
        train_stage.save_model(trained.model, tmp / "model.keras")

    write_folder_atomic(folder, write)
    return str(folder / "model.keras")


@stage("predict")
def predict(trained: train_stage.TrainedModel, test_windows: window_stage.Windows, parts: split_stage.Split,
            scaled: scale_stage.ScaledSplit, settings: Settings) -> predict_stage.Predictions:
    """Predict every test day and the next trading days, in price units."""
    history = np.concatenate([scaled.train, scaled.test])
    return predict_stage.predict_test_and_next(trained.model, test_windows.X, parts.test, history, scaled.params,
                                               settings.horizon, settings.target, parts.train["close"].iloc[-1])


@stage("evaluate")
def evaluate(predictions: predict_stage.Predictions, parts: split_stage.Split) -> tuple[evaluate_stage.Evaluation, np.ndarray, bytes]:
    """Score model and naive persistence on the test days and draw the plot."""
    naive = evaluate_stage.naive_forecast(parts.train["close"].iloc[-1], predictions.actual)
    evaluation = evaluate_stage.evaluate_predictions(predictions.actual, predictions.predicted, naive)
    ticker = parts.test["ticker"].iloc[0]
    plot = evaluate_stage.render_plot(predictions.dates, predictions.actual, predictions.predicted,
                                      f"{ticker}: actual vs predicted close (test period)")
    return evaluation, naive, plot


@stage("store_results")
def store_results(warehouse: Warehouse, run: store_stage.RunInfo, tables: dict[str, pd.DataFrame], plot: bytes) -> str:
    """Write predictions, forecasts and metrics as this run's files, and the plot."""
    store_stage.store_results(warehouse, run, tables)
    path = warehouse.plot_path(run.ticker, run.run_id)
    warehouse.write_bytes(path, plot)
    return str(path)
