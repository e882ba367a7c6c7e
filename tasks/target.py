"""Target stage: what the model learns from closes, and how its outputs become prices again.

* `price` (the tutorial's): the model reads and predicts closes themselves (min-max scaled). Prices in
  the test period above the training range map outside [0, 1], which the model handles poorly.
* `log_return`: the model reads and predicts daily log returns r_t = ln(close_t / close_{t-1}); a
  predicted return becomes a price as close_{t-1} * exp(r_t). One close more is needed (the first
  return needs the close before it), and a forecast of zero return is exactly the naive forecast.
"""

from __future__ import annotations

import numpy as np

from nightcast.candidates import TARGETS
from nightcast.errors import InputError


def extra_rows(target: str) -> int:
    """Closes a target consumes before its first value: 1 for returns, 0 for prices."""
    check_target(target)
    return 1 if target == "log_return" else 0


def check_target(target: str) -> str:
    """Refuse an unknown target with the list of known ones."""
    if target not in TARGETS:
        raise InputError(f"unknown target {target!r}: use one of {', '.join(TARGETS)}")
    return target


def _positive(closes: np.ndarray) -> np.ndarray:
    values = np.asarray(closes, dtype="float64").reshape(-1)
    if not np.isfinite(values).all() or (values <= 0).any():
        raise InputError("closes must be finite and positive to take log returns")
    return values


def to_series(closes: np.ndarray, target: str) -> np.ndarray:
    """The values the model learns from a run of closes (one fewer for log returns)."""
    if check_target(target) == "price":
        return np.asarray(closes, dtype="float64").reshape(-1)
    return np.diff(np.log(_positive(closes)))


def holdout_series(train_closes: np.ndarray, test_closes: np.ndarray, target: str) -> np.ndarray:
    """One value per test day: its close, or its return from the close before (the last training one first)."""
    test = np.asarray(test_closes, dtype="float64").reshape(-1)
    if check_target(target) == "price":
        return test
    if len(train_closes) == 0:
        raise ValueError("log returns of the test period need the last training close")
    return to_series(np.concatenate([np.asarray(train_closes, dtype="float64")[-1:], test]), target)


def to_prices(values: np.ndarray, previous_closes: np.ndarray, target: str) -> np.ndarray:
    """One-step predictions in price units: each value applied to the actual close the day before."""
    values = np.asarray(values, dtype="float64").reshape(-1)
    if check_target(target) == "price":
        return values
    previous = np.asarray(previous_closes, dtype="float64").reshape(-1)
    if len(previous) != len(values):
        raise ValueError(f"{len(values)} predicted returns for {len(previous)} previous closes")
    return previous * np.exp(values)


def path_to_prices(values: np.ndarray, last_close: float, target: str) -> np.ndarray:
    """A recursive forecast path in price units: returns compound from the last actual close."""
    values = np.asarray(values, dtype="float64").reshape(-1)
    if check_target(target) == "price":
        return values
    return float(last_close) * np.exp(np.cumsum(values))
