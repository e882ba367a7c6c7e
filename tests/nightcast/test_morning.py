"""The morning's answers (#26): the alerts view and `nightcast status` on a warehouse built by hand with the
storage layer's own writes: a good ticker, a failed one, a stale one and a degraded one (no flow runs)."""

from __future__ import annotations

import pandas as pd
import pytest

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
    """GOOD alone, current on 2013-06-05; an old revision (detected long before its last run) is no alert."""
    wh = Warehouse(tmp_path / "good")
    for i, night in enumerate(NIGHTS):
        write_night(wh, "GOOD", night, f"g{i}")
    write_revision(wh, "GOOD", "g0", "2013-04-01", "2013-04-02")
    backtest = {"run_id": "b9", "ticker": "GOOD", "status": "failed", "settings": '{"backtest": {"folds": 5}}'}
    backtest["started_at"] = pd.Timestamp("2013-06-06", tz="UTC")  # a failed backtest is not a failed night
    wh.write_run_table("runs", "GOOD", "b9", pd.DataFrame([backtest]))
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
