"""Predict stage for the RNN candidates: one-step predictions of test days (nightcast compare) and recursive
forecast paths of horizons 1..H from many origins at once (the nightly forecast and backtest folds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from nightcast.quiet_import import load_keras
from tasks.training import target as target_stage
from tasks.training.models import architecture_of, template
from tasks.training.scale import ScalerParams, inverse_transform, transform

if TYPE_CHECKING:  # pragma: no cover
    import keras


def predictor(model: keras.Model) -> Callable[[np.ndarray], np.ndarray]:
    """model.predict_on_batch through one model per architecture and thread that holds model's weights.

    Keras traces a predict function for every model on its first call (0.11-0.16 s here); a night forecasts
    from a new model per ticker and backtest fold, so each would pay it. The template of the same
    architecture, traced once per thread, computes the same outputs from the same weights. Anything else with
    a predict_on_batch (a stand-in model) is called as it is."""
    if not hasattr(model, "get_weights"):
        return lambda X: np.asarray(model.predict_on_batch(np.asarray(X, dtype="float32")))
    key = architecture_of({"class": type(model).__name__, "config": model.get_config()})
    shared = template(key, lambda: load_keras().models.clone_model(model))
    shared.set_weights(model.get_weights())
    return lambda X: np.asarray(shared.predict_on_batch(np.asarray(X, dtype="float32")))


def predict_prices(model: keras.Model, X: np.ndarray, scaler: ScalerParams) -> np.ndarray:
    """Run the model on scaled windows and return its predictions unscaled (prices for the price
    target, log returns for log_return), one per window."""
    if len(X) == 0:
        return np.empty(0, dtype="float64")
    scaled = predictor(model)(X).reshape(-1)
    return inverse_transform(scaled, scaler)


def one_step_prices(
    model: keras.Model, X: np.ndarray, scaler: ScalerParams, target: str, previous_closes: np.ndarray
) -> np.ndarray:
    """Each window's prediction of the next close, in price units (returns applied to the actual close before)."""
    return target_stage.to_prices(predict_prices(model, X, scaler), previous_closes, target)


def origin_windows(
    closes: np.ndarray, origins: np.ndarray, time_step: int, scaler: ScalerParams, target: str
) -> np.ndarray:
    """For each origin row, the scaled window of the time_step target values ending at that row's close,
    shaped (origins, time_step, 1): only closes up to the origin are read."""
    series = transform(target_stage.to_series(closes, target), scaler)
    offset = target_stage.extra_rows(target)  # the series starts this many closes after the first close
    ends = np.asarray(origins, dtype="int64") - offset + 1
    if len(ends) and (ends.min() < time_step or ends.max() > len(series)):
        raise ValueError(f"origins need {time_step + offset} closes up to each of them")
    index = ends[:, None] - time_step + np.arange(time_step)[None, :]
    return series[index].astype("float32")[..., np.newaxis]


def forecast_paths(model: keras.Model, windows: np.ndarray, scaler: ScalerParams, horizon: int) -> np.ndarray:
    """Recursive forecasts of horizon steps for every window at once, each step fed back into its window;
    unscaled model outputs (prices, or log returns), shaped (windows, horizon)."""
    if horizon < 1:
        raise ValueError(f"horizon must be at least 1, got {horizon}")
    window = np.asarray(windows, dtype="float32").copy()
    predict, steps = predictor(model), []
    for _ in range(horizon):
        step = predict(window).astype("float32").reshape(-1, 1)
        window = np.concatenate([window[:, 1:, :], step[:, :, np.newaxis]], axis=1)
        steps.append(step[:, 0])
    return inverse_transform(np.stack(steps, axis=1), scaler)


def forecast_from_origins(
    model: keras.Model, closes: np.ndarray, origins: np.ndarray, scaler: ScalerParams, target: str, horizon: int
) -> np.ndarray:
    """Price forecasts of horizons 1..horizon from each origin row, reading only the closes up to it."""
    time_step = int(model.input_shape[1])
    windows = origin_windows(closes, origins, time_step, scaler, target)
    values = forecast_paths(model, windows, scaler, horizon)
    return target_stage.paths_to_prices(values, np.asarray(closes, dtype="float64")[np.asarray(origins)], target)
