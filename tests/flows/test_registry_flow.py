"""The registry across nights: live evidence accumulates, RNN lines fine-tune, one decision per night."""

import pytest

from flows.backfill import backfill
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse


@pytest.fixture(scope="module")
def replayed(tmp_path_factory, prefect_harness):
    """Four nights of a synthetic ticker replayed from an empty warehouse."""
    from tests.conftest import random_walk_prices

    root = tmp_path_factory.mktemp("nights")
    frame = random_walk_prices(170, ticker="ACME", seed=7)
    frame.drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(root / "a.csv", index=False)
    settings = Settings(
        source="file",
        path=str(root / "a.csv"),
        ticker="ACME",
        time_step=10,
        epochs=2,
        candidates=["naive", "drift", "simple_rnn-log_return"],
        horizon=3,
        min_forecasts=5,
        warehouse=str(root / "wh"),
    )
    outcomes = backfill(settings=settings, days=4)
    return Warehouse(root / "wh"), frame, outcomes


def test_one_decision_per_night_and_only_the_first_is_a_cold_start(replayed):
    wh, frame, outcomes = replayed
    assert [o.status for o in outcomes] == ["completed"] * 4
    decisions = wh.query("select as_of, action, champion, previous from decisions order by as_of")
    assert decisions["as_of"].dt.date.tolist() == frame["date"].iloc[-4:].dt.date.tolist()
    assert decisions["action"].iloc[0] == "cold start" and "cold start" not in decisions["action"].iloc[1:].tolist()
    assert decisions["previous"].iloc[1:].tolist() == decisions["champion"].iloc[:-1].tolist()
    assert wh.query("select count(distinct run_id) n from backtests")["n"][0] == 1  # backtested once


@pytest.mark.parametrize(
    "candidate, modes", [("simple_rnn-log_return", ("full", "fine_tune")), ("drift", ("fit", "filter"))]
)
def test_lines_continue_between_full_fits(replayed, candidate, modes):
    """An RNN fine-tunes its previous version and a statistical model filters with its previous parameters
    until a full fit (a refit) is due: weekly by default, so four nights are one line."""
    wh, _, _ = replayed
    line = wh.query(
        "select training, parent_version, model_version, full_as_of, path from model_events "
        f"where candidate = '{candidate}' order by data_end"
    )
    assert line["training"].tolist() == [modes[0]] + [modes[1]] * 3
    assert line["parent_version"].iloc[1:].tolist() == line["model_version"].iloc[:-1].tolist()
    assert line["full_as_of"].nunique() == 1
    if candidate == "drift":  # the parameters are the first night's, whatever the later closes say
        params = {(wh.root / p / "params.json").read_text() for p in line["path"]}
        assert len(params) == 1


def test_live_forecasts_join_the_evidence_and_the_views_score_them(replayed):
    wh, frame, _ = replayed
    realized = wh.query("select * from realized_forecasts order by as_of, candidate, horizon")
    assert set(realized["candidate"]) == {"naive", "drift", "simple_rnn-log_return"}
    assert realized["as_of"].dt.date.min() == frame["date"].iloc[-4].date()
    naive = realized[realized["candidate"] == "naive"]
    assert (naive["forecast"] == naive["naive"]).all() and (naive["error"] == naive["naive_error"]).all()
    accuracy = wh.query("select * from forecast_accuracy where candidate = 'naive' order by horizon")
    assert accuracy["horizon"].tolist() == [1, 2, 3] and (accuracy["mase"] == accuracy["naive_mase"]).all()
    served = wh.query("select * from served_accuracy order by horizon")
    assert served["n"].tolist() == [3, 2, 1] and served["coverage_95"].notna().all()
    board = wh.query("select * from leaderboard where horizon = 1 order by rank")
    assert len(board) == 3 and board["rank"].iloc[0] == 1
    last_metrics = wh.query("select evidence_end, as_of from metrics order by as_of desc limit 1").iloc[0]
    assert last_metrics["evidence_end"] < last_metrics["as_of"]
