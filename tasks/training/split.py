"""Split stage: chronological train/test split, oldest first, never shuffled."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from nightcast.errors import InputError


@dataclass(frozen=True)
class Split:
    """The training period followed by the test period, both in date order."""

    train: pd.DataFrame
    test: pd.DataFrame


def train_size(n_rows: int, train_fraction: float) -> int:
    """Rows that go to training: the first floor(n * fraction)."""
    return int(n_rows * train_fraction)


def minimum_rows(time_step: int, train_fraction: float, extra: int = 0) -> int:
    """Fewest rows that give at least one training window and at least one test day.

    extra: closes the target consumes before its first value (1 for log returns).
    """
    n = time_step + 2 + extra
    while train_size(n, train_fraction) <= time_step + extra or n - train_size(n, train_fraction) < 1:
        n += 1
    return n


def split_series(frame: pd.DataFrame, train_fraction: float, time_step: int, extra: int = 0) -> Split:
    """Cut a date-ordered frame at train_fraction; both parts keep their order."""
    if not 0.0 < train_fraction < 1.0:
        raise InputError(f"train_fraction must be in (0, 1), got {train_fraction}")
    needed = minimum_rows(time_step, train_fraction, extra)
    if len(frame) < needed:
        raise InputError(
            f"{len(frame)} rows is too few for time_step {time_step} and train_fraction "
            f"{train_fraction}{' with log returns' if extra else ''}: need at least {needed}"
        )
    cut = train_size(len(frame), train_fraction)
    ordered = frame.reset_index(drop=True)
    return Split(train=ordered.iloc[:cut].reset_index(drop=True), test=ordered.iloc[cut:].reset_index(drop=True))


def replay_dates(dates: pd.Series, days: int) -> list:
    """The last `days` dates of a series, oldest first: the nights a backfill replays."""
    if days < 1:
        raise InputError(f"days must be at least 1, got {days}")
    ordered = pd.to_datetime(dates).sort_values().drop_duplicates()
    if days > len(ordered):
        raise InputError(f"cannot replay {days} days of a series of {len(ordered)} days")
    return [d.date() for d in ordered.iloc[-days:]]
