"""Statistical candidates: naive, random walk with drift, ETS and ARIMA (statsmodels), on log closes.

Each is fitted on the closes up to an origin and forecasts horizons 1..H from any later origin with its
fitted parameters kept fixed (a backtest fold refits once and forecasts every origin of the fold).
Working on log closes makes every model multiplicative, as prices are; forecasts come back as prices.
The fitted parameters are plain floats (JSON), never pickled.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from nightcast.errors import InputError


@dataclass(frozen=True)
class StatFit:
    """A statistical model's fitted parameters (JSON-able) and its name."""

    kind: str
    params: tuple[float, ...] = ()


def _logs(closes: np.ndarray) -> np.ndarray:
    values = np.asarray(closes, dtype="float64").reshape(-1)
    if len(values) < 3 or not np.isfinite(values).all() or (values <= 0).any():
        raise InputError("statistical models need at least 3 finite, positive closes")
    return np.log(values)


def _quietly(fn: Callable[[], Any]) -> Any:
    """Run a statsmodels call without its convergence and frequency warnings (they are not actionable here).

    Also ignored for good in this process: catch_warnings is not thread-safe, and in a task runner's worker
    another thread (Prefect's) leaving its own catch_warnings restores the filters while a fit runs."""
    warnings.filterwarnings("ignore", module=r"statsmodels(\.|$)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn()


def fit_naive(closes: np.ndarray) -> StatFit:
    """Persistence has nothing to fit."""
    _logs(closes)
    return StatFit("naive")


def forecast_naive(fit: StatFit, closes: np.ndarray, horizon: int) -> np.ndarray:
    """Tomorrow (and every later day) = the last close."""
    return np.full(horizon, float(np.asarray(closes, dtype="float64")[-1]))


def fit_drift(closes: np.ndarray) -> StatFit:
    """Random walk with drift: the mean daily log return over the fitted history."""
    logs = _logs(closes)
    return StatFit("drift", ((logs[-1] - logs[0]) / (len(logs) - 1),))


def forecast_drift(fit: StatFit, closes: np.ndarray, horizon: int) -> np.ndarray:
    """The last close moved by the fitted drift per day, compounded."""
    last = float(np.asarray(closes, dtype="float64")[-1])
    return last * np.exp(fit.params[0] * np.arange(1, horizon + 1))


def _ets(logs: np.ndarray):
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    return ETSModel(logs, error="add", trend="add", damped_trend=True)


def fit_ets(closes: np.ndarray) -> StatFit:
    """ETS(A,Ad,N) on log closes (additive errors, damped additive trend), by maximum likelihood."""
    result = _quietly(lambda: _ets(_logs(closes)).fit(disp=False))
    return StatFit("ets", tuple(float(p) for p in result.params))


def forecast_ets(fit: StatFit, closes: np.ndarray, horizon: int) -> np.ndarray:
    """Filter the closes up to the origin with the fitted parameters, then forecast."""
    result = _quietly(lambda: _ets(_logs(closes)).smooth(np.asarray(fit.params)))
    return np.exp(np.asarray(result.forecast(horizon), dtype="float64"))


ARIMA_ORDER = (1, 1, 1)


def _arima(logs: np.ndarray):
    from statsmodels.tsa.arima.model import ARIMA

    return ARIMA(logs, order=ARIMA_ORDER, trend="t")


def arima_result(closes: np.ndarray):
    """statsmodels' fitted results of ARIMA(1,1,1) with drift on log closes, by maximum likelihood."""
    return _quietly(lambda: _arima(_logs(closes)).fit())


def fit_arima(closes: np.ndarray) -> StatFit:
    """ARIMA(1,1,1) with drift on log closes, by maximum likelihood (statsmodels' state-space ARIMA): the
    estimates alone, without the smoothed results and covariance arima_result also computes."""
    params = _quietly(lambda: _arima(_logs(closes)).fit(return_params=True))
    return StatFit("arima", tuple(float(p) for p in params))


def forecast_arima(fit: StatFit, closes: np.ndarray, horizon: int) -> np.ndarray:
    """Run the Kalman filter over the closes up to the origin with the fitted parameters, then forecast."""
    result = _quietly(lambda: _arima(_logs(closes)).filter(np.asarray(fit.params)))
    return np.exp(np.asarray(result.forecast(horizon), dtype="float64"))


def forecast_arima_origins(fit: StatFit, closes: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Forecasts of horizons 1..horizon from each origin row, (origins, horizon), from one Kalman filter pass
    over the closes up to the last origin: the forecast from origin o is the model's dynamic prediction from
    row o + 1, which reads no close after o (the filter's state at o is the one a filter stopped there has), so
    it equals forecast_arima over closes[: o + 1] without a model and a filter per origin."""
    logs = _logs(closes[: int(origins.max()) + 1])
    result = _quietly(lambda: _arima(logs).filter(np.asarray(fit.params)))

    def paths() -> np.ndarray:
        return np.stack([result.predict(start=o + 1, end=o + horizon, dynamic=True) for o in origins.tolist()])

    return np.exp(np.asarray(_quietly(paths), dtype="float64"))


FITS: dict[str, tuple[Callable[[np.ndarray], StatFit], Callable[[StatFit, np.ndarray, int], np.ndarray]]] = {
    "naive": (fit_naive, forecast_naive),
    "drift": (fit_drift, forecast_drift),
    "ets": (fit_ets, forecast_ets),
    "arima": (fit_arima, forecast_arima),
}
"""Each statistical candidate's fit and forecast functions."""

ORIGIN_FORECASTS: dict[str, Callable[[StatFit, np.ndarray, np.ndarray, int], np.ndarray]] = {
    "arima": forecast_arima_origins,
}
"""Candidates that forecast from many origins in one pass; the others forecast origin by origin."""


def forecast_origins(name: str, fit: StatFit, closes: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    """A statistical candidate's forecasts of horizons 1..horizon from each origin row (reading the closes up to
    it), (origins, horizon)."""
    if not len(origins):
        return np.empty((0, horizon))
    if name in ORIGIN_FORECASTS:
        return ORIGIN_FORECASTS[name](fit, closes, origins, horizon)
    step = FITS[name][1]
    return np.stack([step(fit, closes[: o + 1], horizon) for o in origins.tolist()])
