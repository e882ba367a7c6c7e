"""Hostile statements through `nightcast query`: each is refused or harmless, and no file anywhere changes.

Every case runs the real command line in this process against a warehouse written by a real run, from a
fresh working folder, with HOME and TMPDIR pointed at watched folders. After each statement the whole
warehouse tree (every file, hidden ones too) is byte-identical, and the working, home and temp folders
hold exactly what they held before.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import pytest

from cli import main
from flows.retrain import retrain
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse
from tests.conftest import random_walk_prices

DOCS = Path(__file__).resolve().parents[2] / "docs" / "failures.md"
HOSTILE = [
    # COPY ... TO inside and outside the warehouse, absolute and relative, over a stored file, through ..
    "COPY (SELECT 1 AS x) TO '{wh}/predictions/ticker=ACME/evil.parquet' (FORMAT parquet)",
    "COPY (SELECT * FROM prices) TO '{wh}/prices/ticker=ACME/prices.parquet' (FORMAT parquet)",
    "COPY prices TO 'evil.csv'",
    "COPY prices TO 'warehouse/prices/evil.csv'",
    "COPY prices TO '{outside}/evil.csv'",
    "COPY prices TO '{wh}/../evil.csv'",
    "COPY prices TO '{wh}/prices/../../evil.csv'",
    "COPY prices TO '{tmp}/evil.csv'",
    # EXPLAIN ANALYZE executes what it wraps
    "EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{wh}/predictions/ticker=ACME/evil.parquet' (FORMAT parquet)",
    "EXPLAIN ANALYZE CREATE TABLE t AS SELECT 1",
    "EXPLAIN (ANALYZE) COPY prices TO 'evil.csv'",
    "explain /* comment */ analyse copy prices to 'evil.csv'",
    "EXPLAIN COPY prices TO 'evil.csv'",
    "EXPLAIN ANALYZE SELECT * FROM prices",
    # several statements in one string
    "SELECT 1; COPY prices TO 'evil.csv'",
    "COPY prices TO 'evil.csv'; SELECT 1",
    "SELECT 1; SELECT 2",
    # EXPORT / IMPORT / ATTACH
    "EXPORT DATABASE 'exported'",
    "EXPORT DATABASE '{wh}/exported' (FORMAT parquet)",
    "IMPORT DATABASE '{wh}'",
    "ATTACH '{wh}/evil.duckdb' AS evil",
    "ATTACH 'evil.duckdb' AS evil",
    "ATTACH ':memory:' AS m",
    # CREATE of every kind
    "CREATE TABLE t AS SELECT 1 AS x",
    "CREATE OR REPLACE VIEW prices AS SELECT 1 AS x",
    "CREATE VIEW v AS SELECT 1 AS x",
    "CREATE MACRO m(a) AS a",
    "CREATE OR REPLACE SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "CREATE PERSISTENT SECRET p (TYPE s3, KEY_ID 'a', SECRET 'b')",
    # writes to the views
    "INSERT INTO prices (ticker) VALUES ('X')",
    "DELETE FROM prices",
    "UPDATE prices SET close = 0",
    "DROP VIEW prices",
    # settings that guard access, profiling output to a file
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
    "RESET disabled_filesystems",
    "SET disabled_filesystems = ''",
    "SET temp_directory = '{tmp}'",
    "PRAGMA enable_profiling = 'json'",
    "SET profiling_output = 'profile.json'",
    "PRAGMA profiling_output = '{wh}/profile.json'",
    "SET home_directory = '{outside}'",
    # extensions
    "INSTALL httpfs",
    "LOAD httpfs",
    "LOAD '{outside}/evil.duckdb_extension'",
    "FORCE INSTALL httpfs FROM '{outside}'",
    # reading files by their paths, inside and outside the warehouse, and .. paths: each must fail
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/hostname')",
    "SELECT * FROM glob('/*')",
    "SELECT * FROM glob('{wh}/**')",
    "SELECT * FROM read_parquet('{wh}/prices/ticker=ACME/prices.parquet')",
    "SELECT * FROM read_text('{wh}/../../../../etc/passwd')",
    "SELECT * FROM query('COPY prices TO ''evil.csv''')",
    # maintenance statements
    "CHECKPOINT",
    "VACUUM",
    "CALL pragma_database_size()",
    "USE memory",
]


def tree(folder: Path) -> dict[str, bytes | None]:
    """Every path under folder (files with their bytes, folders as None), hidden ones included."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> Path:
    """A warehouse written by a completed run: tables, a model folder, a plot, Data Docs, locks."""
    root = tmp_path_factory.mktemp("stored")
    frame = random_walk_prices(140, ticker="ACME").drop(columns=["ticker", "adj_close"]).rename(columns=str.title)
    frame.to_csv(root / "acme.csv", index=False)
    retrain(
        settings=Settings(
            source="file",
            path=str(root / "acme.csv"),
            ticker="ACME",
            time_step=10,
            epochs=1,
            candidates=["naive", "drift", "simple_rnn-log_return"],
            warehouse=str(root / "wh"),
        )
    )
    return root / "wh"


@pytest.fixture
def watched(tmp_path, stored, monkeypatch):
    """Fresh working, home, temp and outside folders; the warehouse is the stored one."""
    folders = {name: tmp_path / name for name in ("work", "home", "tmp", "outside")}
    for folder in folders.values():
        folder.mkdir()
    monkeypatch.chdir(folders["work"])
    monkeypatch.setenv("HOME", str(folders["home"]))
    monkeypatch.setenv("TMPDIR", str(folders["tmp"]))
    monkeypatch.setattr(tempfile, "tempdir", None)
    return folders


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_statement_is_refused_or_harmless(watched, stored, capsys, template):
    sql = template.format(wh=stored, outside=watched["outside"], tmp=watched["tmp"])
    before = {"warehouse": tree(stored), **{name: tree(folder) for name, folder in watched.items()}}
    system_tmp = set(os.listdir(tempfile.gettempdir()))

    code = main(["query", sql, "--warehouse", str(stored)])

    captured = capsys.readouterr()
    if template.startswith(("SELECT * FROM read_", "SELECT * FROM glob")):  # a read by path, not by table name
        assert code == 1, f"{sql!r} read a file by its path: {captured.out[:200]!r}"
        assert "root:" not in captured.out + captured.err and not captured.out
    if code != 0:
        assert code == 1
        assert captured.err.startswith("nightcast: error: ") and captured.err.count("\n") == 1, captured.err
        assert "Traceback" not in captured.err
    assert tree(stored) == before["warehouse"], f"{sql!r} changed the warehouse"
    for name, folder in watched.items():
        assert tree(folder) == before[name], f"{sql!r} changed the {name} folder"
    assert set(os.listdir(tempfile.gettempdir())) <= system_tmp
    assert len(Warehouse(stored).query("select * from prices")) == 140


def test_the_matrix_is_large_enough_and_every_write_is_refused_by_the_statement_check():
    documented = re.search(r"`test_readonly_query.py`: (\d+) hostile statements", DOCS.read_text())
    assert documented and int(documented.group(1)) == len(HOSTILE) >= 50  # docs/failures.md states the count
    from nightcast.readonly import QueryRefused, check_statement

    reads = [sql for sql in HOSTILE if sql.upper().startswith("SELECT * FROM")]
    for sql in set(HOSTILE) - set(reads):
        with pytest.raises(QueryRefused):
            check_statement(sql.format(wh="/w", outside="/o", tmp="/t"))


def test_the_connection_itself_cannot_write_even_if_a_statement_got_through(stored, watched):
    """The second defence alone: COPY straight on the sandboxed connection, skipping the statement check."""
    import duckdb

    con = Warehouse(stored).connect()
    before = tree(stored)
    for sql in (
        f"COPY prices TO '{stored}/prices/ticker=ACME/evil.parquet' (FORMAT parquet)",
        "COPY prices TO 'evil.csv'",
        f"EXPORT DATABASE '{watched['outside']}/x'",
        f"ATTACH '{stored}/evil.duckdb' AS evil",
    ):
        with pytest.raises(duckdb.Error, match="disabled"):
            con.execute(sql)
    for sql in (  # extensions, spilling, profiling output and settings: locked or refused on the connection
        "INSTALL httpfs",
        "LOAD httpfs",
        f"SET temp_directory = '{watched['outside']}'",
        f"PRAGMA profiling_output = '{stored}/profile.json'",
        "SET enable_external_access = true",
        "SET disabled_filesystems = ''",
        f"SELECT * FROM read_text('{watched['outside']}/../../../etc/passwd')",
    ):
        with pytest.raises(duckdb.Error):
            con.execute(sql)
    for sql in (  # through the read-only file system DuckDB reads the warehouse with
        f"COPY prices TO 'nightcast://{stored}/prices/ticker=ACME/evil.parquet' (FORMAT parquet)",
        f"COPY prices TO 'nightcast://{stored}/prices/ticker=ACME/prices.parquet' (FORMAT parquet)",
        f"COPY prices TO 'nightcast://{stored}/evil.csv'",
        f"COPY prices TO 'nightcast://{watched['outside']}/evil.csv'",
        f"ATTACH 'nightcast://{stored}/evil.duckdb' AS evil",
        f"SELECT * FROM read_text('nightcast://{watched['outside']}/../../etc/passwd')",
    ):
        with pytest.raises(duckdb.Error):
            con.execute(sql)
    # the only directory DuckDB may touch is the warehouse, through nightcast://, which cannot write
    assert con.execute("select current_setting('allowed_directories')").fetchone()[0] == [f"nightcast://{stored}/"]
    assert con.execute("select current_setting('temp_directory')").fetchone()[0] == ""
    assert tree(stored) == before and tree(watched["work"]) == {}


def test_reads_still_work(stored, watched, capsys):
    assert main(["query", "EXPLAIN SELECT * FROM prices", "--warehouse", str(stored)]) == 0
    assert main(["query", "select count(*) as n from forecast_accuracy", "--warehouse", str(stored)]) == 0
    assert main(["query", "DESCRIBE prices", "--warehouse", str(stored)]) == 0
    out = capsys.readouterr().out
    assert "close" in out
