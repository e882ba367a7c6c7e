"""Prefect tasks: each stage's pure function with a name, retries only where there is network I/O.

Nothing here computes; every body hands straight to functions in tasks/ and the warehouse. Results are
kept in memory (NO_CACHE): fitted state is persisted explicitly by the store steps, never pickled by Prefect.
"""

from __future__ import annotations

import time
from functools import wraps

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from nightcast import progress
from nightcast.candidates import candidate as lookup
from nightcast.stage_options import ForecastPlan
from tasks.forecasting import forecasters, rolling_origin
from tasks.scoring import evidence as evidence_stage


class StageFailed(RuntimeError):
    """A stage failed; the message starts with the stage's name and keeps the cause's one-line reason."""

    def __init__(self, stage: str, cause: BaseException):
        super().__init__(f"{stage} failed: {cause}")
        self.stage = stage
        self.cause = cause


def stage(name: str, **options):
    """Declare a Prefect task named after its stage whose errors say which stage failed, and which reports
    its time to whoever listens to progress (the command line prints one line per stage)."""

    def decorate(fn):
        @wraps(fn)
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            except StageFailed:
                raise
            except Exception as error:
                raise StageFailed(name, error) from error
            label = run_label(name, fn, args, kwargs)
            progress.current().stage(label, time.perf_counter() - started)
            return result

        return task(name=name, cache_policy=NO_CACHE, **options)(run)

    return decorate


def run_label(name: str, fn, args, kwargs) -> str:
    """The stage's name, with the candidate it worked on when there is one (fit simple_rnn-log_return)."""
    import inspect

    bound = inspect.signature(fn).bind_partial(*args, **kwargs).arguments
    which = bound.get("name") or getattr(getattr(bound.get("fitted"), "candidate", None), "name", None)
    return f"{name} {which}" if which else name


@stage("gather_evidence")
def gather_evidence(forecasts: pd.DataFrame, history: pd.DataFrame, window: int) -> pd.DataFrame:
    """The forecasts realized by tonight from the last `window` origins, scored against the stored closes."""
    as_of = history["date"].iloc[-1].date()
    return evidence_stage.realized(forecasts, evidence_stage.price_facts(history), as_of, window)


@stage("plan_folds")
def plan_folds(prices: pd.DataFrame, forecasting: ForecastPlan) -> None:
    """Check before anything is written that every candidate's folds fit the history."""
    for name in forecasting.candidates:
        rolling_origin.fold_plan(
            len(prices),
            forecasters.min_closes(lookup(name), forecasting.fitting.time_step),
            forecasting.backtest.refit_every,
            forecasting.backtest.folds,
        )


@stage("backtest", task_run_name="backtest-{name}")
def backtest_folds(history: pd.DataFrame, name: str, forecasting: ForecastPlan) -> list[rolling_origin.FoldResult]:
    """Rolling-origin folds of one candidate (forecasting.backtest's), horizons 1..H from every origin, out of
    sample."""
    return rolling_origin.run_backtest(history, lookup(name), forecasting)
