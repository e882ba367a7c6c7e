"""`nightcast run` in-process under the Prefect test harness: summary on success, one line on failure."""

from cli import main


def write_csv(tmp_path, prices, n=150, edits=None):
    frame = prices(n, ticker="ACME", seed=2).drop(columns=["ticker", "adj_close"]).rename(columns=str.title)
    for (row, column), value in (edits or {}).items():
        frame.loc[row, column] = value
    path = tmp_path / "acme.csv"
    frame.to_csv(path, index=False)
    return path


def args(tmp_path, path):
    return [
        "run",
        "--source",
        "file",
        "--path",
        str(path),
        "--ticker",
        "ACME",
        "--time-step",
        "8",
        "--epochs",
        "1",
        "--candidates",
        "naive,drift,ets",
        "--warehouse",
        str(tmp_path / "wh"),
    ]


def test_run_prints_the_evidence_the_served_path_and_a_query(tmp_path, prices, capsys):
    assert main(args(tmp_path, write_csv(tmp_path, prices))) == 0
    out = capsys.readouterr().out
    assert "completed: ACME as of " in out and "3 candidates fitted on 150 days" in out
    assert "cold-start backtest of naive, drift, ets" in out
    board = out.split("evidence (out of sample")[1].split("served:")[0].splitlines()
    assert board[1].split() == ["candidate", "forecasts", "MASE", "naive", "cover80", "cover95", "IS/naive"]
    assert {line.split()[0] for line in board[2:5]} == {"naive", "drift", "ets"}
    assert "served:    " in out and "80% interval in brackets" in out
    sql = out.split('nightcast query "')[1].split('"')[0]
    assert main(["query", sql, "--warehouse", str(tmp_path / "wh")]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1 + 5  # the served path: one row per horizon


def test_run_failure_is_one_line_and_exit_code_1(tmp_path, prices, capsys):
    path = write_csv(tmp_path, prices, edits={(3, "High"): 1.0})
    assert main(args(tmp_path, path)) == 1
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr  # the one line is all of the failure (Prefect's own log lines aside)
    err_lines = [line for line in stderr.splitlines() if line.startswith("nightcast:")]
    assert len(err_lines) == 1
    assert err_lines[0].startswith("nightcast: error: validate failed: validation failed for ACME")
    assert "high < low" in err_lines[0]
