"""The backtest flow and `nightcast backtest` under Prefect's test harness, on a short synthetic series."""

import json

import numpy as np
import pytest

from flows.walkforward import backtest
from nightcast.cli import main
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse


def write_csv(tmp_path, prices, n=80, name="acme.csv"):
    frame = prices(n, ticker="ACME", seed=7)
    path = tmp_path / name
    frame.drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(path, index=False)
    return frame, path


def tiny(tmp_path, path) -> Settings:
    return Settings(source="file", path=str(path), ticker="ACME", time_step=5, epochs=2, batch_size=16,
                    warehouse=str(tmp_path / "wh"))


def stored_files(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and "runs" not in p.parts and ".locks" not in p.parts}


def test_backtest_stores_every_fold_beside_naive_and_records_the_run(tmp_path, prices):
    frame, path = write_csv(tmp_path, prices)
    result = backtest(settings=tiny(tmp_path, path), refit_every=5, folds=3)
    wh = Warehouse(tmp_path / "wh")
    days = wh.query("select * from backtests order by date")
    assert days["fold"].tolist() == [1] * 5 + [2] * 5 + [3] * 5
    assert days["date"].dt.date.tolist() == frame["date"].dt.date.tolist()[-15:]
    assert days["cutoff"].dt.date.drop_duplicates().tolist() == [frame["date"].iloc[i].date() for i in (64, 69, 74)]
    assert (days["date"] > days["cutoff"]).all()
    np.testing.assert_allclose(days["actual"], frame["close"].iloc[-15:])
    np.testing.assert_allclose(days["naive"], frame["close"].iloc[-16:-1])  # tomorrow = today's actual close
    assert days["predicted"].notna().all() and (days["run_id"] == result.run_id).all()

    metrics = wh.query("select * from backtest_metrics order by fold nulls last")
    assert metrics["fold"].tolist()[:3] == [1, 2, 3] and metrics["fold"].isna().tolist() == [False] * 3 + [True]
    assert metrics["n_days"].tolist() == [5, 5, 5, 15] and metrics["cutoff"].isna().tolist() == [False] * 3 + [True]
    assert metrics["skill"].tolist() == pytest.approx((1 - metrics["rmse"] / metrics["naive_rmse"]).tolist())
    overall = metrics.iloc[3]
    assert overall["rmse"] == pytest.approx(np.sqrt(np.mean((days["actual"] - days["predicted"]) ** 2)))
    assert overall["train_seconds"] == pytest.approx(metrics["train_seconds"].iloc[:3].sum())
    assert result.metrics["n_days"].tolist() == [5, 5, 5, 15]

    run = wh.query("select * from runs").iloc[0]
    assert run["run_id"] == result.run_id and run["status"] == "completed" and run["flow_run_id"]
    assert json.loads(run["settings"])["backtest"] == {"refit_every": 5, "folds": 3}
    assert wh.query("select count(*) n from validations where run_id = ?", [result.run_id])["n"][0] > 0
    assert wh.query("select count(*) n from prices")["n"][0] == 0  # a backtest evaluates; it stores no prices

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter,
                                                FlowRunFilterId)

    with get_client(sync_client=True) as client:
        names = {t.name for t in client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run["flow_run_id"]])))}
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run["flow_run_id"]])))
    assert {"fold-1", "fold-2", "fold-3"} <= names
    assert [a.key for a in artifacts] == ["backtest-acme"]
    table = json.loads(artifacts[0].data) if isinstance(artifacts[0].data, str) else artifacts[0].data
    assert [row["fold"] for row in table] == ["1", "2", "3", "all"] and table[3]["n_days"] == 15


def test_too_little_history_fails_in_one_line_and_changes_nothing_stored(tmp_path, prices):
    _, good = write_csv(tmp_path, prices, n=60)
    backtest(settings=tiny(tmp_path, good), refit_every=5, folds=2)
    root = tmp_path / "wh"
    before = stored_files(root)
    with pytest.raises(Exception, match="plan_folds failed: 60 rows is too few for 12 folds of 5 days with "
                       "time_step 5: need at least 66"):
        backtest(settings=tiny(tmp_path, good), refit_every=5, folds=12)
    assert stored_files(root) == before
    runs = Warehouse(root).query("select status, error from runs order by started_at")
    assert runs["status"].tolist() == ["completed", "failed"] and "need at least 66" in runs["error"].iloc[1]


def test_cli_prints_folds_overall_and_a_query_that_works(tmp_path, prices, capsys):
    _, path = write_csv(tmp_path, prices, n=70)
    code = main(["backtest", "--source", "file", "--path", str(path), "--ticker", "ACME", "--time-step", "5",
                 "--epochs", "1", "--refit-every", "4", "--folds", "2", "--warehouse", str(tmp_path / "wh")])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("backtest ") and "ACME, 2 folds refit every 4 trading days, 8 days predicted" in lines[0]
    rows = [line.split() for line in lines[2:5]]
    assert [r[0] for r in rows] == ["1", "2", "all"] and [r[2] for r in rows[:2]] + [rows[2][1]] == ["4", "4", "8"]
    assert "overall skill 1 - RMSE/RMSE_naive" in out and "model better than naive in" in out
    sql = out.split('nightcast query "')[1].split('"')[0]
    assert main(["query", sql, "--format", "csv", "--warehouse", str(tmp_path / "wh")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "fold,cutoff,n_days,rmse,naive_rmse,skill" and len(table) == 4


def test_cli_failure_is_one_line_with_exit_code_1(tmp_path, prices, capsys):
    _, path = write_csv(tmp_path, prices, n=40)
    code = main(["backtest", "--source", "file", "--path", str(path), "--ticker", "ACME", "--time-step", "5",
                 "--epochs", "1", "--folds", "8", "--warehouse", str(tmp_path / "wh")])
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("nightcast:")]
    assert code == 1 and len(err) == 1
    assert err[0].startswith("nightcast: error: plan_folds failed: 40 rows is too few for 8 folds of 20 days")
