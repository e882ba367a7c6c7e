"""Incremental ingest through the flows: a stored ticker fetches only the overlap and the new days, revisions
are recorded and ruled on, a rewritten history is refused with nothing stored changed, a batch serves the
nightly, and a night trains on the stored history whichever way its prices arrived. Yahoo is a FakeYahoo."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import yfinance

from flows.backfill import backfill
from flows.nightly import TickersFailed, nightly
from flows.retrain import retrain
from flows.steps import StageFailed
from nightcast.plans import NightlyPlan
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse
from tasks.prices.revisions import RevisionRefused
from tests.conftest import random_walk_prices
from tests.fake_yahoo import Call, Failing, FakeYahoo

START = dt.date(2020, 1, 1)


@pytest.fixture
def yahoo(monkeypatch):
    """FakeYahoo over AAA's 150-day history, installed as yfinance.download."""
    fake = FakeYahoo({"AAA": random_walk_prices(150, ticker="AAA", seed=3)})
    monkeypatch.setattr(yfinance, "download", fake)
    return fake


def day(fake: FakeYahoo, i: int, ticker: str = "AAA") -> dt.date:
    return fake.histories[ticker]["date"].iloc[i].date()


def night(tmp_path, end: dt.date, **extra) -> Settings:
    options = dict(source="yahoo", ticker="AAA", start=START, candidates=["naive", "drift"], time_step=10)
    return Settings(**{**options, "end": end, "warehouse": str(tmp_path / "wh"), **extra})


def snapshot(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_second_night_fetches_only_the_overlap_and_the_new_days(tmp_path, yahoo):
    retrain(settings=night(tmp_path, day(yahoo, 139)))
    retrain(settings=night(tmp_path, day(yahoo, 141)))
    assert yahoo.calls == [
        Call(("AAA",), START, day(yahoo, 139)),  # the first night: the whole history
        Call(("AAA",), day(yahoo, 135), day(yahoo, 141)),  # then the 5 last stored sessions and the new days
    ]
    wh = Warehouse(tmp_path / "wh")
    stored = wh.query("select date, close from prices order by date")
    assert len(stored) == 142 and stored["date"].is_unique
    expected = yahoo.histories["AAA"]["close"].iloc[:142].to_numpy()
    assert stored["close"].to_numpy() == pytest.approx(expected)
    assert wh.query("select status from runs")["status"].tolist() == ["completed"] * 2


def test_a_kept_revision_is_recorded_once_and_the_stored_close_stays(tmp_path, yahoo):
    retrain(settings=night(tmp_path, day(yahoo, 139)))
    original = yahoo.histories["AAA"].loc[137, "close"]
    yahoo.histories["AAA"].loc[137, "close"] = original * 1.02
    second = retrain(settings=night(tmp_path, day(yahoo, 141)))
    retrain(settings=night(tmp_path, day(yahoo, 142)))  # the revised day is still in the overlap
    wh = Warehouse(tmp_path / "wh")
    revisions = wh.query("select * from price_revisions")
    assert len(revisions) == 1
    row = revisions.iloc[0]
    assert (row["run_id"], row["date"].date(), row["rule"]) == (second.run_id, day(yahoo, 137), "keep")
    assert (row["old_close"], row["new_close"]) == pytest.approx((original, original * 1.02))
    stored = wh.query("select close from prices where date = ?", [day(yahoo, 137)])["close"].item()
    assert stored == pytest.approx(original)


def test_a_taken_revision_replaces_the_close_and_the_rnn_trains_from_scratch(tmp_path, yahoo):
    options = dict(
        candidates=["naive", "simple_rnn-log_return"],
        on_revision="take",
        epochs=1,
        full_retrain_every_days=30,
        backtest_folds=1,
        backtest_refit_every=5,
    )
    retrain(settings=night(tmp_path, day(yahoo, 139), **options))
    yahoo.histories["AAA"].loc[138, "close"] *= 1.02
    retrain(settings=night(tmp_path, day(yahoo, 141), **options))
    retrain(settings=night(tmp_path, day(yahoo, 142), **options))
    wh = Warehouse(tmp_path / "wh")
    trainings = wh.query(
        "select training from model_events where candidate = 'simple_rnn-log_return' order by data_end"
    )
    assert trainings["training"].tolist() == ["full", "full", "fine_tune"]  # night 2: the revision forced it
    assert wh.query("select rule from price_revisions")["rule"].tolist() == ["take"]
    stored = wh.query("select close from prices where date = ?", [day(yahoo, 138)])["close"].item()
    assert stored == pytest.approx(yahoo.histories["AAA"].loc[138, "close"])


def test_a_split_is_refused_and_nothing_stored_changes(tmp_path, yahoo):
    retrain(settings=night(tmp_path, day(yahoo, 139)))
    root = tmp_path / "wh"
    before = snapshot(root)
    yahoo.histories["AAA"][["open", "high", "low", "close"]] *= 0.5
    with pytest.raises(StageFailed) as failed:
        retrain(settings=night(tmp_path, day(yahoo, 141)))
    assert isinstance(failed.value.cause, RevisionRefused)
    message = str(failed.value)
    assert message.startswith("reconcile failed: the source changed 5 stored closes of AAA")
    assert f"between {day(yahoo, 135)} and {day(yahoo, 139)} (new/old 0.5 on every one: a split" in message
    after = snapshot(root)
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    assert changed == {"runs/ticker=AAA/runs.recent.parquet"}  # only the failed run's row was added
    runs = Warehouse(root).query("select status, error from runs order by started_at")
    assert runs["status"].tolist() == ["completed", "failed"] and "split" in runs["error"].iloc[1]


def test_a_gap_since_the_last_stored_close_fails_validation_of_the_merged_history(tmp_path, yahoo):
    retrain(settings=night(tmp_path, day(yahoo, 139)))
    history = yahoo.histories["AAA"]
    yahoo.histories["AAA"] = history.drop(index=range(140, 148)).reset_index(drop=True)  # 8 sessions missing
    with pytest.raises(StageFailed, match="validate failed: .*gap_days"):
        retrain(settings=night(tmp_path, history["date"].iloc[149].date()))
    assert len(Warehouse(tmp_path / "wh").query("select * from prices")) == 140


def test_the_nightly_fetches_its_tickers_in_one_batch(tmp_path, monkeypatch):
    fake = FakeYahoo({t: random_walk_prices(140, ticker=t, seed=i) for i, t in enumerate(["AAA", "BBB"])})
    monkeypatch.setattr(yfinance, "download", fake)
    settings = night(tmp_path, fake.histories["AAA"]["date"].iloc[-1].date(), candidates=["naive"])
    plan = NightlyPlan(tickers=["AAA", "BBB"], settings=settings, runner={"kind": "threads", "workers": 2})
    outcomes = nightly(plan=plan)
    assert [o.status for o in outcomes] == ["completed"] * 2
    assert fake.calls == [Call(("AAA", "BBB"), START, settings.end)]  # one call, no run fetched alone
    assert not list((tmp_path / "wh" / "incoming").rglob("*.parquet"))  # staged rows removed after each run
    nightly(plan=plan)
    assert fake.calls[1] == Call(("AAA", "BBB"), fake.histories["AAA"]["date"].iloc[-5].date(), settings.end)


def test_a_backfilled_night_and_a_live_night_on_the_same_stored_history_forecast_the_same(tmp_path, monkeypatch):
    options = dict(
        ticker="GOOG",
        start=dt.date(2012, 3, 1),
        candidates=["naive", "ets", "simple_rnn-log_return"],
        time_step=10,
        epochs=2,
        backtest_folds=1,
        backtest_refit_every=5,
    )
    last = dt.date(2013, 3, 1)
    replayed = Settings(source="sample", end=last, warehouse=str(tmp_path / "replayed"), **options)
    outcomes = backfill(settings=replayed, days=2)
    first = dt.date.fromisoformat(outcomes[0].as_of)
    live = Settings(source="sample", end=first, warehouse=str(tmp_path / "live"), **options)
    retrain(settings=live)
    goog = Warehouse(tmp_path / "replayed").query("select * from prices order by date")
    fake = FakeYahoo({"GOOG": goog})
    monkeypatch.setattr(yfinance, "download", fake)
    retrain(settings=live.model_copy(update={"source": "yahoo", "end": None}))
    assert fake.calls == [Call(("GOOG",), goog["date"].iloc[-6].date(), None)]  # the overlap and the new day

    def forecasts(name: str) -> pd.DataFrame:
        return Warehouse(tmp_path / name).query(
            "select candidate, horizon, forecast from forecasts where as_of = ? order by candidate, horizon", [last]
        )

    replay, night_ = forecasts("replayed"), forecasts("live")
    assert len(replay) == 15 and replay["candidate"].tolist() == night_["candidate"].tolist()
    assert replay["forecast"].to_numpy() == pytest.approx(night_["forecast"].to_numpy(), rel=1e-9, abs=0)


def test_tickers_whose_batch_kept_failing_are_fetched_alone_and_run(tmp_path, monkeypatch):
    """Yahoo's rate limit refuses the batch call and its retries; each ticker is then asked alone."""
    fake = FakeYahoo({t: random_walk_prices(140, ticker=t, seed=i) for i, t in enumerate(["AAA", "BBB"])}, throttle=4)
    monkeypatch.setattr(yfinance, "download", fake)
    settings = night(tmp_path, fake.histories["AAA"]["date"].iloc[-1].date(), candidates=["naive"])
    plan = NightlyPlan(
        tickers=["AAA", "BBB"],
        settings=settings,
        runner={"kind": "threads", "workers": 2},
        fetch={"retries": 3, "backoff_seconds": 0.01},
    )
    assert [o.status for o in nightly(plan=plan)] == ["completed"] * 2
    assert [c.symbols for c in fake.calls] == [("AAA", "BBB")] * 4 + [("AAA",), ("BBB",)]
    stored = Warehouse(tmp_path / "wh").query("select ticker, count(*) n from prices group by 1 order by 1")
    assert stored["n"].tolist() == [140, 140]


def test_a_night_without_a_new_session_replaces_that_nights_forecasts(tmp_path, monkeypatch):
    """A holiday: the nightly runs again on the same history; every view counts the night's latest run."""
    fake = FakeYahoo({t: random_walk_prices(140, ticker=t, seed=i) for i, t in enumerate(["AAA", "BBB"])})
    monkeypatch.setattr(yfinance, "download", fake)
    settings = night(tmp_path, fake.histories["AAA"]["date"].iloc[-1].date(), candidates=["naive", "drift"])
    plan = NightlyPlan(tickers=["AAA", "BBB"], settings=settings, runner={"kind": "threads", "workers": 2})
    nightly(plan=plan)
    nightly(plan=plan)
    wh = Warehouse(tmp_path / "wh")
    runs = wh.query("select ticker, count(*) n from runs group by 1 order by 1")
    assert runs["n"].tolist() == [2, 2]
    nights = wh.query("select ticker, count(distinct as_of) nights, count(*) n from forecasts where served group by 1")
    assert nights["nights"].tolist() == [1, 1]
    latest = wh.query("select ticker, count(*) n, count(distinct run_id) runs from latest_forecasts group by 1")
    assert latest["n"].tolist() == [settings.horizon] * 2 and latest["runs"].tolist() == [1, 1]
    assert len(wh.query("select * from prices")) == 280


def test_yahoo_down_for_a_night_then_the_next_night_catches_up(tmp_path, monkeypatch):
    """Night 1 stores; night 2 Yahoo cannot be resolved: every ticker fails alone with the cause, nothing stored
    changes; night 3 fetches from the overlap and the missed sessions arrive."""
    from curl_cffi.requests import exceptions as curl_errors

    histories = {t: random_walk_prices(150, ticker=t, seed=i) for i, t in enumerate(["AAA", "BBB"])}
    days = histories["AAA"]["date"]
    plan = NightlyPlan(
        tickers=["AAA", "BBB"],
        settings=night(tmp_path, days.iloc[139].date(), candidates=["naive"]),
        runner={"kind": "threads", "workers": 2},
    )
    monkeypatch.setattr(yfinance, "download", FakeYahoo(histories))
    nightly(plan=plan)
    wh = Warehouse(tmp_path / "wh")
    stored = wh.query("select * from prices order by ticker, date")
    down = Failing(curl_errors.DNSError("curl: (6) Could not resolve host: query2.finance.yahoo.com", 6))
    monkeypatch.setattr(yfinance, "download", down)
    tonight = plan.model_copy(update={"settings": plan.settings.model_copy(update={"end": days.iloc[142].date()})})
    with pytest.raises(TickersFailed) as failed:
        nightly(plan=tonight)
    assert [o.status for o in failed.value.outcomes] == ["failed", "failed"]
    assert all("cannot resolve Yahoo's host" in o.error for o in failed.value.outcomes)
    pd.testing.assert_frame_equal(wh.query("select * from prices order by ticker, date"), stored)
    back = FakeYahoo(histories)
    monkeypatch.setattr(yfinance, "download", back)
    later = plan.model_copy(update={"settings": plan.settings.model_copy(update={"end": days.iloc[145].date()})})
    assert [o.status for o in nightly(plan=later)] == ["completed", "completed"]
    assert back.calls == [Call(("AAA", "BBB"), days.iloc[135].date(), days.iloc[145].date())]  # the overlap on
    counts = wh.query("select ticker, count(*) n, max(date) last from prices group by 1 order by 1")
    assert counts["n"].tolist() == [146, 146] and {str(d)[:10] for d in counts["last"]} == {str(days.iloc[145])[:10]}
