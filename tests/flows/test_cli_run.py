"""`nightcast run` in-process under the Prefect test harness: summary on success, one line on failure."""

from nightcast.cli import main


def write_csv(tmp_path, prices, n=150, edits=None):
    frame = prices(n, ticker="ACME", seed=2).drop(columns=["ticker", "adj_close"]).rename(columns=str.title)
    for (row, column), value in (edits or {}).items():
        frame.loc[row, column] = value
    path = tmp_path / "acme.csv"
    frame.to_csv(path, index=False)
    return path


def args(tmp_path, path):
    return ["run", "--source", "file", "--path", str(path), "--ticker", "ACME", "--time-step", "8",
            "--epochs", "1", "--warehouse", str(tmp_path / "wh")]


def test_run_prints_metrics_against_naive_and_a_query(tmp_path, prices, capsys):
    assert main(args(tmp_path, write_csv(tmp_path, prices))) == 0
    out = capsys.readouterr().out
    assert "completed: ACME" in out
    assert out.count("\nmodel ") == 1 and out.count("\nnaive ") == 1 and "skill 1 - RMSE/RMSE_naive" in out
    assert "forecast as of " in out and 'nightcast query "select * from forecasts' in out
    assert main(["query", "select count(*) as n from forecasts", "--warehouse", str(tmp_path / "wh")]) == 0
    assert capsys.readouterr().out.split() == ["n", "5"]


def test_run_failure_is_one_line_and_exit_code_1(tmp_path, prices, capsys):
    path = write_csv(tmp_path, prices, edits={(3, "High"): 1.0})
    assert main(args(tmp_path, path)) == 1
    err_lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("nightcast:")]
    assert len(err_lines) == 1
    assert err_lines[0].startswith("nightcast: error: validate failed: validation failed for ACME")
    assert "high < low" in err_lines[0]
