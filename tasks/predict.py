"""Predict stage: test-day predictions and recursive forecasts for the next trading days, in price units."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tasks import target as target_stage
from tasks.scale import ScalerParams, inverse_transform, transform
from tasks.window import last_window, make_windows

if TYPE_CHECKING:  # pragma: no cover
    import keras


def predict_prices(model: "keras.Model", X: np.ndarray, scaler: ScalerParams) -> np.ndarray:
    """Run the model on scaled windows and return its predictions unscaled (prices for the price
    target, log returns for log_return), one per window."""
    if len(X) == 0:
        return np.empty(0, dtype="float64")
    scaled = np.asarray(model.predict_on_batch(np.asarray(X, dtype="float32"))).reshape(-1)
    return inverse_transform(scaled, scaler)


def next_business_day(day: dt.date) -> dt.date:
    """The next weekday after day (exchange holidays are not modelled)."""
    return (pd.Timestamp(day) + pd.offsets.BDay(1)).date()


def forecast_path(model: "keras.Model", window: np.ndarray, scaler: ScalerParams, last_date: dt.date,
                  horizon: int) -> tuple[tuple[dt.date, ...], tuple[float, ...]]:
    """Forecast horizon business days after last_date, feeding each scaled forecast back into the window.

    The values are unscaled model outputs (prices, or log returns for the log_return target)."""
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    window = np.array(window, dtype="float32").reshape(1, -1, 1)
    dates, scaled = [], []
    day = last_date
    for _ in range(horizon):
        step = float(np.asarray(model.predict_on_batch(window)).reshape(-1)[0])
        window = np.concatenate([window[:, 1:, :], np.full((1, 1, 1), step, dtype="float32")], axis=1)
        day = next_business_day(day)
        dates.append(day)
        scaled.append(step)
    return tuple(dates), tuple(float(v) for v in inverse_transform(np.array(scaled), scaler))


@dataclass(frozen=True)
class Predictions:
    """Model predictions for every test day and forecasts for the business days after the last one."""

    dates: pd.Series
    actual: np.ndarray
    predicted: np.ndarray
    as_of: dt.date
    target_dates: tuple[dt.date, ...]
    forecasts: tuple[float, ...]

    @property
    def target_date(self) -> dt.date:
        """The next trading day."""
        return self.target_dates[0]

    @property
    def forecast(self) -> float:
        """The forecast for the next trading day."""
        return self.forecasts[0]


def predict_test_and_next(model: "keras.Model", test_X: np.ndarray, test: pd.DataFrame,
                          scaled_history: np.ndarray, scaler: ScalerParams, horizon: int = 1,
                          target: str = "price", previous_close: float | None = None) -> Predictions:
    """Predict each test day from its preceding window, then horizon days after the last date, recursively.

    scaled_history is the scaled target series up to the last test day; previous_close, the last
    training close, turns the first test day's predicted return into a price (log_return target).
    """
    if len(test_X) != len(test):
        raise ValueError(f"{len(test_X)} test windows for {len(test)} test days")
    actual = test["close"].to_numpy("float64")
    if target == "log_return" and previous_close is None:
        raise ValueError("the log_return target needs the close before the first test day")
    previous = np.concatenate([[previous_close if previous_close is not None else np.nan], actual[:-1]])
    predicted = target_stage.to_prices(predict_prices(model, test_X, scaler), previous, target)
    as_of = pd.Timestamp(test["date"].iloc[-1]).date()
    targets, values = forecast_path(model, last_window(scaled_history, test_X.shape[1]), scaler, as_of, horizon)
    forecasts = tuple(float(v) for v in target_stage.path_to_prices(values, actual[-1], target))
    return Predictions(dates=test["date"].reset_index(drop=True), actual=actual,
                       predicted=predicted, as_of=as_of, target_dates=targets, forecasts=forecasts)


def predict_last_days(model: "keras.Model", closes: np.ndarray, scaler: ScalerParams, days: int,
                      target: str = "price") -> np.ndarray:
    """A stored model's one-step predictions of the last `days` closes, each from the actual closes before it.

    The model's own window length, scaler and target are used, so a champion is scored exactly as it
    would have predicted those days.
    """
    time_step = int(model.input_shape[1])
    values = np.asarray(closes, dtype="float64").reshape(-1)
    needed = days + time_step + target_stage.extra_rows(target)
    if days < 1 or len(values) < needed:
        raise ValueError(f"need {needed} closes to predict the last {days} days with windows of "
                         f"{time_step}, got {len(values)}")
    series = target_stage.to_series(values[-needed:], target)
    windows = make_windows(transform(series, scaler), time_step)
    return target_stage.to_prices(predict_prices(model, windows.X, scaler), values[-days - 1:-1], target)


def forecast_from_closes(model: "keras.Model", closes: np.ndarray, scaler: ScalerParams, last_date: dt.date,
                         horizon: int, target: str = "price") -> tuple[tuple[dt.date, ...], tuple[float, ...]]:
    """forecast_path for a stored model (its window length, scaler and target) from the latest actual closes."""
    values = np.asarray(closes, dtype="float64").reshape(-1)
    scaled = transform(target_stage.to_series(values, target), scaler)
    dates, path = forecast_path(model, last_window(scaled, int(model.input_shape[1])), scaler, last_date, horizon)
    return dates, tuple(float(v) for v in target_stage.path_to_prices(path, values[-1], target))
