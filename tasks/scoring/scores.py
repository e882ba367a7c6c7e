"""Scores people use, per candidate and horizon beside naive persistence, and the comparison on shared forecasts.

Input rows are realized forecasts (tasks/scoring/evidence.realized): candidate, as_of, horizon, forecast, actual,
naive (the close at the origin) and scale (naive's in-sample MAE at the origin), with optional interval
columns lower_80 ... upper_95. Intervals are scored by coverage, mean width and the interval score (Gneiting and
Raftery 2007: the width plus 2 / alpha times the miss, in price units), beside naive's own interval's score on
the same origins and horizons.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nightcast.candidates import NAIVE
from tasks.scoring.intervals import LEVELS

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
    "interval_score_80",
    "interval_score_95",
    "naive_mae",
    "naive_rmse",
    "naive_mase",
    "naive_interval_score_80",
    "naive_interval_score_95",
)


def _direction(group: pd.DataFrame) -> float:
    """Share of forecasts that called the move from the origin's close right (forecasts of no move excluded)."""
    called = np.sign(group["forecast"] - group["naive"])
    moved = np.sign(group["actual"] - group["naive"])
    decided = called != 0
    return float((called[decided] == moved[decided]).mean()) if decided.any() else float("nan")


def interval_score(lower, upper, actual, level: int):
    """Gneiting and Raftery's interval score of central (level)% intervals, in price units (lower is better):
    the width, plus 2 / alpha times how far the actual close fell outside (alpha = 1 - level / 100)."""
    penalty = 200.0 / (100 - level)  # 2 / alpha, exactly 10 and 40 for 80% and 95%
    below = np.maximum(lower - actual, 0.0)
    above = np.maximum(actual - upper, 0.0)
    return (upper - lower) + penalty * (below + above)


def _mean_known(values: pd.Series) -> float:
    known = values.dropna()
    return float(known.mean()) if len(known) else float("nan")


def _interval_scores(group: pd.DataFrame) -> dict[str, float]:
    scores = {}
    nothing = pd.Series(np.nan, index=group.index)
    for level in LEVELS:
        lower, upper = group.get(f"lower_{level}", nothing), group.get(f"upper_{level}", nothing)
        known = lower.notna() & upper.notna()
        inside = (group["actual"] >= lower) & (group["actual"] <= upper)
        scores[f"coverage_{level}"] = float(inside[known].mean()) if known.any() else float("nan")
        scores[f"width_{level}"] = _mean_known((upper - lower)[known])
        scores[f"interval_score_{level}"] = _mean_known(interval_score(lower, upper, group["actual"], level)[known])
        naive = (group.get(f"naive_lower_{level}", nothing), group.get(f"naive_upper_{level}", nothing))
        naive_score = interval_score(*naive, group["actual"], level)
        scores[f"naive_interval_score_{level}"] = _mean_known(naive_score[naive[0].notna() & naive[1].notna()])
    return scores


def with_naive_intervals(rows: pd.DataFrame) -> pd.DataFrame:
    """rows with naive's own intervals of the same origin and horizon beside each forecast (naive_lower_80 ...):
    the interval every candidate's is judged against (absent when naive made none there)."""
    bounds = [c for c in rows.columns if c.startswith(("lower_", "upper_"))]
    naive = rows.loc[rows["candidate"] == NAIVE, ["as_of", "horizon", *bounds]]
    naive = naive.drop_duplicates(["as_of", "horizon"]).rename(columns={c: f"naive_{c}" for c in bounds})
    return rows.merge(naive, on=["as_of", "horizon"], how="left")


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
        "naive_mae": float(naive_error.abs().mean()),
        "naive_rmse": float(np.sqrt((naive_error**2).mean())),
        "naive_mase": float((naive_error.abs() / group["scale"]).mean()),
        **_interval_scores(group),
    }


def score_table(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per candidate and horizon with SCORE_COLUMNS."""
    if rows.empty:
        return pd.DataFrame(columns=["candidate", "horizon", *SCORE_COLUMNS])
    rows = with_naive_intervals(rows)
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
    intervals: int = 0
    """Shared forecasts where both made 80% and 95% intervals."""
    interval_ratio: float = float("nan")
    """The candidate's interval score over the other's on those (80% and 95% averaged; below 1 is better)."""


def interval_ratio(shared: pd.DataFrame) -> tuple[int, float]:
    """How many shared rows carry both sides' intervals, and the mean over levels of the candidate's mean
    interval score divided by the other's on them."""
    bounds = [f"{side}_{level}" for level in LEVELS for side in ("lower", "upper")]
    if not all(c in shared.columns and f"other_{c}" in shared.columns for c in bounds):
        return 0, float("nan")
    both = shared.dropna(subset=[*bounds, *(f"other_{c}" for c in bounds)])
    if both.empty:
        return 0, float("nan")
    ratios = []
    for level in LEVELS:
        mine = interval_score(both[f"lower_{level}"], both[f"upper_{level}"], both["actual"], level).mean()
        theirs = interval_score(both[f"other_lower_{level}"], both[f"other_upper_{level}"], both["actual"], level)
        ratios.append(mine / theirs.mean() if theirs.mean() > 0 else float("inf"))
    return len(both), float(np.mean(ratios))


def mase_by_horizon(rows: pd.DataFrame, column: str = "forecast") -> pd.Series:
    """MASE of one column of forecasts at each horizon."""
    return ((rows[column] - rows["actual"]).abs() / rows["scale"]).groupby(rows["horizon"]).mean()


def mean_mase(rows: pd.DataFrame, column: str = "forecast") -> float:
    """MASE per horizon, then averaged over horizons (each horizon weighs the same)."""
    return float(mase_by_horizon(rows, column).mean()) if len(rows) else float("nan")


def duel(rows: pd.DataFrame, candidate: str, other: str) -> Duel:
    """candidate against other on their shared realized forecasts."""
    keys = ["as_of", "horizon"]
    bounds = [c for c in rows.columns if c.startswith(("lower_", "upper_"))]
    mine = rows[rows["candidate"] == candidate]
    theirs = rows[rows["candidate"] == other][keys + ["forecast", *bounds]]
    shared = mine.merge(theirs.rename(columns={"forecast": "other", **{c: f"other_{c}" for c in bounds}}), on=keys)
    if shared.empty:
        return Duel(candidate, other, 0, float("nan"), float("nan"), float("nan"), None, None)
    columns = ["forecast", "other", "naive"]  # the MASE of each per horizon, in one pass (as mase_by_horizon)
    errors = shared[columns].sub(shared["actual"], axis=0).abs().div(shared["scale"], axis=0)
    per_horizon = errors.groupby(shared["horizon"]).mean()
    worst = float((per_horizon["forecast"] / per_horizon["naive"]).max())
    mase, other_mase, naive_mase = (float(per_horizon[c].mean()) for c in columns)
    return Duel(
        candidate,
        other,
        len(shared),
        mase,
        other_mase,
        naive_mase,
        shared["as_of"].min(),
        shared["as_of"].max(),
        worst,
        *interval_ratio(shared),
    )
