"""What an RNN candidate learns from closes, and how its outputs become prices again: one small spec per
target, looked up by name (adding a target is one entry here).

* `price` (the tutorial's): the model reads and predicts closes themselves (min-max scaled).
* `log_return`: the model reads and predicts daily log returns r_t = ln(close_t / close_{t-1}); a
  predicted return becomes a price as close_{t-1} * exp(r_t). One close more is needed (the first return
  needs the close before it), and a forecast of zero return is exactly the naive forecast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nightcast.errors import InputError


def _closes(values: np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype="float64").reshape(-1)


def _positive(closes: np.ndarray) -> np.ndarray:
    values = _closes(closes)
    if not np.isfinite(values).all() or (values <= 0).any():
        raise InputError("closes must be finite and positive to take log returns")
    return values


@dataclass(frozen=True)
class Target:
    """A target: how closes become the series a model learns, and how its outputs become prices."""

    name: str
    extra_rows: int
    """Closes the series consumes before its first value."""
    series: Callable[[np.ndarray], np.ndarray]
    """Closes -> the values the model learns (extra_rows fewer)."""
    step: Callable[[np.ndarray, np.ndarray], np.ndarray]
    """(values, the actual close before each) -> one-step predictions in price units."""
    path: Callable[[np.ndarray, np.ndarray], np.ndarray]
    """(paths of values, one row per origin; each origin's close) -> the paths in price units."""


TARGET_SPECS: dict[str, Target] = {
    t.name: t
    for t in (
        Target("price", 0, _closes, lambda values, previous: values, lambda values, last: values),
        Target(
            "log_return",
            1,
            lambda closes: np.diff(np.log(_positive(closes))),
            lambda values, previous: previous * np.exp(values),
            lambda values, last: last[:, None] * np.exp(np.cumsum(values, axis=1)),
        ),
    )
}


def target(name: str) -> Target:
    """The target of that name; an unknown name is refused with the list of known ones."""
    if name not in TARGET_SPECS:
        raise InputError(f"unknown target {name!r}: use one of {', '.join(TARGET_SPECS)}")
    return TARGET_SPECS[name]
