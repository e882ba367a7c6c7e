"""A result of any size crosses `nightcast query` in bounded memory (#24): a CSV export of 30 million rows
streams to its reader instead of being collected (collected, such a result took 11.5 GB)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nightcast.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
ROWS = 30_000_000
MEASURE = """
import resource, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
size = lines = 0
last = b""
while chunk := child.stdout.read(1 << 20):  # counted, never kept
    size, lines, last = size + len(chunk), lines + chunk.count(b"\\n"), (last + chunk)[-64:]
err = child.stderr.read().decode()
child.wait()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # the query's own peak: the only child
print(__import__("json").dumps({"code": child.returncode, "err": err, "bytes": size, "lines": lines,
                                "last": last.decode().splitlines()[-1], "peak": peak}))
"""


@pytest.fixture(autouse=True)
def _harness():
    """No Prefect server: nothing here runs a flow."""
    yield


@pytest.mark.skipif(sys.platform == "win32", reason="resource")
def test_a_csv_export_of_30_million_rows_streams_in_bounded_memory(tmp_path, prices):
    wh = Warehouse(tmp_path / "wh")
    wh.merge_prices(prices(5, ticker="GOOG"), "GOOG", "sample", pd.Timestamp("2024-01-01", tz="UTC"))
    query = [sys.executable, "-m", "cli", "query", f"select * from range({ROWS})", "--format", "csv"]
    query += ["--max-rows", "0", "--timeout", "0", "--warehouse", str(wh.root)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    measured = subprocess.run(
        [sys.executable, "-c", MEASURE, *query], capture_output=True, text=True, cwd=ROOT, env=env
    )
    result = json.loads(measured.stdout)
    assert result["code"] == 0 and result["err"] == "", result["err"][-2000:]
    assert result["lines"] == ROWS + 1 and result["last"] == str(ROWS - 1)  # the header and every row
    assert result["peak"] < 1024**3, f"peak RSS {result['peak'] / 1024**2:.0f} MB"  # collected: about 10 GB
    print(f"30M-row CSV export: {result['bytes'] / 1e6:.0f} MB written, peak RSS {result['peak'] / 1024**2:.0f} MB")
