"""Rolling-origin backtest: the fold plan by hand, horizons 1..H from every origin, and no fold sees its future."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from nightcast.candidates import candidate
from nightcast.errors import InputError
from nightcast.settings import Settings
from nightcast.stage_options import BacktestPlan, ForecastPlan
from tasks.forecasting import forecasters, rolling_origin
from tasks.forecasting.rolling_origin import Fold, fold_plan, run_backtest, run_fold

SETTINGS = Settings(time_step=5, epochs=2, batch_size=8, horizon=3)
PLAN = ForecastPlan.from_settings(SETTINGS)


def folds_of(refit_every: int, folds: int) -> ForecastPlan:
    """PLAN with `folds` backtest folds, refit_every days apart."""
    return replace(PLAN, backtest=BacktestPlan(folds, refit_every))


def test_fold_plan_by_hand():
    plan = fold_plan(20, min_rows=6, refit_every=4, folds=2)
    assert plan == [Fold(1, 12, 4), Fold(2, 16, 4)]
    assert plan[0].origins.tolist() == [11, 12, 13, 14] and plan[1].origins.tolist() == [15, 16, 17, 18]
    assert fold_plan(10, 4, 2, 3)[0] == Fold(1, 4, 2)  # the least history: exactly min_rows


@pytest.mark.parametrize("n, min_rows, refit_every, folds", [(100, 7, 20, 4), (2148, 102, 20, 5), (31, 10, 1, 20)])
def test_folds_tile_the_last_origins_up_to_the_day_before_the_last(n, min_rows, refit_every, folds):
    plan = fold_plan(n, min_rows, refit_every, folds)
    origins = np.concatenate([f.origins for f in plan])
    np.testing.assert_array_equal(origins, np.arange(n - 1 - folds * refit_every, n - 1))
    assert plan[0].train_end >= min_rows and all(f.origins[0] == f.train_end - 1 for f in plan)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            (20, 6, 4, 4),
            "20 rows is too few for 4 folds of 4 days: the first fold needs 6 rows to fit on, so at least 22",
        ),
        ((100, 5, 0, 5), "refit_every must be at least 1, got 0"),
        ((100, 5, 20, 0), "folds must be at least 1, got 0"),
    ],
)
def test_fold_plan_refuses_too_little_history(args, message):
    with pytest.raises(InputError, match=message):
        fold_plan(*args)


def test_a_fold_forecasts_every_horizon_whose_target_exists(prices):
    frame = prices(60, seed=1)
    fold = Fold(1, 55, 5)  # origins 54..58; targets up to row 59
    result = run_fold(frame, fold, candidate("naive"), PLAN)
    rows = result.rows
    assert len(rows) == 3 + 3 + 3 + 2 + 1 and rows["horizon"].max() == 3
    closes = frame["close"].to_numpy()
    last = rows[rows["as_of"] == frame["date"][58]]
    assert last["forecast"].tolist() == [closes[58]] and last["actual"].tolist() == [closes[59]]
    assert result.cutoff == frame["date"].iloc[54].date()


class Spy:
    """A fit that records the closes it was given, wrapping the real one."""

    def __init__(self):
        self.seen = []

    def __call__(self, cand, closes, fitting, previous=None, log=None):
        self.seen.append(np.array(closes))
        return forecasters.fit(cand, closes, fitting, previous)


@pytest.mark.parametrize("name", ["drift", "ets", "arima"])
def test_no_fold_sees_data_after_its_cutoff(prices, name):
    frame = prices(90, seed=2)
    cand = candidate(name)
    for cut in (50, 57):  # garble from a fold's cut-off, and from inside a fold
        changed = frame.copy()
        changed.loc[cut:, "close"] = changed["close"].iloc[cut:] * 10 + np.arange(90 - cut)
        spies = [Spy(), Spy()]
        before, after = (run_backtest(f, cand, folds_of(10, 4), fit=s) for f, s in zip((frame, changed), spies))
        for fold_before, fold_after, seen_before, seen_after in zip(before, after, spies[0].seen, spies[1].seen):
            blind = fold_before.rows["as_of"] < frame["date"][cut]
            pd.testing.assert_frame_equal(
                fold_before.rows[blind][["as_of", "horizon", "forecast"]],
                fold_after.rows[blind][["as_of", "horizon", "forecast"]],
            )
            if len(seen_before) <= cut:
                np.testing.assert_array_equal(seen_before, seen_after)
        assert not np.array_equal(
            np.concatenate([f.rows["forecast"] for f in before]), np.concatenate([f.rows["forecast"] for f in after])
        )


def test_the_leakage_check_catches_a_forecast_that_reads_ahead(prices):
    frame = prices(90, seed=2)
    changed = frame.copy()
    changed.loc[60:, "close"] *= 10

    def peeking(fitted, closes, origins, horizon):  # reads the close after each origin: a planted leak
        return np.stack([np.full(horizon, closes[min(o + 1, len(closes) - 1)]) for o in origins])

    before, after = (run_backtest(f, candidate("naive"), folds_of(10, 4), forecast=peeking) for f in (frame, changed))
    blind = before[1].rows["as_of"] < frame["date"][60]  # fold 2: origins 59..68, the first one blind
    assert blind.sum() == 3 and not before[1].rows[blind]["forecast"].equals(after[1].rows[blind]["forecast"])


def test_an_rnn_line_fine_tunes_fold_after_fold_and_stays_blind(prices):
    frame = prices(80, seed=3)
    cand = candidate("simple_rnn-log_return")
    changed = frame.copy()
    changed.loc[70:, "close"] = changed["close"].iloc[70:] * 3
    before, after = (run_backtest(f, cand, folds_of(5, 2)) for f in (frame, changed))
    assert [f.fitted.training for f in before] == ["full", "fine_tune"]
    assert [f.fitted.epochs for f in before] == [SETTINGS.epochs, SETTINGS.fine_tune_epochs]
    blind = before[0].rows["as_of"] < frame["date"][70]
    np.testing.assert_array_equal(before[0].rows[blind]["forecast"], after[0].rows[blind]["forecast"])


def test_rows_carry_the_run_the_candidate_and_the_fold(prices):
    results = run_backtest(prices(40, seed=5), candidate("drift"), folds_of(4, 2))
    rows = rolling_origin.backtest_rows("r1", "ACME", "drift", results)
    assert set(rows["fold"]) == {1, 2} and set(rows["run_id"]) == {"r1"} and set(rows["candidate"]) == {"drift"}
    assert (rows["date"] == rows["target_date"]).all() and (rows["predicted"] == rows["forecast"]).all()
    assert (pd.to_datetime(rows["cutoff"]) <= rows["as_of"]).all()
