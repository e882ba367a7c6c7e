"""Target stage: closes into the series an RNN learns, and its outputs back into prices, for any target of
nightcast/targets.py (looked up by name)."""

from __future__ import annotations

import numpy as np

from nightcast.targets import target as spec


def extra_rows(target: str) -> int:
    """Closes a target consumes before its first value (1 for returns, 0 for prices)."""
    return spec(target).extra_rows


def to_series(closes: np.ndarray, target: str) -> np.ndarray:
    """The values the model learns from a run of closes (extra_rows fewer)."""
    return spec(target).series(np.asarray(closes, dtype="float64").reshape(-1))


def holdout_series(train_closes: np.ndarray, test_closes: np.ndarray, target: str) -> np.ndarray:
    """One value per test day, each from the closes before it (the last training ones first)."""
    extra = extra_rows(target)
    test = np.asarray(test_closes, dtype="float64").reshape(-1)
    if len(train_closes) < extra:
        raise ValueError(f"the {target} target of the test period needs the last {extra} training close(s)")
    context = np.asarray(train_closes, dtype="float64").reshape(-1)[len(train_closes) - extra :]
    return to_series(np.concatenate([context, test]), target)


def to_prices(values: np.ndarray, previous_closes: np.ndarray, target: str) -> np.ndarray:
    """One-step predictions in price units: each value applied to the actual close the day before."""
    values = np.asarray(values, dtype="float64").reshape(-1)
    previous = np.asarray(previous_closes, dtype="float64").reshape(-1)
    if extra_rows(target) and len(previous) != len(values):
        raise ValueError(f"{len(values)} predicted values for {len(previous)} previous closes")
    return spec(target).step(values, previous)


def paths_to_prices(values: np.ndarray, last_closes: np.ndarray, target: str) -> np.ndarray:
    """Forecast paths (one row per origin) in price units, from each origin's actual close."""
    return spec(target).path(np.asarray(values, dtype="float64"), np.asarray(last_closes, dtype="float64"))
