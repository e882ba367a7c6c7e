"""Rolling-origin backtest: refit a candidate every k trading days on every row before the cut-off, and from
each origin of the fold forecast horizons 1..H recursively, exactly as the served path forecasts.

The origins are the last folds x k rows that have a next close (the last origin is the day before the
last row). A fold's model sees rows [0, train_end); its origins are train_end - 1 .. train_end + k - 2,
and each forecast reads only the closes up to its origin. An RNN's folds form a line as the nightly's
do: the first trains from scratch, each later one fine-tunes the one before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nightcast import progress
from nightcast.candidates import Candidate
from tasks.forecasting import forecasters
from tasks.forecasting.folds import Fold, fold_plan

if TYPE_CHECKING:  # pragma: no cover
    from nightcast.stage_options import ForecastPlan

Fit = Callable[..., forecasters.Fitted]
Forecast = Callable[[forecasters.Fitted, np.ndarray, np.ndarray, int], np.ndarray]


@dataclass(frozen=True)
class FoldResult:
    """What one fold fitted and forecast: one row per origin and horizon whose target row exists."""

    fold: int
    cutoff: dt.date
    """The last date the fold's model saw."""
    rows: pd.DataFrame
    """as_of, target_date, horizon, forecast, actual, naive."""
    fitted: forecasters.Fitted


def run_fold(
    prices: pd.DataFrame,
    fold: Fold,
    candidate: Candidate,
    plan: ForecastPlan,
    previous: forecasters.RnnState | None = None,
    fit: Fit = forecasters.fit,
    forecast: Forecast = forecasters.forecast,
) -> FoldResult:
    """Fit the candidate on the rows before the cut-off (as plan.fitting says) and forecast horizons
    1..plan.horizon from each of the fold's origins."""
    closes = prices["close"].to_numpy("float64")
    check_fold(fold, len(closes))
    fitted = fit(candidate, closes[: fold.train_end], plan.fitting, previous)
    return fold_result(prices, fold, fitted, plan.horizon, forecast)


def check_fold(fold: Fold, rows: int) -> None:
    """Refuse a fold whose cut-off leaves no row to forecast."""
    if not 0 < fold.train_end <= rows - 1:
        raise ValueError(f"fold {fold.fold} (cut-off row {fold.train_end}) does not fit {rows} rows")


def fold_result(
    prices: pd.DataFrame,
    fold: Fold,
    fitted: forecasters.Fitted,
    horizon: int,
    forecast: Forecast = forecasters.forecast,
) -> FoldResult:
    """A fold's forecasts from each of its origins by a candidate fitted on the rows before its cut-off."""
    closes = prices["close"].to_numpy("float64")
    dates = pd.to_datetime(prices["date"]).reset_index(drop=True)
    check_fold(fold, len(closes))
    origins = fold.origins[fold.origins < len(closes) - 1]
    paths = forecast(fitted, closes[: origins[-1] + 1], origins, horizon)
    origin, step = np.meshgrid(origins, np.arange(1, horizon + 1), indexing="ij")
    target = origin + step
    keep = target < len(closes)
    rows = pd.DataFrame(
        {
            "as_of": dates[origin[keep]].to_numpy(),
            "target_date": dates[target[keep]].to_numpy(),
            "horizon": step[keep],
            "forecast": paths[keep],
            "actual": closes[target[keep]],
            "naive": closes[origin[keep]],
        }
    )
    return FoldResult(fold.fold, dates[fold.train_end - 1].date(), rows, fitted)


def run_backtest(
    prices: pd.DataFrame,
    candidate: Candidate,
    plan: ForecastPlan,
    fit: Fit = forecasters.fit,
    forecast: Forecast = forecasters.forecast,
) -> list[FoldResult]:
    """Every fold of one candidate (plan.backtest's), oldest first (an RNN fine-tunes the previous fold's model)."""
    needed = forecasters.min_closes(candidate, plan.fitting.time_step)
    planned = fold_plan(len(prices), needed, plan.backtest.refit_every, plan.backtest.folds)
    results: list[FoldResult] = []
    with progress.counted("folds", f"backtest {candidate.name}", len(planned)) as bar:
        for fold in planned:
            previous = results[-1].fitted.state if results and candidate.is_rnn else None
            results.append(run_fold(prices, fold, candidate, plan, previous, fit, forecast))
            bar.advance("folds")
    return results


def backtest_rows(run_id: str, ticker: str, candidate: str, results: list[FoldResult]) -> pd.DataFrame:
    """The backtests-table rows of one candidate: every origin and horizon with its fold and cut-off."""
    return pd.concat(
        [
            r.rows.assign(
                run_id=run_id,
                ticker=ticker,
                candidate=candidate,
                fold=r.fold,
                cutoff=r.cutoff,
                date=r.rows["target_date"],
                predicted=r.rows["forecast"],
            )
            for r in results
        ],
        ignore_index=True,
    )


def train_seconds(results: list[FoldResult]) -> float:
    """Fitting time over every fold."""
    return float(sum(r.fitted.seconds for r in results))
