"""Tonight's forecasts: every candidate fitted on all rows up to as_of forecasts the next trading sessions,
with 80% and 95% intervals from its own out-of-sample errors; which one is served is the registry's call.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from nightcast.calendars import sessions_after
from tasks.forecasting import forecasters
from tasks.scoring import evidence, intervals

if TYPE_CHECKING:  # pragma: no cover
    from nightcast.stage_options import ForecastPlan
    from tasks.scoring.champion import Decision


def history_until(prices: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The date-ordered rows up to and including as_of: all a model may see tonight."""
    dates = pd.to_datetime(prices["date"])
    return prices[dates <= pd.Timestamp(as_of)].assign(date=dates).sort_values("date").reset_index(drop=True)


def forecast_candidate(
    fitted: forecasters.Fitted, ticker: str, history: pd.DataFrame, realized: pd.DataFrame, plan: ForecastPlan
) -> pd.DataFrame:
    """One candidate's path for horizons 1..H after the last row of the ticker's history, on its exchange's
    sessions, with intervals and the MASE scale."""
    horizon, tail_memory = plan.horizon, plan.evidence.tail_memory
    closes = history["close"].to_numpy("float64")
    facts = evidence.price_facts(history)
    path = forecasters.forecast(fitted, closes, np.array([len(closes) - 1]), horizon)[0]
    tails = evidence.naive_z(facts, horizon, tail_memory) if tail_memory else None
    bounds = intervals.intervals(
        path, intervals.errors_by_horizon(realized, fitted.candidate.name), float(facts["sigma"].iloc[-1]), tails
    )
    as_of = history["date"].iloc[-1].date()
    return pd.DataFrame(
        {
            "as_of": as_of,
            "target_date": list(sessions_after(as_of, horizon, plan.exchange(ticker))),
            "horizon": np.arange(1, horizon + 1, dtype="int32"),
            "forecast": path,
            "candidate": fitted.candidate.name,
            **bounds,
            "scale": float(facts["scale"].iloc[-1]),
        }
    )


def forecast_rows(
    run_id: str, ticker: str, paths: list[pd.DataFrame], champion: str, versions: dict[str, str]
) -> pd.DataFrame:
    """The forecasts-table rows of every candidate tonight; served is true on the champion's path."""
    rows = pd.concat(paths, ignore_index=True)
    return rows.assign(
        run_id=run_id,
        ticker=ticker,
        served=rows["candidate"] == champion,
        model_version=rows["candidate"].map(versions),
    )


def evidence_rows(
    run_id: str, ticker: str, as_of: dt.date, table: pd.DataFrame, realized: pd.DataFrame, created_at: pd.Timestamp
) -> pd.DataFrame:
    """The metrics-table rows: each candidate's scores per horizon on tonight's evidence."""
    window = (realized["as_of"].min(), realized["as_of"].max()) if len(realized) else (None, None)
    return table.assign(
        run_id=run_id,
        ticker=ticker,
        as_of=as_of,
        evidence_start=window[0],
        evidence_end=window[1],
        created_at=created_at,
    )


@dataclass(frozen=True)
class FitSummary:
    """How one candidate was fitted tonight."""

    candidate: str
    training: str
    seconds: float
    epochs: int
    reason: str
    model_version: str


@dataclass(frozen=True)
class NightResult:
    """What one completed nightly run of one ticker produced."""

    run_id: str
    ticker: str
    as_of: dt.date
    data_start: dt.date
    n_days: int
    prices_added: int
    decision: Decision
    paths: pd.DataFrame
    """The forecasts-table rows of every candidate (served true on the champion's)."""
    scores: pd.DataFrame
    """The metrics-table rows: each candidate's evidence scores per horizon."""
    fits: tuple[FitSummary, ...]
    backtested: tuple[str, ...]
    backtest_seconds: float
    """Fitting time of the cold-start backtest folds (0 on nights without one)."""
    plot_path: str
    data_docs: str
    warehouse: str
    model_folder: str

    @property
    def served(self) -> pd.DataFrame:
        """The served path, horizon 1 first."""
        return self.paths[self.paths["served"]].sort_values("horizon")

    @property
    def train_seconds(self) -> float:
        """Fitting time of tonight's candidates (the backtest folds not included)."""
        return sum(f.seconds for f in self.fits)

    @property
    def rnn_training(self) -> str:
        """How tonight's RNN candidates trained: full, fine_tune, or fit when there is none."""
        modes = {f.training for f in self.fits if f.training != "fit"}
        return "full" if "full" in modes else ("fine_tune" if modes else "fit")
