"""The morning's answers (#26): the alerts view and `nightcast status` on a warehouse built by hand with the
storage layer's own writes: a good ticker, a failed one, a stale one and a degraded one (no flow runs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from cli import main
from nightcast.warehouse import Warehouse

NIGHTS = ["2013-06-03", "2013-06-04", "2013-06-05"]  # Monday to Wednesday: three XNYS sessions


def write_night(
    wh: Warehouse, ticker: str, as_of: str, run_id: str, served: str = "ets", action: str = "kept", **scores
) -> None:
    """One completed night: its runs row, decision and the served candidate's metrics at horizons 1..3."""
    started = pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(hours=22)
    run = {"run_id": run_id, "ticker": ticker, "status": "completed", "started_at": started, "settings": "{}"}
    wh.write_run_table("runs", ticker, run_id, pd.DataFrame([run]))
    decision = {
        "run_id": run_id,
        "ticker": ticker,
        "as_of": as_of,
        "champion": served,
        "previous": "naive" if action == "replaced" else served,
        "action": action,
        "reason": f"{served} chosen",
        "evidence_start": "2013-01-02",
        "evidence_end": as_of,
        "decided_at": started,
    }
    wh.write_run_table("decisions", ticker, run_id, pd.DataFrame([decision]))
    mase = scores.get("mase", [0.9, 0.9, 0.9])
    rows = [
        {
            "run_id": run_id,
            "ticker": ticker,
            "as_of": as_of,
            "candidate": served,
            "horizon": h,
            "n": 20,
            "mase": mase[h - 1],
            "naive_mase": 1.0,
            "coverage_80": scores.get("coverage_80", 0.8),
            "coverage_95": scores.get("coverage_95", 0.95),
        }
        for h in (1, 2, 3)
    ]
    other = [dict(row, candidate="other", mase=5.0, coverage_80=0.1) for row in rows]  # not served: no alert
    wh.write_run_table("metrics", ticker, run_id, pd.DataFrame(rows + other))


def write_failure(wh: Warehouse, ticker: str, day: str, run_id: str) -> None:
    started = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=22)
    run = {"run_id": run_id, "ticker": ticker, "status": "failed", "started_at": started}
    run |= {"error": "InputError: Yahoo sent no rows for FAIL\n  more lines of the traceback", "settings": "{}"}
    wh.write_run_table("runs", ticker, run_id, pd.DataFrame([run]))


def write_revision(wh: Warehouse, ticker: str, run_id: str, date: str, detected: str) -> None:
    row = {"run_id": run_id, "ticker": ticker, "date": date, "old_close": 100.0, "new_close": 101.0}
    row |= {"change": 0.01, "rule": "keep", "detected_at": pd.Timestamp(detected, tz="UTC")}
    wh.write_run_table("price_revisions", ticker, run_id, pd.DataFrame([row]))


@pytest.fixture
def good(tmp_path) -> Warehouse:
    """GOOD alone, current on 2013-06-05; an old revision (detected long before its last run) is no alert, nor
    are a failed backtest and a ticker that only ran `nightcast compare`."""
    wh = Warehouse(tmp_path / "good")
    for i, night in enumerate(NIGHTS):
        write_night(wh, "GOOD", night, f"g{i}")
    write_revision(wh, "GOOD", "g0", "2013-04-01", "2013-04-02")
    backtest = {"run_id": "b9", "ticker": "GOOD", "status": "failed", "settings": '{"backtest": {"folds": 5}}'}
    backtest["started_at"] = pd.Timestamp("2013-06-06", tz="UTC")  # a failed backtest is not a failed night
    wh.write_run_table("runs", "GOOD", "b9", pd.DataFrame([backtest]))
    compared = dict(backtest, run_id="c1", ticker="CMP", settings='{"compare": {"recipes": ["gru-price"]}}')
    wh.write_run_table("runs", "CMP", "c1", pd.DataFrame([compared]))  # a ticker never run nightly: not listed
    return wh


@pytest.fixture
def four(good) -> Warehouse:
    """GOOD, FAIL (failed tonight after a good night), STALE (last night two sessions ago) and DEGRADED
    (behind naive at horizon 2, 80% intervals too narrow, a new champion, a revised close)."""
    wh = good
    write_night(wh, "FAIL", NIGHTS[1], "f1")
    write_failure(wh, "FAIL", NIGHTS[2], "f2")
    write_night(wh, "STALE", NIGHTS[0], "s0")
    write_night(
        wh, "DEGRADED", NIGHTS[2], "d2", served="gru", action="replaced", mase=[0.9, 1.2, 0.95], coverage_80=0.5
    )
    write_revision(wh, "DEGRADED", "d2", "2013-06-04", "2013-06-05 22:05")
    return wh


def alerts(wh: Warehouse) -> list[tuple]:
    return [tuple(r) for r in wh.query("select ticker, kind, since from alerts").itertuples(index=False)]


def test_the_alerts_view_has_one_row_per_open_problem(four):
    day = pd.Timestamp
    assert alerts(four) == [
        ("DEGRADED", "champion change", day("2013-06-05")),
        ("DEGRADED", "coverage 80%", day("2013-06-05")),
        ("DEGRADED", "revised price", day("2013-06-05")),
        ("DEGRADED", "worse than naive", day("2013-06-05")),
        ("FAIL", "failed night", day("2013-06-05")),
        ("STALE", "stale", day("2013-06-03")),
    ]
    rows = four.query("select kind, detail from alerts")
    detail = dict(zip(rows["kind"], rows["detail"], strict=True))
    assert detail["worse than naive"].startswith("gru's MASE is 1.200 x naive's at horizon 2")
    assert "hold 0.500 of 60 realized forecasts (band 0.70-0.90)" in detail["coverage 80%"]
    assert detail["failed night"] == "run f2 failed: InputError: Yahoo sent no rows for FAIL"
    assert detail["champion change"] == "naive -> gru (replaced): gru chosen"
    assert "2 later night(s) in the warehouse, newest 2013-06-05" in detail["stale"]
    assert "close of 2013-06-04 changed 100.0000 -> 101.0000 (+1.00%), rule keep" in detail["revised price"]


def test_a_good_ticker_has_no_alert_and_the_thresholds_are_a_view(good):
    assert alerts(good) == []
    thresholds = good.query("select * from alert_thresholds")
    assert thresholds["stale_sessions"][0] == 1 and thresholds["coverage_95_low"][0] == 0.88


def status(wh: Warehouse, capsys, *options: str) -> tuple[int, str, str]:
    code = main(["status", "--warehouse", str(wh.root), *options])
    out, err = capsys.readouterr()
    return code, out, err


def test_status_shows_each_ticker_s_latest_night_and_exits_1_when_one_failed_or_is_stale(four, capsys):
    code, out, err = status(four, capsys, "--as-of", "2013-06-05")
    lines = [line.split() for line in out.splitlines()]
    assert code == 1 and lines[0][:6] == ["ticker", "as_of", "status", "behind", "served", "fallback"]
    assert [line[:5] for line in lines[1:]] == [
        ["DEGRADED", "2013-06-05", "completed", "0", "gru"],
        ["FAIL", "2013-06-04", "failed", "1", "ets"],
        ["GOOD", "2013-06-05", "completed", "0", "ets"],
        ["STALE", "2013-06-03", "completed", "2", "ets"],
    ]
    assert out.splitlines()[2].endswith("InputError: Yahoo sent no rows for FAIL")  # the error's first line
    assert err == 'nightcast: 6 open alert(s): nightcast query "select * from alerts"\n'


def test_status_as_json_carries_the_served_evidence(four, capsys):
    code, out, _ = status(four, capsys, "--as-of", "2013-06-06", "--format", "json")  # Thursday: one more session
    rows = {row["ticker"]: row for row in json.loads(out)}
    assert code == 1 and rows["GOOD"]["behind"] == 1 and rows["STALE"]["behind"] == 3
    degraded = rows["DEGRADED"]
    assert degraded["mase"] == pytest.approx((0.9 + 1.2 + 0.95) / 3, abs=1e-4) and degraded["naive_mase"] == 1.0
    assert degraded["coverage_80"] == 0.5 and degraded["fallback"] is False
    assert degraded["evidence"] == "2013-01-02..2013-06-05" and degraded["error"] is None


def test_status_exits_0_when_every_ticker_completed_and_is_current(good, capsys):
    assert status(good, capsys, "--as-of", "2013-06-05", "--format", "csv")[:2] == (
        0,
        "ticker,as_of,status,behind,served,fallback,mase,naive_mase,coverage_80,coverage_95,evidence,error\n"
        "GOOD,2013-06-05,completed,0,ets,False,0.9,1.0,0.8,0.95,2013-01-02..2013-06-05,\n",
    )
    assert status(good, capsys, "--as-of", "2013-06-06")[0] == 0  # one session behind: the next night not yet run
    assert status(good, capsys, "--as-of", "2013-06-07")[0] == 1  # two sessions
    assert status(good, capsys, "--as-of", "2013-06-07", "--stale-sessions", "2")[0] == 0
    assert status(good, capsys, "--as-of", "2013-06-09", "--stale-sessions", "2")[0] == 0  # Sunday: as Friday
    assert status(good, capsys, "--as-of", "2013-06-10", "--stale-sessions", "2")[0] == 1  # Monday: 3 sessions
    assert status(good, capsys)[0] == 1  # today, a warehouse of 2013 nights is stale


def test_a_missing_or_empty_warehouse_is_one_error_line(tmp_path, capsys):
    assert main(["status", "--warehouse", str(tmp_path / "nowhere")]) == 1
    (tmp_path / "empty").mkdir()
    assert main(["status", "--warehouse", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"nightcast: error: no warehouse at {tmp_path / 'nowhere'}: run a night first (nightcast nightly), or give "
        "--warehouse",
        f"nightcast: error: no nightly run in the warehouse at {tmp_path / 'empty'}: run a night first (nightcast "
        "nightly)",
    ]
    with pytest.raises(SystemExit) as usage:
        main(["status", "--as-of", "June 5th"])
    assert usage.value.code == 2 and "not a date (YYYY-MM-DD)" in capsys.readouterr().err


def test_status_as_a_process_exits_1_on_a_failed_night_and_fails_early_without_the_heavy_imports(four, tmp_path):
    code = (
        "import sys; from cli import main; code = main(sys.argv[1:]); "
        "print(sorted(m for m in ('tensorflow', 'prefect', 'great_expectations') if m in sys.modules)); sys.exit(code)"
    )
    for where, expected in ((four.root, "FAIL"), (tmp_path / "nowhere", "nightcast: error: no warehouse at")):
        done = subprocess.run(
            [sys.executable, "-c", code, "status", "--format", "csv", "--as-of", "2013-06-05", "--warehouse", where],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 1 and done.stdout.endswith("[]\n"), (done.stdout, done.stderr)
        assert expected in done.stdout + done.stderr and done.stderr.count("\n") == 1
