"""The nightly over a universe: one flow run, every stage once over the tickers, forecasting in chunks on
threads, processes or Dask; one bad ticker never stops the others."""

import os

import pytest
import yfinance

from flows.nightly import TickerOutcome, TickersFailed, nightly, summarize
from flows.runners import build_task_runner
from nightcast.plans import NightlyPlan, RunnerSettings
from nightcast.warehouse import Warehouse
from tests.conftest import random_walk_prices
from tests.fake_yahoo import FakeYahoo


def test_one_bad_ticker_fails_alone_and_nothing_of_the_others_is_lost(tmp_path, monkeypatch):
    histories = {t: random_walk_prices(140, ticker=t, seed=len(t)) for t in ("AAA", "BAD", "CCC")}
    histories["BAD"].loc[50, "high"] = histories["BAD"].loc[50, "low"] - 1
    fake = FakeYahoo(histories)
    monkeypatch.setattr(yfinance, "download", fake)
    plan = NightlyPlan(
        tickers=["AAA", "BAD", "CCC"],
        runner={"kind": "threads", "workers": 3},
        settings={
            "source": "yahoo",
            "ticker": "AAA",
            "start": "2020-01-01",
            "end": "2021-01-01",
            "time_step": 10,
            "epochs": 1,
            "candidates": ["naive", "drift"],
            "warehouse": str(tmp_path / "wh"),
        },
    )
    with pytest.raises(TickersFailed) as failure:
        nightly(plan=plan)
    message = str(failure.value)
    assert message.startswith("2 of 3 tickers completed")
    assert "AAA completed" in message and "CCC completed" in message
    assert "BAD failed: validate failed" in message and "high < low" in message
    wh = Warehouse(tmp_path / "wh")
    runs = wh.query("select ticker, status from runs order by ticker")
    assert runs.to_dict("records") == [
        {"ticker": "AAA", "status": "completed"},
        {"ticker": "BAD", "status": "failed"},
        {"ticker": "CCC", "status": "completed"},
    ]
    stored = wh.query("select ticker, count(*) n from prices group by 1 order by 1")
    assert stored.to_dict("records") == [{"ticker": "AAA", "n": 140}, {"ticker": "CCC", "n": 140}]
    assert sorted(wh.query("select distinct ticker from forecasts")["ticker"]) == ["AAA", "CCC"]
    assert len(fake.calls) == 1  # the three tickers came in one batch


@pytest.mark.parametrize("kind", ["processes", "dask"])
def test_tickers_run_in_worker_processes(tmp_path, kind):
    plan = NightlyPlan(
        tickers=["GOOG", "^GSPC"],
        runner={"kind": kind, "workers": 2},
        settings={
            "start": "2010-01-01",
            "end": "2011-06-30",
            "time_step": 10,
            "epochs": 1,
            "candidates": ["naive", "simple_rnn-log_return"],
            "warehouse": str(tmp_path / "wh"),
        },
    )
    outcomes = nightly(plan=plan)
    assert [(o.ticker, o.status) for o in outcomes] == [("GOOG", "completed"), ("^GSPC", "completed")]
    runs = Warehouse(tmp_path / "wh").query("select ticker, status, flow_run_id from runs order by ticker")
    assert runs["status"].tolist() == ["completed", "completed"] and runs["flow_run_id"].nunique() == 1
    workers = {int(o.worker.split()[1]) for o in outcomes if o.worker}
    assert len(workers) >= 1 and os.getpid() not in workers  # the chunks ran in worker processes


def test_runner_settings_choose_the_task_runner():
    from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert isinstance(build_task_runner(RunnerSettings()), ProcessPoolTaskRunner)
    assert isinstance(build_task_runner(RunnerSettings(kind="threads", workers=3)), ThreadPoolTaskRunner)
    local = build_task_runner(RunnerSettings(kind="dask", workers=2))
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 2
    remote = build_task_runner(RunnerSettings(kind="dask", dask_address="tcp://10.0.0.5:8786"))
    assert remote.address == "tcp://10.0.0.5:8786"


def test_summary_names_every_ticker():
    text = summarize([TickerOutcome("A", "completed", served="ets"), TickerOutcome("B", "failed", error="boom")])
    assert text == "1 of 2 tickers completed: A completed (served ets); B failed: boom"


def test_backfill_summary_counts_nights_and_names_their_dates():
    text = summarize(
        [
            TickerOutcome("A", "completed", served="naive", as_of="2013-02-28"),
            TickerOutcome("A", "failed", error="boom"),
        ],
        unit="nights",
    )
    assert text == "1 of 2 nights completed: A 2013-02-28 completed (served naive); A failed: boom"


def _folder(tmp_path, tickers, days=160):
    folder = tmp_path / "universe"
    folder.mkdir(exist_ok=True)
    for seed, ticker in enumerate(tickers):
        random_walk_prices(days, ticker=ticker, seed=seed).to_parquet(folder / f"{ticker}.parquet")
    return folder


def _plan(tmp_path, tickers, end, **runner):
    return NightlyPlan(
        tickers=tickers,
        runner={"kind": "threads", "workers": 2, **runner},
        settings={
            "source": "file",
            "path": str(tmp_path / "universe"),
            "end": end,
            "candidates": ["naive", "drift"],
            "warehouse": str(tmp_path / "wh"),
        },
    )


def _task_runs(flow_run_id) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return sorted(run.name.rsplit("-", 1)[0] for run in runs)


def test_a_night_is_one_flow_run_with_as_many_task_runs_for_two_tickers_as_for_eight(tmp_path):
    """Stage task runs over every ticker, plus one per chunk: not a task run (or a flow run) per ticker."""
    tickers = [f"T{i}" for i in range(8)]
    _folder(tmp_path, tickers)
    counts = {}
    for n in (2, 8):
        state = nightly(plan=_plan(tmp_path, tickers[:n], "2020-07-31"), return_state=True)
        assert state.is_completed()
        names = _task_runs(state.state_details.flow_run_id)
        assert names.count("forecast_chunk") == 4 if n == 8 else 2  # twice as many chunks as workers at most
        counts[n] = len(names)
    assert counts[8] == counts[2] + 2 and counts[8] <= 20, counts


def test_a_ticker_added_later_gets_its_cold_start_alone_and_one_removed_stays_queryable(tmp_path):
    _folder(tmp_path, ["AAA", "BBB"])
    nightly(plan=_plan(tmp_path, ["AAA"], "2020-07-30"))
    nightly(plan=_plan(tmp_path, ["AAA", "BBB"], "2020-07-31"))
    wh = Warehouse(tmp_path / "wh")
    backtested = wh.query("select ticker, count(distinct run_id) runs from backtests group by 1 order by 1")
    assert backtested.to_dict("records") == [{"ticker": "AAA", "runs": 1}, {"ticker": "BBB", "runs": 1}]
    nightly(plan=_plan(tmp_path, ["BBB"], "2020-08-03"))
    latest = wh.query("select ticker, max(as_of) as_of from latest_forecasts group by 1 order by 1")
    assert latest["ticker"].tolist() == ["AAA", "BBB"]
    assert str(latest["as_of"][0])[:10] == "2020-07-31" and str(latest["as_of"][1])[:10] == "2020-08-03"
