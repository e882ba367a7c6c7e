"""The retrain flow end to end under Prefect's test harness, on a short synthetic series."""

import logging
import shutil

import pytest

from flows.retrain import retrain
from nightcast.calendars import is_session
from nightcast.candidates import DEFAULT_CANDIDATES
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse


@pytest.fixture
def price_file(tmp_path, prices):
    path = tmp_path / "acme.csv"
    frame = prices(160, ticker="ACME", seed=4)
    frame.drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(path, index=False)
    return path


def tiny(tmp_path, path, **extra) -> Settings:
    return Settings(
        source="file",
        path=str(path),
        ticker="ACME",
        time_step=10,
        epochs=2,
        batch_size=32,
        warehouse=str(tmp_path / "wh"),
        **extra,
    )


def count(wh: Warehouse, table: str, where: str = "true") -> int:
    return int(wh.query(f"select count(*) n from {table} where {where}")["n"][0])


def test_a_night_fits_every_candidate_forecasts_with_bands_and_serves_one(tmp_path, price_file):
    result = retrain(settings=tiny(tmp_path, price_file))
    wh, n = Warehouse(tmp_path / "wh"), len(DEFAULT_CANDIDATES)
    assert {t: count(wh, t) for t in ("prices", "forecasts", "model_events", "decisions", "runs")} == {
        "prices": 160,
        "forecasts": 5 * n,
        "model_events": n,
        "decisions": 1,
        "runs": 1,
    }
    assert count(wh, "forecasts", "served") == 5 and count(wh, "model_events", "status = 'served'") == 1
    assert count(wh, "metrics") == 5 * n  # every candidate's evidence at every horizon (the cold-start backtest)
    assert set(wh.query("select distinct candidate from backtests")["candidate"]) == set(DEFAULT_CANDIDATES)
    assert result.backtested == DEFAULT_CANDIDATES
    run = wh.query("select * from runs").iloc[0]
    assert run["status"] == "completed" and run["run_id"] == result.run_id and run["flow_run_id"]
    paths = wh.query("select * from forecasts order by candidate, horizon")
    assert all(is_session(d) for d in paths["target_date"].dt.date) and (paths["target_date"] > paths["as_of"]).all()
    assert (paths["lower_95"] <= paths["lower_80"]).all() and (paths["upper_80"] <= paths["upper_95"]).all()
    decision = wh.query("select * from decisions").iloc[0]
    assert decision["champion"] == result.decision.champion and decision["action"] == "cold start"
    assert decision["n"] > 0 and decision["naive_mase"] > 0
    folder = tmp_path / "wh" / "models" / "ticker=ACME" / result.run_id
    assert sorted(p.name for p in folder.iterdir()) == sorted(DEFAULT_CANDIDATES)
    assert (folder / "simple_rnn-log_return" / "model.keras").exists() and (folder / "ets" / "params.json").exists()
    assert open(result.plot_path, "rb").read(4) == b"\x89PNG"
    latest = wh.query("select * from latest_forecasts")
    assert latest["horizon"].tolist() == [1, 2, 3, 4, 5] and set(latest["candidate"]) == {result.decision.champion}


def test_rerun_on_same_data_adds_a_run_but_no_prices_and_no_second_backtest(tmp_path, price_file):
    first = retrain(settings=tiny(tmp_path, price_file, candidates=["naive", "drift"]))
    second = retrain(settings=tiny(tmp_path, price_file, candidates=["naive", "drift"]))
    wh = Warehouse(tmp_path / "wh")
    assert second.prices_added == 0 and first.prices_added == 160 and second.backtested == ()
    assert count(wh, "prices") == 160 and count(wh, "backtests", f"run_id = '{second.run_id}'") == 0
    runs = wh.query("select run_id, data_hash from runs order by started_at")
    assert len(runs) == 2 and runs["data_hash"].nunique() == 1
    assert len(wh.query("select * from latest_forecasts")) == 5  # the newest run's served path only


def test_failed_validation_stops_before_fitting_and_is_recorded(tmp_path, prices):
    frame = prices(160, ticker="ACME").drop(columns=["ticker", "adj_close"]).rename(columns=str.title)
    frame.loc[5, "Close"] = -1.0
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(Exception, match="validate failed: validation failed for ACME"):
        retrain(settings=tiny(tmp_path, path))
    wh = Warehouse(tmp_path / "wh")
    run = wh.query("select status, error, model_path from runs").iloc[0]
    assert run["status"] == "failed" and "close" in run["error"] and run["model_path"] is None
    for table in ("prices", "forecasts", "metrics", "decisions", "model_events", "backtests"):
        assert count(wh, table) == 0
    assert not (tmp_path / "wh" / "models").exists()


def test_run_publishes_leaderboard_report_and_plot_artifacts(tmp_path, price_file):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    result = retrain(settings=tiny(tmp_path, price_file, candidates=["naive", "drift", "ets"]))
    runs = Warehouse(tmp_path / "wh").query(f"select flow_run_id from runs where run_id = '{result.run_id}'")
    with get_client(sync_client=True) as client:
        found = {
            a.key: a
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[runs["flow_run_id"].iloc[0]]))
            )
        }
    assert set(found) == {"leaderboard-acme", "report-acme", "plot-acme"}
    assert found["leaderboard-acme"].type == "table" and "naive_mase" in str(found["leaderboard-acme"].data)
    report = str(found["report-acme"].data)
    assert result.run_id in report and f"**Served: {result.decision.champion}**" in report and "80%" in report
    assert str(found["plot-acme"].data).startswith("data:image/png;base64,")


def test_each_night_rewrites_the_duckdb_file_and_one_it_cannot_write_is_a_warning(tmp_path, price_file, caplog):
    import duckdb

    from cli import main

    retrain(settings=tiny(tmp_path, price_file, candidates=["naive", "drift"]))
    path = tmp_path / "wh" / "nightcast.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*) from runs where status = 'completed'").fetchone() == (1,)
        assert con.execute("select count(*) from latest_forecasts").fetchone() == (5,)
    path.unlink()
    (path / "blocked").mkdir(parents=True)  # a folder where the file goes: it cannot be written
    with caplog.at_level(logging.WARNING, logger="nightcast.duckdb_file"):
        second = retrain(settings=tiny(tmp_path, price_file, candidates=["naive", "drift"]))
    assert second.decision is not None and "nightcast.duckdb was not rewritten" in caplog.text
    assert count(Warehouse(tmp_path / "wh"), "runs", "status = 'completed'") == 2  # the night completed
    shutil.rmtree(path)
    assert main(["compact", "--warehouse", str(tmp_path / "wh")]) == 0
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*) from runs where status = 'completed'").fetchone() == (2,)
