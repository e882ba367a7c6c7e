"""The backtest flow and `nightcast backtest` under Prefect's test harness, on a short synthetic series."""

import json

import numpy as np
import pytest

from cli import main
from flows.backtest import backtest
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse


def write_csv(tmp_path, prices, n=80, name="acme.csv"):
    frame = prices(n, ticker="ACME", seed=7)
    path = tmp_path / name
    frame.drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(path, index=False)
    return frame, path


def tiny(tmp_path, path, **extra) -> Settings:
    return Settings(
        **{
            "source": "file",
            "path": str(path),
            "ticker": "ACME",
            "time_step": 5,
            "epochs": 2,
            "batch_size": 16,
            "horizon": 3,
            "candidates": ["naive", "drift", "simple_rnn-log_return"],
            "backtest_refit_every": 5,
            "backtest_folds": 3,
            "warehouse": str(tmp_path / "wh"),
            **extra,
        }
    )


def stored_files(root):
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "runs" not in p.parts and ".locks" not in p.parts
    }


def test_backtest_stores_every_origin_and_horizon_beside_naive_and_records_the_run(tmp_path, prices):
    frame, path = write_csv(tmp_path, prices)
    result = backtest(settings=tiny(tmp_path, path))
    wh = Warehouse(tmp_path / "wh")
    rows = wh.query("select * from backtests where candidate = 'naive' order by as_of, horizon")
    origins = frame["date"].iloc[-16:-1].dt.date.tolist()  # 3 folds x 5 origins, the last the day before the end
    assert rows["as_of"].dt.date.drop_duplicates().tolist() == origins
    assert len(rows) == 13 * 3 + 2 + 1 and (rows["date"] > rows["as_of"]).all()
    assert (rows["as_of"] >= rows["cutoff"]).all() and rows["fold"].drop_duplicates().tolist() == [1, 2, 3]
    np.testing.assert_allclose(rows["predicted"], rows["naive"])  # naive's forecast is the origin's close

    metrics = wh.query("select * from backtest_metrics order by candidate, horizon")
    assert len(metrics) == 9 and set(metrics["candidate"]) == {"naive", "drift", "simple_rnn-log_return"}
    naive = metrics[metrics["candidate"] == "naive"]
    assert naive["n"].tolist() == [15, 14, 13] and (naive["mase"] == naive["naive_mase"]).all()
    assert result.scores["candidate"].nunique() == 3 and (metrics["folds"] == 3).all()

    run = wh.query("select * from runs").iloc[0]
    assert run["run_id"] == result.run_id and run["status"] == "completed" and run["flow_run_id"]
    assert json.loads(run["settings"])["backtest"] == {"refit_every": 5, "folds": 3}
    assert wh.query("select count(*) n from prices")["n"][0] == 0  # a backtest evaluates; it stores no prices

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        names = {
            t.name
            for t in client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run["flow_run_id"]])))
        }
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run["flow_run_id"]]))
        )
    assert {"backtest-naive", "backtest-drift", "backtest-simple_rnn-log_return"} <= names
    assert [a.key for a in artifacts] == ["backtest-acme"]


def test_too_little_history_fails_in_one_line_and_changes_nothing_stored(tmp_path, prices):
    _, good = write_csv(tmp_path, prices, n=60)
    backtest(settings=tiny(tmp_path, good, candidates=["naive"]))
    root = tmp_path / "wh"
    before = stored_files(root)
    with pytest.raises(Exception, match="plan_folds failed: 60 rows is too few for 12 folds of 5 days"):
        backtest(settings=tiny(tmp_path, good, candidates=["naive"], backtest_folds=12))
    assert stored_files(root) == before
    runs = Warehouse(root).query("select status, error from runs order by started_at")
    assert runs["status"].tolist() == ["completed", "failed"] and "too few" in runs["error"].iloc[1]


def test_cli_prints_mase_by_horizon_and_a_query_that_works(tmp_path, prices, capsys):
    _, path = write_csv(tmp_path, prices, n=70)
    code = main(
        [
            "backtest",
            "--source",
            "file",
            "--path",
            str(path),
            "--ticker",
            "ACME",
            "--time-step",
            "5",
            "--candidates",
            "naive,drift",
            "--horizon",
            "2",
            "--refit-every",
            "4",
            "--folds",
            "2",
            "--warehouse",
            str(tmp_path / "wh"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].startswith("backtest ") and "ACME, 2 folds refit every 4 trading days" in lines[0]
    assert lines[1].split() == ["h1", "h2", "mean"] and {lines[i].split()[0] for i in (3, 4, 5)} == {
        "naive",
        "drift",
        "(naive)",
    }
    assert "best: " in out
    sql = out.split('nightcast query "')[1].split('"')[0]
    assert main(["query", sql, "--format", "csv", "--warehouse", str(tmp_path / "wh")]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0] == "candidate,horizon,n,mase,naive_mase,mae,naive_mae" and len(table) == 5


def test_cli_failure_is_one_line_with_exit_code_1(tmp_path, prices, capsys):
    _, path = write_csv(tmp_path, prices, n=40)
    code = main(
        [
            "backtest",
            "--source",
            "file",
            "--path",
            str(path),
            "--ticker",
            "ACME",
            "--time-step",
            "5",
            "--candidates",
            "naive",
            "--folds",
            "8",
            "--warehouse",
            str(tmp_path / "wh"),
        ]
    )
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr  # the one line is all of the failure (Prefect's own log lines aside)
    err = [line for line in stderr.splitlines() if line.startswith("nightcast:")]
    assert code == 1 and len(err) == 1
    assert err[0].startswith(  # said before Prefect starts, without the flow's stage name (#23)
        "nightcast: error: too little history for a backtest of ACME: 40 rows is too few for 8 folds of 20 days: "
        "the first fold needs 3 rows to fit on, so at least 163 rows"
    )
