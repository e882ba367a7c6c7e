"""The retrain flow end to end under Prefect's test harness, on a short synthetic series."""

import pandas as pd
import pytest

from flows.retrain import retrain
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse


@pytest.fixture
def price_file(tmp_path, prices):
    path = tmp_path / "acme.csv"
    frame = prices(160, ticker="ACME", seed=4)
    frame.drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(path, index=False)
    return path


def tiny(tmp_path, path, **extra) -> Settings:
    return Settings(source="file", path=str(path), ticker="ACME", time_step=10, epochs=2, batch_size=32,
                    warehouse=str(tmp_path / "wh"), **extra)


def test_retrain_fills_all_five_tables(tmp_path, price_file):
    result = retrain(settings=tiny(tmp_path, price_file))
    wh = Warehouse(tmp_path / "wh")
    counts = {t: int(wh.query(f"select count(*) n from {t}")["n"][0])
              for t in ("prices", "predictions", "forecasts", "metrics", "runs")}
    assert counts == {"prices": 160, "predictions": 32, "forecasts": 5, "metrics": 1, "runs": 1}
    run = wh.query("select * from runs").iloc[0]
    assert run["status"] == "completed" and run["run_id"] == result.run_id and run["flow_run_id"]
    assert run["error"] is None or pd.isna(run["error"])
    metrics = wh.query("select * from metrics").iloc[0]
    assert metrics["n_train"] == 118 and metrics["n_test"] == 32 and metrics["epochs"] == 2
    assert metrics["skill"] == pytest.approx(1 - metrics["rmse"] / metrics["naive_rmse"])
    joined = wh.query("""select p.date, p.actual, pr.close from predictions p
                         join prices pr on pr.ticker = p.ticker and pr.date = p.date""")
    assert len(joined) == 32 and (joined["actual"] == joined["close"]).all()
    forecasts = wh.query("select * from forecasts order by horizon")
    assert forecasts["horizon"].tolist() == [1, 2, 3, 4, 5]
    assert (forecasts["target_date"] > forecasts["as_of"]).all() and forecasts["target_date"].is_monotonic_increasing
    assert (tmp_path / "wh" / "models" / "ticker=ACME" / result.run_id / "model.keras").exists()
    assert (tmp_path / "wh" / "models" / "ticker=ACME" / result.run_id / "scaler.json").exists()
    assert open(result.plot_path, "rb").read(4) == b"\x89PNG"


def test_rerun_on_same_data_adds_a_run_but_no_prices(tmp_path, price_file):
    first = retrain(settings=tiny(tmp_path, price_file))
    second = retrain(settings=tiny(tmp_path, price_file))
    wh = Warehouse(tmp_path / "wh")
    assert second.prices_added == 0 and first.prices_added == 160
    assert int(wh.query("select count(*) n from prices")["n"][0]) == 160
    runs = wh.query("select run_id, data_hash from runs order by started_at")
    assert len(runs) == 2 and runs["data_hash"].nunique() == 1
    assert int(wh.query("select count(distinct run_id) n from forecasts")["n"][0]) == 2


def test_failed_validation_stops_before_training_and_is_recorded(tmp_path, prices):
    frame = prices(160, ticker="ACME").drop(columns=["ticker", "adj_close"]).rename(columns=str.title)
    frame.loc[5, "Close"] = -1.0
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(Exception, match="validate failed: validation failed for ACME"):
        retrain(settings=tiny(tmp_path, path))
    wh = Warehouse(tmp_path / "wh")
    run = wh.query("select status, error, model_path from runs").iloc[0]
    assert run["status"] == "failed" and "close" in run["error"] and run["model_path"] is None
    for table in ("prices", "predictions", "forecasts", "metrics"):
        assert wh.query(f"select count(*) n from {table}")["n"][0] == 0
    assert not (tmp_path / "wh" / "models").exists()


def test_run_publishes_metrics_report_and_plot_artifacts(tmp_path, price_file):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    result = retrain(settings=tiny(tmp_path, price_file))
    runs = Warehouse(tmp_path / "wh").query(f"select flow_run_id from runs where run_id = '{result.run_id}'")
    flow_run_id = runs["flow_run_id"].iloc[0]
    with get_client(sync_client=True) as client:
        found = {a.key: a for a in client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))}
    assert set(found) == {"metrics-acme", "report-acme", "plot-acme"}
    assert found["metrics-acme"].type == "table" and "naive persistence" in str(found["metrics-acme"].data)
    report = str(found["report-acme"].data)
    assert result.run_id in report and "naive (tomorrow = today)" in report and "Forecast for" in report
    assert f"by `simple_rnn-{result.run_id}`" in report and "Registry: no champion yet" in report
    assert str(found["plot-acme"].data).startswith("data:image/png;base64,")
