"""Backfill replays nights in order, each seeing only its own past, and fills forecast_accuracy."""

import pandas as pd

from flows.backfill import backfill
from nightcast.cli import main
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse


def test_backfill_fills_forecast_accuracy_night_by_night(tmp_path, prices, capsys):
    frame = prices(120, ticker="ACME", seed=5)
    frame.drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(tmp_path / "a.csv", index=False)
    last = frame["date"].iloc[-3:].dt.date.tolist()
    code = main(["backfill", "--source", "file", "--path", str(tmp_path / "a.csv"), "--ticker", "ACME",
                 "--time-step", "10", "--epochs", "1", "--days", "3", "--warehouse", str(tmp_path / "wh")])
    out = capsys.readouterr().out
    assert code == 0 and "realized forecasts by horizon" in out
    wh = Warehouse(tmp_path / "wh")
    as_of = wh.query("select distinct as_of from forecasts order by 1")["as_of"].dt.date.tolist()
    assert as_of == last  # one run per night, each forecasting from its own last close
    runs = wh.query("select settings from runs order by started_at")["settings"]
    assert [pd.read_json(pd.io.common.StringIO(s), typ="series")["end"] for s in runs] == [str(d) for d in last]
    realized = wh.query("select as_of, horizon, target_date from forecast_accuracy order by as_of, horizon")
    assert [(r.as_of.date(), r.horizon, r.target_date.date()) for r in realized.itertuples()] == [
        (last[0], 1, last[1]), (last[0], 2, last[2]), (last[1], 1, last[2])]
    models = wh.query("select data_end, training, status from model_events order by decided_at, status")
    assert models["data_end"].dt.date.tolist()[0] == last[0] and models["training"].tolist()[0] == "full"
    assert set(models["training"][1:]) == {"fine_tune"}  # within a week of the first night's full training
    assert (models["status"] == "champion").sum() - (models["status"] == "retired").sum() == 1
    assert out.count("fine_tune") == 2 and "full" in out.splitlines()[0] and "promoted" in out.splitlines()[0]


def test_each_night_sees_only_data_up_to_that_night(tmp_path, prices):
    frame = prices(100, ticker="ACME", seed=6)
    frame.drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(tmp_path / "a.csv", index=False)
    settings = Settings(source="file", path=str(tmp_path / "a.csv"), ticker="ACME", time_step=10, epochs=1,
                        horizon=1, warehouse=str(tmp_path / "wh"))
    outcomes = backfill(settings=settings, days=2)
    assert [o.status for o in outcomes] == ["completed", "completed"]
    wh = Warehouse(tmp_path / "wh")
    latest_test_day = wh.query("select run_id, max(date) as last_day from predictions group by 1 order by 2")
    assert latest_test_day["last_day"].dt.date.tolist() == frame["date"].iloc[-2:].dt.date.tolist()
