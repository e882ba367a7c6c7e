"""Window stage: sliding windows of time_step values and the next value, built without a Python loop."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


@dataclass(frozen=True)
class Windows:
    """Model inputs X of shape (n, time_step, 1) and targets y of shape (n,)."""

    X: np.ndarray
    y: np.ndarray


def make_windows(series: np.ndarray, time_step: int) -> Windows:
    """Every window of time_step values paired with the value right after it; none dropped."""
    values = np.asarray(series, dtype="float32").reshape(-1)
    if time_step < 1:
        raise ValueError(f"time_step must be at least 1, got {time_step}")
    if len(values) <= time_step:
        raise ValueError(
            f"a series of {len(values)} values has no window of time_step {time_step} "
            "plus a target: it needs at least time_step + 1 values"
        )
    X = sliding_window_view(values[:-1], time_step)
    y = values[time_step:]
    return Windows(X=X[..., np.newaxis], y=y.copy())  # a read-only view: no copy of the windows


def make_test_windows(train: np.ndarray, test: np.ndarray, time_step: int) -> Windows:
    """Windows whose targets are exactly the test values, using the last training values as context."""
    train_values = np.asarray(train).reshape(-1)
    test_values = np.asarray(test).reshape(-1)
    if len(train_values) < time_step:
        raise ValueError(f"need at least {time_step} training values as context, got {len(train_values)}")
    if len(test_values) == 0:
        raise ValueError("the test period is empty")
    context = train_values[len(train_values) - time_step :]
    return make_windows(np.concatenate([context, test_values]), time_step)


def last_window(series: np.ndarray, time_step: int) -> np.ndarray:
    """The final time_step values shaped (1, time_step, 1): the input for tomorrow's forecast."""
    values = np.asarray(series, dtype="float32").reshape(-1)
    if len(values) < time_step:
        raise ValueError(f"need {time_step} values for the last window, got {len(values)}")
    return values[-time_step:].reshape(1, time_step, 1)
