"""A query reads the warehouse and nothing else: not through a symbolic link inside it, and not a folder that
is not a warehouse (/, the home folder)."""

import os
from pathlib import Path

import pandas as pd
import pytest

from cli import main
from nightcast.warehouse import Warehouse
from nightcast.warehouse_mark import MARKER, NotAWarehouse


@pytest.fixture
def wh(tmp_path, prices):
    warehouse = Warehouse(tmp_path / "wh")
    warehouse.merge_prices(prices(5, ticker="GOOG"), "GOOG", "sample", pd.Timestamp("2024-01-01", tz="UTC"))
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.txt").write_text("the secret\n")
    os.symlink(secret / "secret.txt", warehouse.root / "link")
    os.symlink("/", warehouse.root / "root")
    os.symlink(secret, warehouse.root / "prices" / "ticker=EVIL")
    return warehouse


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_text('nightcast://{wh}/link')",
        "select * from read_blob('nightcast://{wh}/link')",
        "select * from read_text('nightcast://{wh}/prices/ticker=EVIL/secret.txt')",
        "select * from glob('nightcast://{wh}/root/*')",
        "select * from read_csv('nightcast://{wh}/root/etc/passwd')",
    ],
)
def test_a_link_leading_out_of_the_warehouse_is_refused(wh, capsys, sql):
    assert main(["query", sql.format(wh=wh.root), "--warehouse", str(wh.root)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "lies outside the warehouse" in err and "the secret" not in out + err


def test_a_listing_leaves_the_links_out_and_the_tables_still_read(wh, capsys):
    sql = f"select file from glob('nightcast://{wh.root}/*')"
    assert main(["query", sql, "--format", "csv", "--warehouse", str(wh.root)]) == 0
    listed = {Path(line.strip()).name for line in capsys.readouterr().out.splitlines()[1:]}
    assert "prices" in listed and not listed & {"link", "root"}
    assert main(["query", "select count(*) as n from prices where ticker = 'GOOG'", "--warehouse", str(wh.root)]) == 0
    assert capsys.readouterr().out.split() == ["n", "5"]


@pytest.mark.parametrize("folder", ["/", "~"])
def test_a_folder_that_is_not_a_warehouse_is_not_served(capsys, folder):
    assert main(["query", "select * from glob('nightcast:///*')", "--warehouse", folder]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nightcast: error: ") and "is not a nightcast warehouse" in err


def home_like(tmp_path: Path) -> Path:
    """A folder such as a home folder: dotfiles, a key, and even a prices folder."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text("the key\n")
    (home / ".bashrc").write_text("export SECRET=1\n")
    (home / "prices").mkdir()
    return home


def test_a_home_like_folder_is_refused_before_anything_is_read(tmp_path, capsys):
    home = home_like(tmp_path)
    sql = f"select * from read_text('nightcast://{home}/.ssh/id_rsa')"
    assert main(["query", sql, "--warehouse", str(home)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "the key" not in err
    assert err.startswith(f"nightcast: error: {home} is not a nightcast warehouse: a warehouse holds {MARKER}")
    with pytest.raises(NotAWarehouse, match="only nightcast's tables and folders"):
        Warehouse(home).connect()  # the in-process path refuses it as well


def test_a_warehouse_nightcast_wrote_holds_the_marker_and_is_served(wh, capsys):
    (wh.root / "notes.txt").write_text("the user's notes\n")  # marked: whatever else is there, it is a warehouse
    assert (wh.root / MARKER).is_file()
    assert main(["query", "select count(*) as n from prices", "--warehouse", str(wh.root)]) == 0
    assert capsys.readouterr().out.split() == ["n", "5"]


def test_a_warehouse_written_before_the_marker_is_served_and_its_next_write_marks_it(tmp_path, prices, capsys):
    old = Warehouse(tmp_path / "old")
    old.merge_prices(prices(5, ticker="GOOG"), "GOOG", "sample", pd.Timestamp("2024-01-01", tz="UTC"))
    (old.root / MARKER).unlink()  # as a warehouse of an earlier nightcast is
    (old.root / "README.md").write_text("like the checkout's warehouse/\n")
    assert main(["query", "select count(*) as n from prices", "--warehouse", str(old.root)]) == 0
    assert capsys.readouterr().out.split() == ["n", "5"]
    assert not (old.root / MARKER).exists()  # a query writes nothing
    (old.root / "notes.txt").write_text("anything else\n")  # not nightcast's layout alone: refused until marked
    assert main(["query", "select 1", "--warehouse", str(old.root)]) == 1
    assert "is not a nightcast warehouse" in capsys.readouterr().err
    old.merge_prices(prices(6, ticker="GOOG"), "GOOG", "sample", pd.Timestamp("2024-01-02", tz="UTC"))
    assert (old.root / MARKER).is_file()
    assert main(["query", "select count(*) as n from prices", "--warehouse", str(old.root)]) == 0
    assert capsys.readouterr().out.split() == ["n", "6"]


def test_an_empty_or_missing_folder_reads_as_an_empty_warehouse(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "first_night_failed" / "incoming").mkdir(parents=True)  # prices staged, then refused
    for root in (tmp_path / "empty", tmp_path / "missing", tmp_path / "first_night_failed"):
        assert len(Warehouse(root).query("select * from prices")) == 0
        assert not root.joinpath(MARKER).exists()


STATE = (
    "ATTACH ':memory:' AS extra",
    "CREATE TABLE main.kept AS SELECT 42 AS x",
    "CREATE MACRO kept_macro() AS 7",
    "CREATE TYPE kept_type AS ENUM ('a')",
    "CREATE SCHEMA kept_schema",
    "CREATE SEQUENCE kept_sequence",
    "CREATE VIEW main.kept_view AS SELECT 1 AS x",
)
LEFT = """select (select list(database_name order by 1) from duckdb_databases()) as databases,
    (select list(table_name) from duckdb_tables()) as tables,
    (select list(function_name) from duckdb_functions() where function_name like 'kept%') as macros,
    (select list(schema_name) from duckdb_schemas() where schema_name like 'kept%') as schemas,
    (select list(view_name) from duckdb_views() where view_name like 'kept%') as views"""


def test_nothing_a_connection_attaches_or_creates_is_seen_by_the_next_query(wh):
    """Warehouse.connect() hands out a connection that runs anything: an ATTACH, a table or a macro made on it
    stays on it, closed or not, and never reaches the next connection or query."""
    con = wh.connect()
    for sql in STATE:
        con.execute(sql)
    clean = {"databases": ["memory", "system", "temp"], "tables": None, "macros": None, "schemas": None, "views": None}
    made = {"databases": ["extra", "memory", "system", "temp"], "tables": ["kept"], "macros": ["kept_macro"]}
    made |= {"schemas": ["kept_schema"], "views": ["kept_view"]}
    assert dict(zip(clean, con.execute(LEFT).fetchone())) == made  # all of it is there, on this connection
    assert dict(zip(clean, wh.query_rows(LEFT).rows[0])) == clean  # the next query, the first connection open
    other = wh.connect()
    assert dict(zip(clean, other.execute(LEFT).fetchone())) == clean  # the next connection
    con.close()
    assert dict(zip(clean, wh.connect().execute(LEFT).fetchone())) == clean
    assert wh.query_rows("select count(*) from prices").rows == [(5,)]  # and the tables still read
