"""The tutorial's evaluation, done right: an RNN recipe trained on the first train_fraction of a history and
scored one step ahead (from actual closes) on the rest, beside naive persistence, in price units.

This is the stage chain split -> scale -> window -> train -> predict -> evaluate, written once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from nightcast.candidates import Candidate
from tasks.scoring.evaluate import evaluate_predictions, naive_forecast
from tasks.training import target as target_stage
from tasks.training.predict import one_step_prices
from tasks.training.scale import scale_split
from tasks.training.split import split_series
from tasks.training.train import train_with_options
from tasks.training.window import make_test_windows, make_windows

if TYPE_CHECKING:  # pragma: no cover
    from nightcast.stage_options import Fitting


def score_on_split(
    prices: pd.DataFrame,
    candidate: Candidate,
    fitting: Fitting,
    train_fraction: float,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Split (the first train_fraction to train on), scale, window, train, predict and evaluate one RNN recipe;
    its comparisons row."""
    assert candidate.kind and candidate.target
    target, time_step = candidate.target, fitting.time_step
    parts = split_series(prices, train_fraction, time_step, target_stage.extra_rows(target))
    train, test = parts.train["close"].to_numpy("float64"), parts.test["close"].to_numpy("float64")
    scaled = scale_split(target_stage.to_series(train, target), target_stage.holdout_series(train, test, target))
    windows = make_windows(scaled.train, time_step)
    test_windows = make_test_windows(scaled.train, scaled.test, time_step)
    trained = train_with_options(windows.X, windows.y, fitting, kind=candidate.kind, log=log)
    previous = pd.concat([parts.train["close"].tail(1), parts.test["close"].iloc[:-1]]).to_numpy("float64")
    predicted = one_step_prices(trained.model, test_windows.X, scaled.params, target, previous)
    evaluation = evaluate_predictions(test, predicted, naive_forecast(train[-1], test))
    return {
        "candidate": candidate.name,
        "model": candidate.kind,
        "target": target,
        **evaluation.as_row(),
        "n_train": len(windows.y),
        "n_test": len(test),
        "epochs": trained.epochs_run,
        "train_seconds": trained.seconds,
        "test_start": parts.test["date"].iloc[0].date(),
        "test_end": parts.test["date"].iloc[-1].date(),
    }
