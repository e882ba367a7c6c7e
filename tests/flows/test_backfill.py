"""Backfill replays nights in order, each seeing only its own past, and prints the served accuracy."""

import pandas as pd

from cli import main
from flows.backfill import backfill
from nightcast import catalog
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse


def test_backfill_fills_the_forecast_history_night_by_night(tmp_path, prices, capsys):
    frame = prices(140, ticker="ACME", seed=5)
    frame.drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(tmp_path / "a.csv", index=False)
    last = frame["date"].iloc[-3:].dt.date.tolist()
    code = main(
        [
            "backfill",
            "--source",
            "file",
            "--path",
            str(tmp_path / "a.csv"),
            "--ticker",
            "ACME",
            "--time-step",
            "10",
            "--epochs",
            "1",
            "--candidates",
            "naive,drift",
            "--days",
            "3",
            "--warehouse",
            str(tmp_path / "wh"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "served forecasts realized so far, by horizon" in out
    wh = Warehouse(tmp_path / "wh")
    as_of = wh.query("select distinct as_of from forecasts order by 1")["as_of"].dt.date.tolist()
    assert as_of == last  # one run per night, each forecasting from its own last close
    runs = wh.query("select settings from runs order by started_at")["settings"]
    assert [pd.read_json(pd.io.common.StringIO(s), typ="series")["end"] for s in runs] == [str(d) for d in last]
    served = wh.query("select horizon, n from served_accuracy order by horizon")
    assert served["horizon"].tolist()[:2] == [1, 2] and served["n"].tolist()[:2] == [2, 1]
    realized = catalog.realized_rows(wh, "ACME")  # the named read bench/intervals.py compares bands with
    assert set(realized["candidate"]) == {"naive", "drift"} and realized["actual"].notna().all()
    assert realized[realized["served"]].groupby("horizon").size().tolist()[:2] == [2, 1]
    lines = out.splitlines()
    assert lines[0].startswith(f"{last[0]}  ACME     completed served ") and "(cold start)" in lines[0]
    table = out.split("interval score over naive's own):\n")[1].splitlines()
    assert table[0].split() == [
        "horizon",
        "n",
        "mae",
        "naive_mae",
        "mase",
        "naive_mase",
        "coverage_80",
        "coverage_95",
        "mae_vs_naive",
        "is80_vs_naive",
        "is95_vs_naive",
    ]


def test_each_night_sees_only_data_up_to_that_night(tmp_path, prices):
    frame = prices(130, ticker="ACME", seed=6)
    frame.drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(tmp_path / "a.csv", index=False)
    settings = Settings(
        source="file",
        path=str(tmp_path / "a.csv"),
        ticker="ACME",
        time_step=10,
        epochs=1,
        horizon=1,
        candidates=["naive"],
        warehouse=str(tmp_path / "wh"),
    )
    outcomes = backfill(settings=settings, days=2)
    assert [o.status for o in outcomes] == ["completed", "completed"]
    wh = Warehouse(tmp_path / "wh")
    events = wh.query("select data_end from model_events order by data_end")
    assert events["data_end"].dt.date.tolist() == frame["date"].iloc[-2:].dt.date.tolist()
    evidence = wh.query("select max(as_of) as last_origin, max(date) as last_target from backtests")
    assert evidence["last_target"].dt.date[0] == frame["date"].iloc[-2].date()  # the cold start saw night 1 only
