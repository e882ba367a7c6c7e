"""The command line's query path, help and error handling (no flow run needed)."""

import json
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from cli import build_parser, main
from nightcast.warehouse import Warehouse


@pytest.fixture
def filled(tmp_path, prices):
    wh = Warehouse(tmp_path / "wh")
    wh.merge_prices(prices(5, ticker="GOOG"), "GOOG", "sample", pd.Timestamp("2024-01-01", tz="UTC"))
    return wh


def test_query_prints_a_table(filled, capsys):
    assert main(["query", "select ticker, count(*) as n from prices group by 1", "--warehouse", str(filled.root)]) == 0
    out = capsys.readouterr().out.split()
    assert out == ["ticker", "n", "GOOG", "5"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_query_formats(filled, capsys, fmt):
    main(
        [
            "query",
            "select ticker, close from prices order by date limit 2",
            "--format",
            fmt,
            "--warehouse",
            str(filled.root),
        ]
    )
    out = capsys.readouterr().out
    if fmt == "csv":
        assert out.splitlines()[0] == "ticker,close" and len(out.splitlines()) == 3
    else:
        rows = json.loads(out)
        assert [r["ticker"] for r in rows] == ["GOOG", "GOOG"]


def test_query_reads_the_warehouse_from_the_environment(filled, capsys, monkeypatch):
    monkeypatch.setenv("NIGHTCAST_WAREHOUSE", str(filled.root))
    assert main(["query", "select count(*) as n from prices"]) == 0
    assert capsys.readouterr().out.split() == ["n", "5"]


@pytest.mark.parametrize(
    "sql, message",
    [
        ("drop view prices", "refused a DROP statement"),
        ("select * from nowhere", "nowhere"),
        ("selec 1", "syntax error"),
    ],
)
def test_query_errors_are_one_line_with_exit_code_1(filled, capsys, sql, message):
    assert main(["query", sql, "--warehouse", str(filled.root)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nightcast: error: ") and message in err and err.count("\n") == 1
    assert filled.query("select count(*) as n from prices")["n"][0] == 5


def test_run_refuses_bad_settings_before_running(capsys):
    assert main(["run", "--ticker", "../../etc", "--epochs", "0"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "ticker" in err and "epochs" in err


def test_run_rejects_unknown_source_at_parse_time(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--source", "ftp"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_help_lists_every_setting_with_its_description():
    text = build_parser()._subparsers._group_actions[0].choices["run"].format_help()
    for option in (
        "--ticker",
        "--source",
        "--path",
        "--start",
        "--end",
        "--candidates",
        "--time-step",
        "--epochs",
        "--batch-size",
        "--seed",
        "--warehouse",
        "--calendar",
        "--champion-margin",
    ):
        assert option in text
    assert "Candidate models fitted every night" in text and "simple_rnn-price" in text


def test_console_script_is_installed(filled):
    exe = shutil.which("nightcast") or str(__import__("pathlib").Path(sys.executable).parent / "nightcast")
    done = subprocess.run(
        [exe, "query", "select count(*) as n from prices", "--format", "csv", "--warehouse", str(filled.root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["n", "5"]


def test_backtest_refuses_bad_options_before_running(tmp_path, capsys):
    assert (
        main(
            [
                "backtest",
                "--folds",
                "0",
                "--refit-every",
                "5000",
                "--time-step",
                "0",
                "--warehouse",
                str(tmp_path / "wh"),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("nightcast: error: invalid settings: ") and err.count("\n") == 1
    assert "time_step" in err and "refit_every: Input should be less than or equal to 1000" in err and "folds" in err
    assert not (tmp_path / "wh").exists()


def test_backtest_help_lists_its_options_and_the_settings():
    text = build_parser()._subparsers._group_actions[0].choices["backtest"].format_help()
    for option in ("--refit-every", "--folds", "--ticker", "--source", "--time-step", "--epochs"):
        assert option in text
    assert "(default: 20)" in text and "naive persistence" in text


def test_module_entry_point_reports_errors_in_one_line():
    """`python -m cli` must catch the same CliError class as the subcommand modules raise."""
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "cli", "backtest", "--folds", "0"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and done.stderr.splitlines() == [
        "nightcast: error: invalid settings: backtest_folds: Input should be greater than or equal to 1"
    ]


def test_prefect_keeps_its_database_in_the_checkout_unless_prefect_home_is_set(monkeypatch, tmp_path):
    from pathlib import Path

    from cli.common import default_prefect_home, prepare_prefect

    checkout = Path(__file__).resolve().parents[2]
    assert default_prefect_home() == checkout / ".state" / "prefect"
    monkeypatch.delenv("PREFECT_HOME", raising=False)
    prepare_prefect()
    assert os.environ["PREFECT_HOME"] == str(checkout / ".state" / "prefect")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "mine"))
    prepare_prefect()
    assert os.environ["PREFECT_HOME"] == str(tmp_path / "mine") and (tmp_path / "mine").is_dir()


def test_prepare_prefect_waits_longer_for_a_first_server_start_unless_the_user_says(monkeypatch, tmp_path):
    from cli.common import prepare_prefect

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "a" / "b"))
    monkeypatch.delenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", raising=False)
    prepare_prefect()
    assert os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "120"
    assert (tmp_path / "a" / "b").is_dir()
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "45")
    prepare_prefect()
    assert os.environ["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] == "45"


def test_a_switch_setting_alone_means_true_and_the_revision_options_parse():
    from cli.common import settings_from_args

    run = build_parser()._subparsers._group_actions[0].choices["run"]
    given = run.parse_args(["--refetch", "--on-revision", "take", "--max-revised-days", "200"])
    settings = settings_from_args(given)
    assert settings.refetch and settings.on_revision == "take" and settings.max_revised_days == 200
    assert settings.fetches_whole_history
    assert not settings_from_args(run.parse_args(["--refetch", "false"])).refetch
    assert not settings_from_args(run.parse_args([])).fetches_whole_history


def test_the_tensorflow_preload_is_waited_for_at_exit(monkeypatch):
    """A daemon preload thread torn down mid-compilation aborted a failed run (exit -6, not 1)."""
    import threading

    from cli.common import start_preload
    from nightcast.settings import Settings
    from tasks.training import train

    release = threading.Event()
    monkeypatch.setattr(train, "preload", lambda **_: release.wait(10))
    start_preload(Settings(candidates=["naive", "simple_rnn-log_return"]))
    preload = next(t for t in threading.enumerate() if t.name == "tensorflow-preload")
    assert not preload.daemon  # so the interpreter joins it before it exits
    release.set()
    preload.join(10)


@pytest.mark.parametrize(
    "sql",
    [
        "show tables",
        "select table_name from information_schema.tables",
        "select view_name from duckdb_views() where not internal",
    ],
)
def test_the_catalog_lists_every_table_and_view_and_nothing_else(tmp_path, capsys, sql):
    """Even in an empty warehouse: tables nothing wrote yet are listed too."""
    from nightcast.schema import TABLES
    from nightcast.views import DERIVED_VIEWS

    (tmp_path / "empty").mkdir()
    assert main(["query", sql, "--format", "csv", "--warehouse", str(tmp_path / "empty")]) == 0
    listed = capsys.readouterr().out.splitlines()[1:]
    assert sorted(listed) == sorted([*TABLES, *DERIVED_VIEWS])


def test_an_unknown_table_suggests_the_close_name_and_lists_them_all(filled, capsys):
    assert main(["query", "select * from latest_forecast", "--warehouse", str(filled.root)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'Did you mean "latest_forecasts"?' in err
    assert (
        "Tables and views: alert_thresholds, alerts, backtest_metrics, backtests," in err and "served_accuracy" in err
    )


def test_sql_comes_from_standard_input_or_a_file(filled, capsys, monkeypatch, tmp_path):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("select count(*) as n from prices"))
    assert main(["query", "-", "--warehouse", str(filled.root)]) == 0
    (tmp_path / "q.sql").write_text("-- a comment\nselect count(*) as n from prices\n")
    assert main(["query", "--file", str(tmp_path / "q.sql"), "--warehouse", str(filled.root)]) == 0
    assert capsys.readouterr().out.split() == ["n", "5", "n", "5"]
    assert main(["query", "--warehouse", str(filled.root)]) == 1
    assert main(["query", "--file", str(tmp_path / "missing.sql"), "--warehouse", str(filled.root)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("nightcast: error: no SQL given") and "cannot read SQL from" in err[1]


def test_a_missing_warehouse_is_an_error_not_an_empty_answer(tmp_path, capsys):
    assert main(["query", "select count(*) from prices", "--warehouse", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert (
        err
        == f"nightcast: error: no warehouse at {tmp_path / 'nowhere'}: run a night first (nightcast run), or "
        + ("give --warehouse\n")
    )


def test_version_and_a_bare_command(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == "nightcast 0.1.0"
    assert main([]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: nightcast") and "nightly" in out and "query" in out
