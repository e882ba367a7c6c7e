"""Walk-forward backtest (rolling origin): refit every k trading days on all rows before the cut-off,
predict the next k days one step ahead from actual closes, and score every fold beside naive persistence."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np
import pandas as pd

from nightcast.errors import InputError
from tasks import target as target_stage
from tasks.evaluate import Evaluation, evaluate_predictions, naive_forecast
from tasks.predict import predict_prices
from tasks.scale import ScalerParams, scale_split
from tasks.store import RunInfo
from tasks.train import TrainedModel, train_with_settings
from tasks.window import Windows, make_test_windows, make_windows

if TYPE_CHECKING:  # pragma: no cover
    from nightcast.settings import Settings

Fit = Callable[[np.ndarray, np.ndarray, "Settings"], TrainedModel]
"""How a fold's model is fitted from its training windows: train.train_with_settings unless a test spies."""


@dataclass(frozen=True)
class Fold:
    """One refit: train on rows [0, train_end) (the cut-off), predict rows [test_start, test_end)."""

    fold: int
    """1 for the oldest fold."""
    train_end: int
    test_start: int
    """Always train_end: the first day after the cut-off is the first one predicted."""
    test_end: int


def fold_plan(n_rows: int, time_step: int, refit_every: int, folds: int, extra: int = 0) -> list[Fold]:
    """Folds over the last folds x refit_every rows, oldest first, each training on every row before it.

    The first cut-off must leave at least time_step + 1 + extra rows (extra: the closes the target
    consumes, 1 for log returns), so that the first fold has a training window.
    """
    for name, value in (("time_step", time_step), ("refit_every", refit_every), ("folds", folds)):
        if value < 1:
            raise InputError(f"{name} must be at least 1, got {value}")
    first_cut = n_rows - folds * refit_every
    if first_cut <= time_step + extra:
        raise InputError(
            f"{n_rows} rows is too few for {folds} folds of {refit_every} days with time_step {time_step}: "
            f"need at least {folds * refit_every + time_step + 1 + extra} (the first fold trains on the rows before "
            "its cut-off); use fewer folds, a smaller refit_every or a smaller time_step")
    return [Fold(fold=k + 1, train_end=cut, test_start=cut, test_end=cut + refit_every)
            for k, cut in enumerate(range(first_cut, n_rows, refit_every))]


@dataclass(frozen=True)
class FoldResult:
    """What one fold fitted and predicted: test days with actual, model and naive closes, in price units."""

    fold: int
    cutoff: dt.date
    """The last training date."""
    dates: pd.Series
    actual: np.ndarray
    predicted: np.ndarray
    naive: np.ndarray
    scaler: ScalerParams
    train_windows: Windows
    train_seconds: float
    epochs_run: int


def run_fold(prices: pd.DataFrame, fold: Fold, settings: "Settings", fit: Fit = train_with_settings) -> FoldResult:
    """Scale, window, train and predict one fold; the scaler and the model see only rows before the cut-off.

    Each test day's window is the time_step actual closes (or returns) before it, scaled with the fold's
    scaler, so a prediction uses nothing after the day before it.
    """
    if not 0 < fold.train_end == fold.test_start < fold.test_end <= len(prices):
        raise ValueError(f"fold {fold.fold} (rows {fold.test_start}..{fold.test_end}) does not fit "
                         f"{len(prices)} rows")
    closes = prices["close"].to_numpy("float64")
    train, test = closes[:fold.train_end], closes[fold.test_start:fold.test_end]
    target = settings.target
    scaled = scale_split(target_stage.to_series(train, target), target_stage.holdout_series(train, test, target))
    windows = make_windows(scaled.train, settings.time_step)
    test_windows = make_test_windows(scaled.train, scaled.test, settings.time_step)
    trained = fit(windows.X, windows.y, settings)
    previous = closes[fold.test_start - 1:fold.test_end - 1]
    dates = pd.to_datetime(prices["date"])
    return FoldResult(
        fold=fold.fold, cutoff=dates.iloc[fold.train_end - 1].date(),
        dates=dates.iloc[fold.test_start:fold.test_end].reset_index(drop=True), actual=test,
        predicted=target_stage.to_prices(predict_prices(trained.model, test_windows.X, scaled.params), previous,
                                         target),
        naive=naive_forecast(train[-1], test), scaler=scaled.params, train_windows=windows,
        train_seconds=trained.seconds, epochs_run=trained.epochs_run)


def _metric_row(fold: int | None, cutoff: dt.date | None, evaluation: Evaluation, n_days: int,
                seconds: float) -> dict:
    return {"fold": fold, "cutoff": cutoff, "n_days": n_days, **evaluation.as_row(), "train_seconds": seconds}


def score_folds(results: list[FoldResult]) -> pd.DataFrame:
    """Model and naive scores per fold, then one overall row (fold and cutoff null) over every test day."""
    if not results:
        raise ValueError("no fold to score")
    rows = [_metric_row(r.fold, r.cutoff, evaluate_predictions(r.actual, r.predicted, r.naive), len(r.actual),
                        r.train_seconds) for r in results]
    pooled = [np.concatenate([getattr(r, name) for r in results]) for name in ("actual", "predicted", "naive")]
    rows.append(_metric_row(None, None, evaluate_predictions(*pooled), len(pooled[0]),
                            sum(r.train_seconds for r in results)))
    return pd.DataFrame(rows).astype({"fold": "Int64"})


def backtest_rows(run: RunInfo, results: list[FoldResult]) -> pd.DataFrame:
    """The backtests-table rows: one per test day with its fold, cut-off, actual, model and naive close."""
    return pd.concat([pd.DataFrame({
        "run_id": run.run_id, "ticker": run.ticker, "fold": r.fold, "cutoff": r.cutoff, "date": r.dates,
        "actual": r.actual, "predicted": r.predicted, "naive": r.naive}) for r in results], ignore_index=True)


def metric_rows(run: RunInfo, scores: pd.DataFrame) -> pd.DataFrame:
    """The backtest_metrics-table rows: score_folds' rows with the run's identity and a creation time."""
    return scores.assign(run_id=run.run_id, ticker=run.ticker, created_at=pd.Timestamp.now(tz="UTC"))


def backtest_settings_json(settings: "Settings", refit_every: int, folds: int) -> str:
    """The settings stored in the runs table, with the backtest's own parameters under "backtest"."""
    stored = json.loads(settings.to_json())
    stored["backtest"] = {"refit_every": refit_every, "folds": folds}
    return json.dumps(stored, sort_keys=True)
