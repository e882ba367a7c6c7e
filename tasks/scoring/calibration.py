"""Naive persistence's intervals replayed night by night on a close series, with nothing fitted: the evidence, the
adaptive normalized bands and their scores exactly as a backfill computes them (tasks/scoring/evidence.py,
tasks/scoring/intervals.py, tasks/scoring/scores.py), in milliseconds a night instead of a flow run. Naive's
interval is the one every candidate's is judged against and the one served when nothing beats naive, so its
calibration at every horizon, in calm spells with jumps and in storms, is what these replays check
(tests/tasks/scoring/test_calibration.py, docs/forecasting.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nightcast.stage_options import EvidencePolicy
from tasks.scoring import evidence, intervals
from tasks.scoring.scores import score_table

NAIVE = "naive"


def _origin_rows(dates: pd.DatetimeIndex, closes: np.ndarray, origin: int, horizon: int) -> pd.DataFrame:
    """Naive's path from one origin: the origin's close at every horizon."""
    return pd.DataFrame(
        {
            "candidate": NAIVE,
            "as_of": dates[origin],
            "target_date": dates[origin + 1 : origin + horizon + 1],
            "horizon": np.arange(1, horizon + 1),
            "forecast": closes[origin],
        }
    )


def replay_naive(
    closes: np.ndarray,
    nights: int,
    horizon: int = 5,
    window: int = 100,
    backtest: int = 100,
    tail_memory: int = EvidencePolicy.tail_memory,
) -> pd.DataFrame:
    """Naive's forecasts with 80%/95% bands for each of the last `nights` origins whose every target is in the
    series (the first night's evidence: `backtest` earlier origins without bands, as a cold start's folds give),
    joined with the actual closes: candidate, as_of, target_date, horizon, forecast, bounds, actual. tail_memory
    is the setting of that name (its default; 0: off)."""
    values = np.asarray(closes, dtype="float64")
    last = len(values) - horizon - 1
    first = last - nights + 1
    if first - backtest < evidence.WARM_UP:
        raise ValueError(f"{len(values)} closes are too few for {nights} nights after {backtest} backtest origins")
    dates = pd.bdate_range("2000-01-03", periods=len(values))
    facts = evidence.price_facts(pd.DataFrame({"date": dates, "close": values}))
    made = [_origin_rows(dates, values, origin, horizon) for origin in range(first - backtest, first)]
    for night in range(first, last + 1):
        realized = evidence.realized(pd.concat(made, ignore_index=True), facts, dates[night], window)
        path = _origin_rows(dates, values, night, horizon)
        tails = evidence.naive_z(facts[: night + 1], horizon, tail_memory) if tail_memory else None
        errors = intervals.errors_by_horizon(realized, NAIVE)
        bounds = intervals.intervals(path["forecast"].to_numpy(), errors, float(facts["sigma"][night]), tails)
        made.append(path.assign(**bounds))
    live = pd.concat(made[backtest:], ignore_index=True)
    return live.assign(actual=live["target_date"].map(dict(zip(dates, values, strict=True))))


def calibration(replayed: pd.DataFrame) -> pd.DataFrame:
    """Per horizon: n, coverage_80, coverage_95 and the mean interval scores of the bands in `replayed` (rows with
    horizon, forecast, the bounds and the actual close), every row pooled whichever candidate made it."""
    rows = replayed.assign(candidate="pooled", naive=replayed["forecast"], scale=1.0)
    table = score_table(rows)
    columns = ["horizon", "n", "coverage_80", "coverage_95", "interval_score_80", "interval_score_95"]
    return table[columns].set_index("horizon")
