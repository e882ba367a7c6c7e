"""Out-of-sample evidence: every forecast a candidate made (in a backtest fold or live) whose target close
is now known, scored beside naive persistence, and the intervals its own errors imply.

Nothing here sees a row a model trained on: backtest forecasts come from folds fitted before their origin,
live forecasts from the night they were made, and only targets up to tonight's as_of are read.

Each realized forecast also gets its volatility-scaled log error z = ln(actual / forecast) / (sigma *
sqrt(h)), sigma the close's daily volatility at the origin: an exponentially weighted standard deviation
of log returns (decay 0.90, which follows a change of regime within days). tasks/scoring/intervals.py turns the
z of a candidate into its bands.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EWMA_DECAY = 0.90
WARM_UP = 20
FORECAST_COLUMNS = (
    "candidate",
    "as_of",
    "target_date",
    "horizon",
    "forecast",
    "lower_80",
    "upper_80",
    "lower_95",
    "upper_95",
)
"""What a stored forecast brings to the evidence (intervals only for live forecasts)."""


def daily_volatility(closes: np.ndarray) -> np.ndarray:
    """Per row, the EWMA standard deviation of daily log returns up to and including that row."""
    values = np.asarray(closes, dtype="float64").reshape(-1)
    squared = np.diff(np.log(values)) ** 2
    variance = np.full(len(values), np.nan)  # row 0 has no return yet
    for i in range(1, len(values)):
        burn_in = i <= WARM_UP  # the first rows: the plain mean of the squared returns so far
        variance[i] = (
            squared[:i].mean() if burn_in else EWMA_DECAY * variance[i - 1] + (1 - EWMA_DECAY) * squared[i - 1]
        )
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
    rows = forecasts[keep].assign(
        as_of=pd.to_datetime(forecasts["as_of"]), target_date=pd.to_datetime(forecasts["target_date"])
    )
    rows = rows[(rows["target_date"] <= cutoff) & (rows["as_of"] < cutoff)]
    origins = np.sort(rows["as_of"].unique())[-window:] if window > 0 else rows["as_of"].unique()
    rows = rows[rows["as_of"].isin(origins)]
    target = facts[["date", "close"]].rename(columns={"date": "target_date", "close": "actual"})
    origin = facts.rename(columns={"date": "as_of", "close": "naive"})
    rows = rows.merge(target, on="target_date").merge(origin, on="as_of")
    return rows.assign(
        error=rows["forecast"] - rows["actual"],
        scaled_error=(rows["forecast"] - rows["actual"]).abs() / rows["scale"],
        z=scaled_log_error(rows["actual"], rows["forecast"], rows["sigma"], rows["horizon"]),
    )


def scaled_log_error(actual, forecast, sigma, horizon):
    """z = ln(actual / forecast) / (sigma * sqrt(horizon)): a forecast's error in units of the volatility at its
    origin over its horizon (arrays or series, elementwise)."""
    return np.log(actual / forecast) / (sigma * np.sqrt(horizon))


def naive_z(facts: pd.DataFrame, horizon: int, memory: int) -> dict[int, np.ndarray]:
    """Per horizon 1..horizon, the volatility-scaled log errors z of naive persistence from the last `memory`
    origins whose target is a row of facts (tonight's and earlier closes only): naive needs no fit, so its
    errors over a long history cost nothing and remember jumps the evidence window has forgotten."""
    closes, sigma = facts["close"].to_numpy("float64"), facts["sigma"].to_numpy("float64")
    out = {}
    for h in range(1, horizon + 1):
        origins = np.arange(max(1, len(closes) - h - memory), len(closes) - h)
        z = scaled_log_error(closes[origins + h], closes[origins], sigma[origins], h)
        out[h] = z[np.isfinite(z)]
    return out
