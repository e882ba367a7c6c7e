"""A night's forecasts for many tickers at once: backtest the candidates a ticker has no evidence for yet,
gather each ticker's out-of-sample evidence, fit every candidate (one candidate's fits of all tickers in one
call, so the RNNs can train in one computation), forecast the next sessions with intervals, and choose each
ticker's champion.

Pure: the flow hands in what the warehouse holds (stored forecasts, previous versions already loaded) and
stores what comes back. A ticker that fails at any step is its own result (the step and the reason); the
others go on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from nightcast import progress
from nightcast.candidates import candidate as lookup
from tasks.forecasting import forecasters, registry, tonight
from tasks.forecasting.rolling_origin import FoldResult, fold_plan, fold_result
from tasks.scoring import champion, evidence

if TYPE_CHECKING:  # pragma: no cover
    from nightcast.stage_options import ForecastPlan

FitMany = Callable[..., list]


@dataclass(frozen=True)
class TickerInputs:
    """What one ticker brings to tonight: its history up to as_of and what the warehouse holds for it."""

    ticker: str
    history: pd.DataFrame
    """Date-ordered price rows up to tonight's close."""
    stored: pd.DataFrame
    """Stored forecasts (live and backtest) of its evidence window."""
    backtested: frozenset[str] = frozenset()
    plans: Mapping[str, registry.Training] = field(default_factory=dict)
    """Each candidate's plan tonight (fine-tune / filter / from scratch)."""
    previous: Mapping[str, Any] = field(default_factory=dict)
    """Each continuing candidate's previous version (an RnnState or StatFit), loaded."""
    champion: str | None = None
    """The candidate served on its last night (None: a cold start)."""


@dataclass(frozen=True)
class TickerForecasts:
    """One ticker's night: what was backtested, the evidence, the fits, the paths and the decision."""

    ticker: str
    cold: tuple[str, ...]
    folds: Mapping[str, list[FoldResult]]
    realized: pd.DataFrame
    fits: Mapping[str, forecasters.Fitted]
    paths: list[pd.DataFrame]
    decision: champion.Decision

    @property
    def backtest_seconds(self) -> float:
        """Fitting time of tonight's cold-start backtest folds."""
        return float(sum(r.fitted.seconds for results in self.folds.values() for r in results))


@dataclass(frozen=True)
class TickerFailed:
    """A ticker that could not finish tonight: the step and the one-line reason."""

    ticker: str
    stage: str
    error: BaseException

    @property
    def message(self) -> str:
        text = str(self.error).splitlines()[0] if str(self.error) else type(self.error).__name__
        return f"{self.stage} failed: {text}"


def _timed(name: str, started: float) -> None:
    progress.current().stage(name, time.perf_counter() - started)


def backtest_candidate(
    name: str, histories: Mapping[str, pd.DataFrame], plan: ForecastPlan, fit_many: FitMany
) -> dict[str, list[FoldResult] | BaseException]:
    """Rolling-origin folds of one candidate for every ticker given, fold by fold: each fold's fits of all
    tickers in one fit_many call (an RNN fine-tunes each ticker's previous fold)."""
    candidate, backtest = lookup(name), plan.backtest
    plans: dict[str, Any] = {}
    for ticker, history in histories.items():
        try:
            plans[ticker] = fold_plan(
                len(history),
                forecasters.min_closes(candidate, plan.fitting.time_step),
                backtest.refit_every,
                backtest.folds,
            )
        except Exception as error:
            plans[ticker] = error
    results: dict[str, Any] = {t: p if isinstance(p, BaseException) else [] for t, p in plans.items()}
    with progress.counted("folds", f"backtest {name}", backtest.folds) as bar:
        for k in range(backtest.folds):
            live = [t for t, r in results.items() if isinstance(r, list)]
            jobs = [
                (
                    histories[t]["close"].to_numpy("float64")[: plans[t][k].train_end],
                    results[t][-1].fitted.state if candidate.is_rnn and results[t] else None,
                )
                for t in live
            ]
            for ticker, fitted in zip(live, fit_many(candidate, jobs, plan.fitting), strict=True):
                try:
                    if isinstance(fitted, BaseException):
                        raise fitted
                    results[ticker].append(fold_result(histories[ticker], plans[ticker][k], fitted, plan.horizon))
                except Exception as error:
                    results[ticker] = error
            bar.advance("folds")
    return results


def _realized(inputs: TickerInputs, extra: list[pd.DataFrame], plan: ForecastPlan) -> pd.DataFrame:
    history = inputs.history
    as_of = history["date"].iloc[-1].date()
    facts = evidence.price_facts(history)
    return evidence.realized(pd.concat([inputs.stored, *extra], ignore_index=True), facts, as_of, plan.evidence.window)


def fold_rows(results: list[FoldResult]) -> pd.DataFrame:
    """A candidate's fold forecasts as stored-forecast rows (the evidence reads them like live ones)."""
    return pd.concat([r.rows[["as_of", "target_date", "horizon", "forecast"]] for r in results], ignore_index=True)


def forecast_tickers(
    inputs: list[TickerInputs], plan: ForecastPlan, fit_many: FitMany = forecasters.fit_many
) -> dict[str, TickerForecasts | TickerFailed]:
    """Every ticker's night, each step over all tickers at once; a ticker's failure stops only that ticker."""
    failed: dict[str, TickerFailed] = {}
    by_ticker = {i.ticker: i for i in inputs}

    def alive() -> list[str]:
        return [t for t in by_ticker if t not in failed]

    started = time.perf_counter()
    cold: dict[str, list[str]] = {}
    for ticker in alive():
        item = by_ticker[ticker]
        try:
            first = _realized(item, [], plan)
            cold[ticker] = registry.cold_candidates(first, set(item.backtested), plan, len(item.history))
        except Exception as error:
            failed[ticker] = TickerFailed(ticker, "gather_evidence", error)
    _timed("gather_evidence", started)

    folds: dict[str, dict[str, list[FoldResult]]] = {t: {} for t in by_ticker}
    for name in plan.candidates:
        cold_ones = {t: by_ticker[t].history for t in alive() if name in cold.get(t, [])}
        if not cold_ones:
            continue
        started = time.perf_counter()
        for ticker, result in backtest_candidate(name, cold_ones, plan, fit_many).items():
            if isinstance(result, BaseException):
                failed[ticker] = TickerFailed(ticker, "backtest", result)
            else:
                folds[ticker][name] = result
        _timed(f"backtest {name}", started)

    realized: dict[str, pd.DataFrame] = {}
    started = time.perf_counter()
    for ticker in alive():
        extra = [fold_rows(r).assign(candidate=n) for n, r in folds[ticker].items()]
        try:
            realized[ticker] = _realized(by_ticker[ticker], extra, plan)
        except Exception as error:
            failed[ticker] = TickerFailed(ticker, "gather_evidence", error)
    _timed("gather_evidence", started)

    fits: dict[str, dict[str, forecasters.Fitted]] = {t: {} for t in by_ticker}
    for name in plan.candidates:
        candidate, who = lookup(name), alive()
        started = time.perf_counter()
        jobs = [(by_ticker[t].history["close"].to_numpy("float64"), _continued(by_ticker[t], name)) for t in who]
        for ticker, fitted in zip(who, fit_many(candidate, jobs, plan.fitting), strict=True):
            if isinstance(fitted, BaseException):
                failed[ticker] = TickerFailed(ticker, "fit", fitted)
            else:
                fits[ticker][name] = fitted
        _timed(f"fit {name}", started)

    out: dict[str, TickerForecasts | TickerFailed] = {}
    started = time.perf_counter()
    for ticker in by_ticker:
        if ticker in failed:
            out[ticker] = failed[ticker]
            continue
        out[ticker] = _conclude(by_ticker[ticker], cold[ticker], folds[ticker], realized[ticker], fits[ticker], plan)
    _timed("forecast and choose", started)
    return out


def _continued(item: TickerInputs, name: str) -> Any:
    """The candidate's previous version when tonight's plan continues it (fine-tune, filter), else None."""
    plan = item.plans.get(name)
    return item.previous.get(name) if plan is not None and plan.mode in ("fine_tune", "filter") else None


def _conclude(
    item: TickerInputs,
    cold: list[str],
    folds: dict[str, list[FoldResult]],
    realized: pd.DataFrame,
    fits: dict[str, forecasters.Fitted],
    plan: ForecastPlan,
) -> TickerForecasts | TickerFailed:
    """Forecast every candidate's path and choose the champion of one ticker."""
    try:
        paths = [tonight.forecast_candidate(f, item.ticker, item.history, realized, plan) for f in fits.values()]
    except Exception as error:
        return TickerFailed(item.ticker, "forecast", error)
    try:
        decision = champion.choose_champion(
            realized, list(plan.candidates), item.champion, plan.evidence.margin, plan.evidence.min_forecasts
        )
    except Exception as error:
        return TickerFailed(item.ticker, "choose_champion", error)
    return TickerForecasts(item.ticker, tuple(cold), folds, realized, fits, paths, decision)
