"""The served path replayed night by night on a panel of close series, as a backfill runs it but without a warehouse
or Prefect: each night goes through tasks/forecasting/panel.py (cold-start backtests, evidence, fits, intervals, the
champion rule) and its forecasts become the next nights' evidence. The first night is a cold start; later nights
continue each candidate's previous version (a statistical model filters the new closes, an RNN fine-tunes) until a
full refit is due, as the registry plans it.

What tests/tasks/forecasting/test_served_calibration.py checks with it: the bands of the *served* path, whichever
candidate the champion rule picks, hold at every horizon on synthetic regimes, and their interval score stays within
a hair of naive's conformal one (#25). tasks/scoring/calibration.py replays naive alone, faster.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from nightcast.calendars import DEFAULT_CALENDAR, sessions_after
from nightcast.stage_options import ForecastPlan
from tasks.forecasting import panel, registry
from tasks.forecasting.panel import TickerForecasts, TickerInputs

STORED = ["candidate", "as_of", "target_date", "horizon", "forecast", "lower_80", "upper_80", "lower_95", "upper_95"]
EMPTY = pd.DataFrame({c: pd.Series(dtype="float64") for c in STORED}).astype(
    {"candidate": "object", "as_of": "datetime64[us]", "target_date": "datetime64[us]", "horizon": "int32"}
)


def sessions(count: int, start: dt.date = dt.date(2017, 1, 3), calendar: str = DEFAULT_CALENDAR) -> pd.DatetimeIndex:
    """`count` consecutive sessions of the exchange calendar from `start` on: dates a synthetic series can live
    on, so that tonight's forecasts target the sessions the calendar says come next."""
    return pd.DatetimeIndex(sessions_after(start - dt.timedelta(days=1), count, calendar))


@dataclass
class Line:
    """What one ticker carries from night to night: its stored forecasts (one frame, tonight's rows appended once
    a night; None before the first), backtested candidates, each candidate's previous version (state, when its last
    full fit saw data up to) and the champion."""

    stored: pd.DataFrame | None = None
    backtested: set[str] = field(default_factory=set)
    previous: dict[str, tuple[Any, dt.date]] = field(default_factory=dict)
    champion: str | None = None

    def inputs(self, ticker: str, history: pd.DataFrame, plan: ForecastPlan) -> TickerInputs:
        night_of = history["date"].iloc[-1].date()
        plans = {name: self.plan(name, night_of, plan) for name in plan.candidates}
        stored = EMPTY if self.stored is None else self.stored
        return TickerInputs(
            ticker,
            history,
            stored[pd.to_datetime(stored["target_date"]) <= pd.Timestamp(night_of)].reset_index(drop=True),
            frozenset(self.backtested),
            plans,
            {name: self.previous[name][0] for name in self.previous},
            self.champion,
        )

    def plan(self, name: str, night_of: dt.date, plan: ForecastPlan) -> registry.Training:
        """The registry's plan for the candidate tonight, from the version this line holds."""
        kept = self.previous.get(name)
        last = None if kept is None else {"model_version": name, "path": name, "full_as_of": kept[1]}
        return registry.plan_training(name, last, night_of, plan.full_retrain_every_days)

    def record(self, done: TickerForecasts, plans: dict[str, registry.Training], night_of: dt.date) -> pd.DataFrame:
        """Keep tonight's forecasts and versions for the next nights; tonight's paths with the served flag."""
        self.backtested |= set(done.folds)
        folds = [panel.fold_rows(results).assign(candidate=name) for name, results in done.folds.items()]
        paths = pd.concat(done.paths, ignore_index=True)
        kept = [] if self.stored is None else [self.stored]
        self.stored = pd.concat([*kept, *folds, paths[STORED]], ignore_index=True)
        for name, fitted in done.fits.items():
            plan = plans[name]
            continued = plan.mode in ("fine_tune", "filter") and name in self.previous
            self.previous[name] = (fitted.state, self.previous[name][1] if continued else night_of)
        self.champion = done.decision.champion
        return paths.assign(served=paths["candidate"] == self.champion)


def replay_served(histories: dict[str, pd.DataFrame], nights: int, plan: ForecastPlan) -> pd.DataFrame:
    """Every ticker's last `nights` nights whose every target is in its history, all tickers of a night at
    once: each candidate's forecasts with bands, `served`, and the actual close of the target. histories:
    date-ordered rows (date, close) per ticker, on the calendar's sessions."""
    lines = {ticker: Line() for ticker in histories}
    out = []
    for back in range(nights + plan.horizon, plan.horizon, -1):
        tonight = {t: h.iloc[: len(h) - back + 1].reset_index(drop=True) for t, h in histories.items()}
        inputs = [lines[t].inputs(t, h, plan) for t, h in tonight.items()]
        done = panel.forecast_tickers(inputs, plan)
        for item in inputs:
            result = done[item.ticker]
            if not isinstance(result, TickerForecasts):
                raise RuntimeError(f"{item.ticker}: {result.message}")
            night_of = item.history["date"].iloc[-1].date()
            out.append(lines[item.ticker].record(result, dict(item.plans), night_of).assign(ticker=item.ticker))
    rows = pd.concat(out, ignore_index=True)
    actual = pd.concat(h[["date", "close"]].assign(ticker=t) for t, h in histories.items())
    actual = actual.rename(columns={"date": "target_date", "close": "actual"})
    rows["target_date"] = pd.to_datetime(rows["target_date"])
    return rows.merge(actual.assign(target_date=pd.to_datetime(actual["target_date"])), on=["ticker", "target_date"])
