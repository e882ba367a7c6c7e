"""`nightcast query` has limits (rows, time, memory) and prints clean data whatever the values hold."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from cli import main
from cli.query_output import TABLE_ROWS
from nightcast.warehouse import Warehouse


@pytest.fixture
def wh(tmp_path, prices, monkeypatch):
    monkeypatch.setenv("NIGHTCAST_QUERY_MEMORY", "4GB")  # restored after the test (the command sets it)
    warehouse = Warehouse(tmp_path / "wh")
    warehouse.merge_prices(prices(5, ticker="GOOG"), "GOOG", "sample", pd.Timestamp("2024-01-01", tz="UTC"))
    return str(warehouse.root)


def query(wh, sql, *options):
    return main(["query", sql, "--warehouse", wh, *options])


def test_at_most_max_rows_are_printed_and_the_cut_is_said(wh, capsys):
    assert query(wh, "select * from range(1000000)", "--max-rows", "3") == 0
    out, err = capsys.readouterr()
    assert out.split() == ["range", "0", "1", "2"]
    assert err == "nightcast: only the first 3 rows are shown; raise --max-rows (0: all)\n"
    assert query(wh, "select * from range(20000)", "--max-rows", "0", "--format", "csv") == 0
    assert len(capsys.readouterr().out.splitlines()) == 20001


def test_an_endless_query_is_stopped_at_its_timeout(wh, capsys):
    assert query(wh, "select sum(hash(i)) from range(10000000000000) t(i)", "--timeout", "1") == 1
    assert (
        capsys.readouterr().err == "nightcast: error: the query ran longer than 1 s and was stopped (raise --timeout)\n"
    )


def test_a_query_past_its_memory_limit_ends_in_one_line(wh, capsys):
    assert query(wh, "select list(i) from range(50000000) t(i)", "--memory-limit", "64MB") == 1
    err = capsys.readouterr().err
    assert err.startswith("nightcast: error: Out of Memory Error") and err.count("\n") == 1


def test_table_cells_are_escaped_and_capped_and_csv_keeps_every_character(wh, capsys):
    sql = "select chr(27) || '[31mred' || chr(7) || chr(8238) || chr(0) as x, repeat('a', 200) as long"
    assert query(wh, sql) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert "\\x1b[31mred\\x07\\u202e\\x00" in row and "\x1b" not in row and "\u202e" not in row
    assert row.endswith("a" * 59 + "…")
    assert query(wh, sql, "--format", "csv") == 0
    assert "a" * 200 in capsys.readouterr().out


def test_json_holds_maps_with_any_keys(wh, capsys):
    sql = "select map([date '2020-01-01'], [1.5]) d, map([1.5::decimal(4,1)], ['x']) n, map([uuid()], [1]) u"
    assert query(wh, sql, "--format", "json") == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["d"] == {"2020-01-01": "1.5"} or record["d"] == {"2020-01-01": 1.5}
    assert list(record["n"].values()) == ["x"] and len(next(iter(record["u"]))) == 36


def test_sql_that_is_not_utf8_and_a_directory_read_are_one_line(wh, capsys):
    assert query(wh, "select 1 as \udcff") == 1
    assert query(wh, f"select * from read_text('nightcast://{wh}/prices')") == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "nightcast: error: the SQL is not valid UTF-8 text"
    assert err[1].startswith("nightcast: error: cannot read that: [Errno 21] Is a directory")


def _command(wh, sql, **env):
    code = "import sys; from cli import main; sys.exit(main())"
    args = [sys.executable, "-c", code, "query", sql, "--warehouse", wh, "--max-rows", "0"]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env})


def test_a_reader_that_closes_the_pipe_and_a_terminal_that_cannot_show_a_value(wh):
    reader = _command(wh, "select * from range(200000)", NIGHTCAST_QUERY_MEMORY="4GB")
    reader.stdout.read(10)
    reader.stdout.close()
    assert reader.wait(timeout=120) == 0 and reader.stderr.read() == b""
    latin = _command(wh, "select '→★' as x", PYTHONIOENCODING="latin-1")
    out, err = latin.communicate(timeout=120)
    assert latin.returncode == 0 and err == b"" and out.split() == [b"x", b"\\u2192\\u2605"]


def test_json_is_strict_and_csv_is_exact(wh, capsys):
    sql = "select 1/3 x, 'nan'::double n, '-infinity'::double i, 1 as a, 2 as a, 'infinity'::date d"
    assert query(wh, sql, "--format", "json") == 0
    text = capsys.readouterr().out
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == [{"x": 1 / 3, "n": None, "i": None, "a": 1, "a_2": 2, "d": "infinity"}]
    assert query(wh, "select 1/3 as x, 0.1::double + 0.2::double as y", "--format", "csv") == 0
    x, y = capsys.readouterr().out.splitlines()[1].split(",")
    assert float(x) == 1 / 3 and float(y) == 0.1 + 0.2


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("update extensions", "only read-only queries"),
        ("pivot prices on ticker using avg(close)", "PIVOT needs its values listed"),
        ("select 1 where 1 in (" + ",".join(["1"] * 600_000) + ")", "the SQL is over 1024 KB"),
    ],
    ids=["unknown_statement_type", "pivot_without_values", "megabytes_of_sql"],
)
def test_odd_statements_are_refused_in_one_line(wh, capsys, sql, message):
    assert query(wh, sql) == 1
    err = capsys.readouterr().err
    assert err.startswith("nightcast: error: ") and message in err and err.count("\n") == 1


def test_pivot_with_its_values_listed_reads(wh, capsys):
    assert query(wh, "pivot prices on ticker in ('GOOG') using count(*) group by source", "--format", "csv") == 0
    assert capsys.readouterr().out.splitlines() == ["source,GOOG", "sample,5"]


def test_json_and_csv_stream_every_row_and_a_table_keeps_its_row_limit(wh, capsys):
    assert query(wh, "select range as i, 'x' as i from range(25000)", "--max-rows", "0", "--format", "json") == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 25000 and records[-1] == {"i": 24999, "i_2": "x"}
    assert query(wh, "select * from range(0)", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert query(wh, "select 1.5::decimal(4,1) d, null n, 'a,b' s from range(2)", "--format", "csv") == 0
    assert capsys.readouterr().out.splitlines() == ["d,n,s", '1.5,,"a,b"', '1.5,,"a,b"']
    assert query(wh, f"select * from range({TABLE_ROWS + 1})", "--max-rows", "0") == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == TABLE_ROWS + 1 and out.split()[-1] == str(TABLE_ROWS - 1)
    assert err == f"nightcast: only the first {TABLE_ROWS} rows are shown; use --format csv or json for more\n"
    assert query(wh, "select 1", "--max-rows", "-1") == 1
    assert capsys.readouterr().err == "nightcast: error: --max-rows must be 0 (every row) or more, got -1\n"
