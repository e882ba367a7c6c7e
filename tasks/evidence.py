"""Out-of-sample evidence: every forecast a candidate made (in a backtest fold or live) whose target close
is now known, scored beside naive persistence, and the intervals its own errors imply.

Nothing here sees a row a model trained on: backtest forecasts come from folds fitted before their origin,
live forecasts from the night they were made, and only targets up to tonight's as_of are read.

Intervals are normalized conformal intervals. A forecast's error is measured as a log ratio,
z = ln(actual / forecast) / (sigma * sqrt(h)), where sigma is the close's daily volatility at the origin
(an exponentially weighted standard deviation of log returns, RiskMetrics' decay 0.94); tonight's bounds
are forecast * exp(q * sigma_now * sqrt(h)) with q the empirical quantiles of the candidate's recent z at
that horizon. Scaling by volatility keeps the bands honest when a calm period is followed by a storm.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LEVELS = (80, 95)
EWMA_DECAY = 0.94
WARM_UP = 20
MIN_ERRORS = 20
"""Fewer z than this at a horizon: the bands use a normal distribution's quantiles instead."""
_NORMAL = {80: 1.2815515655446004, 95: 1.959963984540054}
FORECAST_COLUMNS = ("candidate", "as_of", "target_date", "horizon", "forecast", "lower_80", "upper_80", "lower_95",
                    "upper_95")
"""What a stored forecast brings to the evidence (intervals only for live forecasts)."""


def daily_volatility(closes: np.ndarray) -> np.ndarray:
    """Per row, the EWMA standard deviation of daily log returns up to and including that row."""
    values = np.asarray(closes, dtype="float64").reshape(-1)
    squared = np.diff(np.log(values)) ** 2
    variance = np.full(len(values), np.nan)  # row 0 has no return yet
    for i in range(1, len(values)):
        burn_in = i <= WARM_UP  # the first rows: the plain mean of the squared returns so far
        variance[i] = squared[:i].mean() if burn_in else \
            EWMA_DECAY * variance[i - 1] + (1 - EWMA_DECAY) * squared[i - 1]
    return np.sqrt(variance)


def naive_scale(closes: np.ndarray) -> np.ndarray:
    """Per row, the in-sample MAE of naive persistence up to that row (MASE's denominator); NaN for row 0."""
    values = np.asarray(closes, dtype="float64").reshape(-1)
    steps = np.abs(np.diff(values))
    scale = np.full(len(values), np.nan)
    scale[1:] = np.cumsum(steps) / np.arange(1, len(values))
    return scale


def price_facts(prices: pd.DataFrame) -> pd.DataFrame:
    """date, close, sigma (daily volatility) and scale (MASE denominator) per stored day, date-ordered."""
    ordered = prices[["date", "close"]].assign(date=lambda f: pd.to_datetime(f["date"])).sort_values("date")
    closes = ordered["close"].to_numpy("float64")
    return ordered.assign(sigma=daily_volatility(closes), scale=naive_scale(closes)).reset_index(drop=True)


def realized(forecasts: pd.DataFrame, facts: pd.DataFrame, as_of, window: int) -> pd.DataFrame:
    """The forecasts (candidate, as_of, target_date, horizon, forecast) whose target close is known by as_of,
    from the last `window` origins that have any, with actual, naive (the close at the origin), the origin's
    sigma and scale, the error, |error| / scale and the volatility-scaled log error z."""
    cutoff = pd.Timestamp(as_of)
    keep = [c for c in FORECAST_COLUMNS if c in forecasts.columns]
    rows = forecasts[keep].assign(as_of=pd.to_datetime(forecasts["as_of"]),
                                  target_date=pd.to_datetime(forecasts["target_date"]))
    rows = rows[(rows["target_date"] <= cutoff) & (rows["as_of"] < cutoff)]
    origins = np.sort(rows["as_of"].unique())[-window:] if window > 0 else rows["as_of"].unique()
    rows = rows[rows["as_of"].isin(origins)]
    target = facts[["date", "close"]].rename(columns={"date": "target_date", "close": "actual"})
    origin = facts.rename(columns={"date": "as_of", "close": "naive"})
    rows = rows.merge(target, on="target_date").merge(origin, on="as_of")
    return rows.assign(error=rows["forecast"] - rows["actual"],
                       scaled_error=(rows["forecast"] - rows["actual"]).abs() / rows["scale"],
                       z=np.log(rows["actual"] / rows["forecast"]) / (rows["sigma"] * np.sqrt(rows["horizon"])))


def interval_quantiles(z: np.ndarray, level: int) -> tuple[float, float]:
    """The (lower, upper) quantiles of standardized errors for a central interval of `level` percent."""
    values = np.asarray(z, dtype="float64")
    values = values[np.isfinite(values)]
    if len(values) < MIN_ERRORS:
        return -_NORMAL[level], _NORMAL[level]
    tail = (1 - level / 100) / 2
    return float(np.quantile(values, tail)), float(np.quantile(values, 1 - tail))


def intervals(forecasts: np.ndarray, z_by_horizon: dict[int, np.ndarray], sigma_now: float
              ) -> dict[str, np.ndarray]:
    """lower_80, upper_80, lower_95, upper_95 for a path of forecasts (horizon 1 first)."""
    path = np.asarray(forecasts, dtype="float64")
    bounds: dict[str, np.ndarray] = {}
    for level in LEVELS:
        pairs = [interval_quantiles(z_by_horizon.get(h, np.empty(0)), level) for h in range(1, len(path) + 1)]
        spread = sigma_now * np.sqrt(np.arange(1, len(path) + 1))
        bounds[f"lower_{level}"] = path * np.exp(np.array([lo for lo, _ in pairs]) * spread)
        bounds[f"upper_{level}"] = path * np.exp(np.array([hi for _, hi in pairs]) * spread)
    return bounds


def z_by_horizon(evidence: pd.DataFrame, candidate: str) -> dict[int, np.ndarray]:
    """A candidate's standardized errors per horizon."""
    own = evidence[evidence["candidate"] == candidate]
    return {int(h): group["z"].to_numpy("float64") for h, group in own.groupby("horizon")}
