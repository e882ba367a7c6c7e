"""Walk-forward backtest: the fold plan by hand, scores per fold and overall, and no fold sees its future."""

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from nightcast.settings import Settings
from tasks import backtest
from tasks.backtest import Fold, FoldResult, fold_plan, run_fold, score_folds
from tasks.scale import ScaledSplit, fit_scaler, inverse_transform, transform
from tasks.store import RunInfo
from tasks.train import TrainedModel

SETTINGS = Settings(time_step=5, epochs=2, batch_size=8)


def test_fold_plan_by_hand():
    assert fold_plan(20, time_step=3, refit_every=4, folds=2) == [
        Fold(fold=1, train_end=12, test_start=12, test_end=16),
        Fold(fold=2, train_end=16, test_start=16, test_end=20)]
    assert fold_plan(10, time_step=3, refit_every=2, folds=3) == [
        Fold(1, 4, 4, 6), Fold(2, 6, 6, 8), Fold(3, 8, 8, 10)]
    assert fold_plan(7, time_step=3, refit_every=1, folds=3)[0] == Fold(1, 4, 4, 5)  # the least history: 4 rows


@pytest.mark.parametrize("n, time_step, refit_every, folds",
                         [(100, 5, 20, 4), (2148, 100, 20, 5), (31, 10, 1, 20)])
def test_folds_tile_the_last_days_and_expand(n, time_step, refit_every, folds):
    plan = fold_plan(n, time_step, refit_every, folds)
    assert [f.fold for f in plan] == list(range(1, folds + 1))
    assert plan[0].test_start == n - folds * refit_every and plan[-1].test_end == n
    assert all(f.train_end == f.test_start and f.test_end - f.test_start == refit_every for f in plan)
    assert all(a.test_end == b.test_start for a, b in zip(plan, plan[1:]))
    assert plan[0].train_end > time_step


@pytest.mark.parametrize("args, message", [
    ((6, 3, 1, 3), "6 rows is too few for 3 folds of 1 days with time_step 3: need at least 7"),
    ((2148, 100, 20, 103), "need at least 2161"),
    ((100, 5, 20, 5), "need at least 106"),
    ((100, 5, 0, 5), "refit_every must be at least 1, got 0"),
    ((100, 5, 20, 0), "folds must be at least 1, got 0"),
    ((100, 0, 20, 5), "time_step must be at least 1, got 0"),
])
def test_fold_plan_refuses_too_little_history(args, message):
    with pytest.raises(ValueError, match=message):
        fold_plan(*args)


class Persistence:
    """A stand-in model: tomorrow's scaled close is the window's last one."""

    def predict_on_batch(self, X):
        return X[:, -1, :]


class Spy:
    """A fit function that records what it was trained on and returns the Persistence model."""

    def __init__(self):
        self.X = self.y = None

    def __call__(self, X, y, settings):
        self.X, self.y = np.array(X), np.array(y)
        return TrainedModel(model=Persistence(), losses=[0.0], seconds=0.5)


def test_run_fold_trains_on_rows_before_the_cutoff_and_predicts_from_actual_closes(prices):
    frame = prices(60, seed=1)
    fold = fold_plan(60, 5, 8, 3)[1]  # train rows 0..43, test rows 44..51
    spy = Spy()
    result = run_fold(frame, fold, SETTINGS, fit=spy)
    closes = frame["close"].to_numpy()
    assert result.scaler == fit_scaler(closes[:44])
    np.testing.assert_allclose(inverse_transform(spy.y, result.scaler), closes[5:44], rtol=1e-6)
    assert spy.X.shape == (39, 5, 1)
    assert result.cutoff == frame["date"].iloc[43].date() and result.fold == 2
    assert result.dates.tolist() == frame["date"].iloc[44:52].tolist()
    np.testing.assert_array_equal(result.actual, closes[44:52])
    np.testing.assert_array_equal(result.naive, closes[43:51])
    np.testing.assert_allclose(result.predicted, result.naive, rtol=1e-6)  # the window ends the day before


def test_run_fold_refuses_a_fold_beyond_the_data(prices):
    with pytest.raises(ValueError, match="does not fit 30 rows"):
        run_fold(prices(30), Fold(1, 25, 25, 31), SETTINGS, fit=Spy())


def assert_blind_to_changes(frame: pd.DataFrame, fold: Fold, change_from: int, fit_factory,
                            settings=SETTINGS) -> None:
    """Garble every close from row change_from (>= the cut-off) on: the fold's scaler, training data and the
    predictions of days whose window ends before change_from must not change."""
    assert change_from >= fold.train_end
    changed = frame.copy()
    rng = np.random.default_rng(0)
    garbage = rng.uniform(0, 1e3, len(frame) - change_from)
    changed.loc[change_from:, "close"] = changed["close"].iloc[change_from:] * 10 + garbage
    fits = [fit_factory(), fit_factory()]
    before, after = (run_fold(f, fold, settings, fit=fit) for f, fit in zip((frame, changed), fits))
    assert before.scaler == after.scaler
    np.testing.assert_array_equal(before.train_windows.X, after.train_windows.X)
    np.testing.assert_array_equal(before.train_windows.y, after.train_windows.y)
    blind = change_from - fold.test_start + 1  # test days whose context ends before change_from
    np.testing.assert_array_equal(before.predicted[:blind], after.predicted[:blind])
    np.testing.assert_array_equal(before.naive[:blind], after.naive[:blind])
    assert not np.array_equal(before.predicted, after.predicted) or blind >= fold.test_end - fold.test_start


@pytest.mark.parametrize("offset", [0, 3])
def test_no_fold_sees_data_after_its_cutoff(prices, offset):
    frame = prices(60, seed=2)
    for fold in fold_plan(60, 5, 8, 4):
        spies = [Spy(), Spy()]
        assert_blind_to_changes(frame, fold, fold.train_end + offset, iter(spies).__next__)
        np.testing.assert_array_equal(spies[0].X, spies[1].X)
        np.testing.assert_array_equal(spies[0].y, spies[1].y)
        assert len(spies[0].y) == fold.train_end - SETTINGS.time_step  # every training target precedes the cut-off


def test_a_returns_fold_predicts_prices_from_returns_before_its_cutoff(prices):
    returns = SETTINGS.model_copy(update={"target": "log_return"})
    frame = prices(60, seed=4)
    closes = frame["close"].to_numpy()
    fold = fold_plan(60, 5, 8, 3, extra=1)[1]  # train rows 0..43, test rows 44..51
    spy = Spy()
    result = run_fold(frame, fold, returns, fit=spy)
    log_returns = np.diff(np.log(closes))
    assert result.scaler == fit_scaler(log_returns[:43])  # the 43 returns inside the training rows
    np.testing.assert_allclose(inverse_transform(spy.y, result.scaler), log_returns[5:43], atol=1e-7)
    # persistence of returns: each day's price is yesterday's close grown by yesterday's return
    np.testing.assert_allclose(result.predicted, closes[43:51] * np.exp(log_returns[42:50]), rtol=1e-6)
    for fold in fold_plan(60, 5, 8, 4, extra=1):
        assert_blind_to_changes(frame, fold, fold.train_end, Spy, settings=returns)
    with pytest.raises(ValueError, match="need at least 39"):
        fold_plan(38, 5, 8, 4, extra=1)


def test_the_leakage_check_catches_a_scaler_fit_on_the_test_period(prices, monkeypatch):
    def leaky_scale_split(train, test):
        params = fit_scaler(np.concatenate([train, test]))
        return ScaledSplit(train=transform(train, params), test=transform(test, params), params=params)

    monkeypatch.setattr(backtest, "scale_split", leaky_scale_split)
    fold = fold_plan(60, 5, 8, 4)[0]
    with pytest.raises(AssertionError):
        assert_blind_to_changes(prices(60, seed=2), fold, fold.train_end, Spy)


def test_a_real_fold_is_blind_to_its_future(prices):
    """The same check with the real trainer: same seed, same training data, so the same model."""
    frame = prices(70, seed=3)
    fold = fold_plan(70, 5, 10, 2)[0]
    assert_blind_to_changes(frame, fold, fold.train_end + 4, lambda: backtest.train_with_settings)


def fold_result(fold, actual, predicted, naive, seconds=1.0):
    n = len(actual)
    return FoldResult(fold=fold, cutoff=dt.date(2020, 1, fold),
                      dates=pd.Series(pd.bdate_range("2020-02-03", periods=n)), actual=np.array(actual, float),
                      predicted=np.array(predicted, float), naive=np.array(naive, float),
                      scaler=fit_scaler(np.array([0.0, 1.0])), train_windows=None, train_seconds=seconds,
                      epochs_run=1)


def test_scores_per_fold_and_overall_by_hand():
    results = [fold_result(1, [10, 12], [11, 12], [9, 10]),
               fold_result(2, [12, 14], [12, 13], [12, 12], seconds=2.0)]
    scores = score_folds(results)
    assert scores["fold"].tolist()[:2] == [1, 2] and pd.isna(scores["fold"].iloc[2])
    assert scores["cutoff"].tolist() == [dt.date(2020, 1, 1), dt.date(2020, 1, 2), None]
    assert scores["n_days"].tolist() == [2, 2, 4] and scores["train_seconds"].tolist() == [1.0, 2.0, 3.0]
    assert scores["rmse"].tolist() == pytest.approx([np.sqrt(0.5), np.sqrt(0.5), np.sqrt(0.5)])
    assert scores["naive_rmse"].tolist() == pytest.approx([np.sqrt(2.5), np.sqrt(2), 1.5])
    assert scores["mae"].tolist() == pytest.approx([0.5, 0.5, 0.5])
    assert scores["skill"].tolist() == pytest.approx(list(1 - scores["rmse"] / scores["naive_rmse"]))
    with pytest.raises(ValueError, match="no fold"):
        score_folds([])


def test_rows_carry_the_run_and_the_fold():
    run = RunInfo(run_id="r1", ticker="ACME", flow_run_id=None, settings_json="{}",
                  started_at=pd.Timestamp.now(tz="UTC"))
    results = [fold_result(1, [10, 12], [11, 12], [9, 10]), fold_result(2, [12], [12], [12])]
    rows = backtest.backtest_rows(run, results)
    assert rows["fold"].tolist() == [1, 1, 2]
    assert rows["cutoff"].tolist() == [dt.date(2020, 1, 1)] * 2 + [dt.date(2020, 1, 2)]
    assert set(rows["run_id"]) == {"r1"} and rows["naive"].tolist() == [9, 10, 12]
    metrics = backtest.metric_rows(run, score_folds(results))
    assert len(metrics) == 3 and set(metrics["ticker"]) == {"ACME"} and metrics["created_at"].notna().all()


def test_stored_settings_name_the_backtest():
    stored = json.loads(backtest.backtest_settings_json(SETTINGS, refit_every=20, folds=5))
    assert stored["backtest"] == {"refit_every": 20, "folds": 5} and stored["time_step"] == 5
