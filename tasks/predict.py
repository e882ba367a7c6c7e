"""Predict stage: test-day predictions and the next trading day's forecast, in price units."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from tasks.scale import ScalerParams, inverse_transform
from tasks.window import last_window

if TYPE_CHECKING:  # pragma: no cover
    import keras


def predict_prices(model: "keras.Model", X: np.ndarray, scaler: ScalerParams) -> np.ndarray:
    """Run the model on scaled windows and return predictions in price units, one per window."""
    if len(X) == 0:
        return np.empty(0, dtype="float64")
    scaled = np.asarray(model.predict(X, batch_size=max(1, min(len(X), 1024)), verbose=0)).reshape(-1)
    return inverse_transform(scaled, scaler)


def next_business_day(day: dt.date) -> dt.date:
    """The next weekday after day (exchange holidays are not modelled)."""
    return (pd.Timestamp(day) + pd.offsets.BDay(1)).date()


def forecast_next(model: "keras.Model", window: np.ndarray, scaler: ScalerParams,
                  last_date: dt.date) -> tuple[dt.date, float]:
    """Forecast the close of the trading day after last_date from the last scaled window."""
    value = float(predict_prices(model, window, scaler)[0])
    return next_business_day(last_date), value


@dataclass(frozen=True)
class Predictions:
    """Model predictions for every test day and the forecast for the day after the last one."""

    dates: pd.Series
    actual: np.ndarray
    predicted: np.ndarray
    as_of: dt.date
    target_date: dt.date
    forecast: float


def predict_test_and_next(model: "keras.Model", test_X: np.ndarray, test: pd.DataFrame,
                          scaled_history: np.ndarray, scaler: ScalerParams) -> Predictions:
    """Predict each test day from its preceding window, then the next trading day from the last window."""
    if len(test_X) != len(test):
        raise ValueError(f"{len(test_X)} test windows for {len(test)} test days")
    predicted = predict_prices(model, test_X, scaler)
    as_of = pd.Timestamp(test["date"].iloc[-1]).date()
    target, forecast = forecast_next(model, last_window(scaled_history, test_X.shape[1]), scaler, as_of)
    return Predictions(dates=test["date"].reset_index(drop=True), actual=test["close"].to_numpy("float64"),
                       predicted=predicted, as_of=as_of, target_date=target, forecast=forecast)
