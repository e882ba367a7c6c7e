"""<warehouse>/nightcast.duckdb (#26): read by a DuckDB without nightcast from another folder, it holds every table
and view of `nightcast query` with the same rows; a rewrite shows later writes; a reader holding the old file
open never blocks it; a file that cannot be written is a warning."""

from __future__ import annotations

import json
import logging
import math
import subprocess
import sys

import pandas as pd
import pytest

from cli import main
from nightcast import duckdb_file
from nightcast.schema import TABLES
from nightcast.views import DERIVED_VIEWS
from nightcast.warehouse import Warehouse
from tests.nightcast.test_morning import write_failure, write_night, write_revision
from tests.nightcast.test_warehouse import two_candidates

NAMES = [*TABLES, *DERIVED_VIEWS]
READER = r"""
import json, math, sys
for name in ("nightcast", "tasks", "flows"):
    sys.modules[name] = None  # importing any of them now fails: the reader needs DuckDB alone
import duckdb

def plain(row):
    return repr(tuple("nan" if isinstance(v, float) and math.isnan(v) else round(v, 9) if isinstance(v, float)
                      else v for v in row))

path, names = sys.argv[1], sys.argv[2:]
con = duckdb.connect(path, read_only=True)
out = {"views": sorted(r[0] for r in con.execute("select view_name from duckdb_views() where not internal").fetchall())}
for name in names:
    result = con.execute(f'select * from "{name}"')
    columns = [(d[0], str(d[1])) for d in result.description]
    out[name] = [columns, sorted(plain(row) for row in result.fetchall())]
con.close()
other = duckdb.connect()  # a BI tool may attach it under a name of its own
other.execute(f"ATTACH '{path}' AS wh (READ_ONLY)")
out["attached"] = {name: other.execute(f'select count(*) from wh."{name}"').fetchone()[0] for name in names}
print(json.dumps(out))
"""


def plain(row: tuple) -> str:
    """A row as the reader prints it: floats to 9 decimals (no test on one CPU's last bit of rounding)."""
    return repr(
        tuple(
            "nan" if isinstance(v, float) and math.isnan(v) else round(v, 9) if isinstance(v, float) else v for v in row
        )
    )


def read_elsewhere(path, folder, names=NAMES) -> dict:
    """What a process with DuckDB alone reads from the file, its working folder another one."""
    folder.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-I", "-c", READER, str(path), *names], cwd=folder, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def by_nightcast(wh: Warehouse, name: str) -> list:
    """A view's columns with their types, and its rows, as `nightcast query` reads them."""
    with wh.stream_rows(f'select * from "{name}"') as rows:
        found = sorted(plain(row) for row in rows)
        return [[list(c) for c in zip(rows.columns, rows.types, strict=True)], found]


@pytest.fixture
def stocked(tmp_path, prices) -> Warehouse:
    """Two tickers with prices, forecasts (realized and not), nights, a failure and a revision: rows in most
    views, the alerts included; backtests, comparisons and others have no file yet."""
    wh = Warehouse(tmp_path / "wh")
    two_candidates(wh, prices)
    for i, night in enumerate(["2024-01-02", "2024-01-03", "2024-01-04"]):
        write_night(wh, "GOOG", night, f"r{i + 2}", mase=[0.9, 1.4, 1.6], coverage_80=0.5)
    write_night(wh, "MSFT", "2024-01-02", "m1")
    write_failure(wh, "MSFT", "2024-01-04", "m2")
    write_revision(wh, "MSFT", "m2", "2024-01-03", "2024-01-05")
    stored = pd.Timestamp("2024-02-01", tz="UTC")
    wh.merge_prices(prices(8, ticker="MSFT", start="2024-01-01"), "MSFT", "sample", stored)
    wh.replace_latest(wh.query("select * from forecasts where served"))
    return wh


def test_the_file_holds_every_table_and_view_with_nightcast_query_s_rows_read_from_another_folder(stocked, tmp_path):
    path = duckdb_file.write(stocked)
    assert path == stocked.root / "nightcast.duckdb" and path.read_bytes()[8:12] == b"DUCK"
    read = read_elsewhere(path, tmp_path / "elsewhere")
    assert read["views"] == sorted(NAMES)
    for name in NAMES:
        assert read[name] == by_nightcast(stocked, name), name
    assert read["attached"] == {name: len(read[name][1]) for name in NAMES}
    assert len(read["realized_forecasts"][1]) == 4 and len(read["alerts"][1]) >= 3  # the comparison is not empty
    assert read["backtests"] == by_nightcast(stocked, "backtests") and not read["backtests"][1]  # typed, empty
    assert [p.name for p in stocked.root.iterdir() if p.name.startswith(".nightcast")] == []  # no temporary left


def test_a_new_ticker_shows_at_once_and_a_table_s_first_rows_after_the_next_rewrite(stocked, tmp_path, prices):
    path = duckdb_file.write(stocked)
    stocked.merge_prices(prices(3, ticker="AAPL"), "AAPL", "sample", pd.Timestamp("2024-02-01", tz="UTC"))
    row = {"run_id": "b1", "ticker": "AAPL", "status": "completed", "settings": "{}"}
    stocked.write_run_table("runs", "AAPL", "b1", pd.DataFrame([row]))
    write_revision(stocked, "AAPL", "b1", "2024-01-02", "2024-01-03")
    names = ["prices", "runs", "price_revisions"]
    read = read_elsewhere(path, tmp_path / "elsewhere", names)  # a ticker's folders: found by the views' patterns
    assert {n: len(read[n][1]) for n in names} == {"prices": 6 + 8 + 3, "runs": 6, "price_revisions": 2}
    check = {"run_id": "b1", "ticker": "AAPL", "success": True, "expectation": "positive close", "observed": "0"}
    stocked.write_run_table("validations", "AAPL", "b1", pd.DataFrame([check]))  # the table's first file
    assert read_elsewhere(path, tmp_path / "elsewhere", ["validations"])["validations"][1] == []
    assert main(["compact", "--warehouse", str(stocked.root)]) == 0  # compact rewrites the file
    read = read_elsewhere(path, tmp_path / "elsewhere", ["validations", "runs"])
    assert read["validations"] == by_nightcast(stocked, "validations") and len(read["validations"][1]) == 1
    assert len(read["runs"][1]) == 6


HOLDER = r"""
import sys
import duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute("select count(*) from runs").fetchone()[0], flush=True)
sys.stdin.readline()  # held open until the parent has rewritten the file
print(con.execute("select count(*) from runs").fetchone()[0], flush=True)
"""


def test_a_reader_holding_the_file_open_neither_blocks_the_rewrite_nor_breaks(stocked, tmp_path):
    path = duckdb_file.write(stocked)
    holder = subprocess.Popen(
        [sys.executable, "-I", "-c", HOLDER, str(path)],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "5"  # open, and locked by it
        write_failure(stocked, "NEW", "2024-01-05", "n1")
        old = path.stat().st_ino
        assert duckdb_file.refresh(stocked) == path and path.stat().st_ino != old  # a new file, renamed over
        out, err = holder.communicate("go\n", timeout=60)
    finally:
        holder.kill() if holder.poll() is None else None
    assert holder.returncode == 0, err[-2000:]
    assert out.strip() == "6"  # the old file's views read the tables as they are now
    assert len(read_elsewhere(path, tmp_path / "elsewhere", ["runs"])["runs"][1]) == 6


def test_a_file_that_cannot_be_written_is_a_warning_and_changes_nothing_else(stocked, caplog):
    before = {str(p): p.read_bytes() for p in stocked.root.rglob("*.parquet")}
    (stocked.root / "nightcast.duckdb" / "blocked").mkdir(parents=True)  # a folder where the file goes
    with caplog.at_level(logging.WARNING, logger="nightcast.duckdb_file"):
        assert duckdb_file.refresh(stocked) is None
    assert len(caplog.records) == 1 and "nightcast.duckdb was not rewritten" in caplog.records[0].getMessage()
    assert {str(p): p.read_bytes() for p in stocked.root.rglob("*.parquet")} == before
    assert [p.name for p in stocked.root.iterdir() if p.name.startswith(".nightcast")] == []
    assert len(stocked.query("select * from runs")) == 5  # the tables read as ever
