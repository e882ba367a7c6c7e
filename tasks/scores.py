"""Scores people use, per candidate and horizon beside naive persistence, and the comparison on shared forecasts.

Input rows are realized forecasts (tasks/evidence.realized): candidate, as_of, horizon, forecast, actual,
naive (the close at the origin) and scale (naive's in-sample MAE at the origin), with optional interval
columns lower_80 ... upper_95.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tasks.intervals import LEVELS

SCORE_COLUMNS = (
    "n",
    "mae",
    "rmse",
    "mase",
    "bias",
    "direction",
    "coverage_80",
    "coverage_95",
    "width_80",
    "width_95",
    "naive_mae",
    "naive_rmse",
    "naive_mase",
)


def _direction(group: pd.DataFrame) -> float:
    """Share of forecasts that called the move from the origin's close right (forecasts of no move excluded)."""
    called = np.sign(group["forecast"] - group["naive"])
    moved = np.sign(group["actual"] - group["naive"])
    decided = called != 0
    return float((called[decided] == moved[decided]).mean()) if decided.any() else float("nan")


def _interval_scores(group: pd.DataFrame) -> dict[str, float]:
    scores = {}
    for level in LEVELS:
        lower, upper = group.get(f"lower_{level}"), group.get(f"upper_{level}")
        known = pd.Series(False, index=group.index) if lower is None else lower.notna() & upper.notna()
        inside = (group["actual"] >= lower) & (group["actual"] <= upper) if lower is not None else known
        scores[f"coverage_{level}"] = float(inside[known].mean()) if known.any() else float("nan")
        scores[f"width_{level}"] = float((upper - lower)[known].mean()) if known.any() else float("nan")
    return scores


def score_group(group: pd.DataFrame) -> dict[str, float]:
    """Every score of one candidate at one horizon."""
    error = group["forecast"] - group["actual"]
    naive_error = group["naive"] - group["actual"]
    return {
        "n": len(group),
        "mae": float(error.abs().mean()),
        "rmse": float(np.sqrt((error**2).mean())),
        "mase": float((error.abs() / group["scale"]).mean()),
        "bias": float(error.mean()),
        "direction": _direction(group),
        **_interval_scores(group),
        "naive_mae": float(naive_error.abs().mean()),
        "naive_rmse": float(np.sqrt((naive_error**2).mean())),
        "naive_mase": float((naive_error.abs() / group["scale"]).mean()),
    }


def score_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per candidate and horizon with SCORE_COLUMNS."""
    if rows.empty:
        return pd.DataFrame(columns=["candidate", "horizon", *SCORE_COLUMNS])
    table = [
        {"candidate": c, "horizon": int(h), **score_group(g)} for (c, h), g in rows.groupby(["candidate", "horizon"])
    ]
    return pd.DataFrame(table)


@dataclass(frozen=True)
class Duel:
    """Two candidates scored on the forecasts both made (same origins and horizons): MASE averaged over
    horizons, naive's on the same forecasts, how many forecasts that is, and the candidate's worst horizon
    against naive (the largest MASE / naive MASE over horizons)."""

    candidate: str
    other: str
    n: int
    mase: float
    other_mase: float
    naive_mase: float
    first: pd.Timestamp | None
    last: pd.Timestamp | None
    worst: float = float("nan")


def mase_by_horizon(rows: pd.DataFrame, column: str = "forecast") -> pd.Series:
    """MASE of one column of forecasts at each horizon."""
    return ((rows[column] - rows["actual"]).abs() / rows["scale"]).groupby(rows["horizon"]).mean()


def mean_mase(rows: pd.DataFrame, column: str = "forecast") -> float:
    """MASE per horizon, then averaged over horizons (each horizon weighs the same)."""
    return float(mase_by_horizon(rows, column).mean()) if len(rows) else float("nan")


def duel(rows: pd.DataFrame, candidate: str, other: str) -> Duel:
    """candidate against other on their shared realized forecasts."""
    keys = ["as_of", "horizon"]
    mine = rows[rows["candidate"] == candidate]
    theirs = rows[rows["candidate"] == other][keys + ["forecast"]].rename(columns={"forecast": "other"})
    shared = mine.merge(theirs, on=keys)
    if shared.empty:
        return Duel(candidate, other, 0, float("nan"), float("nan"), float("nan"), None, None)
    worst = float((mase_by_horizon(shared) / mase_by_horizon(shared, "naive")).max())
    return Duel(
        candidate,
        other,
        len(shared),
        mean_mase(shared),
        mean_mase(shared, "other"),
        mean_mase(shared, "naive"),
        shared["as_of"].min(),
        shared["as_of"].max(),
        worst,
    )
