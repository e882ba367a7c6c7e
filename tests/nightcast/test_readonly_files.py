"""The read-only file system DuckDB reads the warehouse through (nightcast/readonly_files.py)."""

from __future__ import annotations

import gc
import os
import threading

import duckdb
import pytest

from nightcast.readonly_files import (
    DUCKDB_TYPES,
    PREFIX,
    PositionalReader,
    WarehouseFiles,
    empty_table,
    real_path,
)
from nightcast.schema import TABLES


@pytest.fixture()
def root(tmp_path):
    (tmp_path / "wh" / "t" / "ticker=A").mkdir(parents=True)
    (tmp_path / "wh" / "t" / "ticker=A" / "t.parquet").write_bytes(bytes(range(256)) * 64)
    (tmp_path / "outside.txt").write_text("secret")
    return tmp_path / "wh"


def test_files_inside_the_warehouse_open_for_reading_only(root):
    fs = WarehouseFiles(root)
    url = f"{PREFIX}{root}/t/ticker=A/t.parquet"
    handle = fs.open(url)
    assert handle.read(4) == bytes([0, 1, 2, 3])
    handle.close()
    for mode in ("wb", "ab", "r+b", "xb"):
        with pytest.raises(PermissionError):
            fs.open(url, mode)
    for call in (fs.mkdir, fs.makedirs, fs.rm, fs.rm_file, fs.touch, fs.rmdir):
        with pytest.raises(PermissionError):
            call(f"{PREFIX}{root}/t/new")
    with pytest.raises(PermissionError):
        fs.mv(url, f"{PREFIX}{root}/t/moved")
    assert sorted(p.name for p in root.rglob("*")) == ["t", "t.parquet", "ticker=A"]  # nothing created or moved


@pytest.mark.parametrize("path", ["{root}/../outside.txt", "/etc/passwd", "{root}/../wh2/x", "{root}x/y"])
def test_no_path_outside_the_warehouse_is_reached(root, path):
    fs = WarehouseFiles(root)
    with pytest.raises(PermissionError):
        fs.open(PREFIX + path.format(root=root))
    with pytest.raises(PermissionError):
        fs.glob(PREFIX + path.format(root=root))


def test_a_view_s_pattern_is_served_from_the_warehouse_s_listing_and_any_other_is_listed_when_asked(root):
    fs = WarehouseFiles(root)
    pattern = f"{root}/t/ticker=*/*.parquet"
    assert fs.glob(PREFIX + pattern) == [f"{root}/t/ticker=A/t.parquet"]
    fs.listed[pattern] = [f"{root}/t/ticker=A/t.parquet"]  # what Warehouse.scan listed for a view
    (root / "t" / "ticker=B").mkdir()
    (root / "t" / "ticker=B" / "t.parquet").write_bytes(b"x")
    assert fs.glob(PREFIX + pattern) == [f"{root}/t/ticker=A/t.parquet"]  # DuckDB binding the view again
    assert len(fs.glob(PREFIX + f"{root}/t/*/t.parquet")) == 2


def test_real_path_follows_links_as_os_path_realpath_does(root, tmp_path):
    inside = root / "t" / "ticker=A" / "t.parquet"
    os.symlink(inside, root / "t" / "alias")
    os.symlink(tmp_path / "outside.txt", root / "t" / "leak")
    os.symlink(root / "t", root / "folder")
    for path in (
        inside,
        root / "t" / "alias",
        root / "t" / "leak",
        root / "folder",
        root / "folder" / "ticker=A",
        root / "t" / "missing",
        root / "missing" / "deeper",
    ):
        assert real_path(str(path)) == os.path.realpath(path)
    fs = WarehouseFiles(root)
    assert fs.inside(str(root / "t" / "alias")) and not fs.inside(str(root / "t" / "leak"))


def test_threads_sharing_a_handle_each_read_what_they_sought(root):
    """DuckDB reads a range as seek then read and may share a handle between threads: each thread must get
    the bytes at its own offset (a plain file object, with one position, fails this)."""
    handle = WarehouseFiles(root).open(f"{PREFIX}{root}/t/ticker=A/t.parquet")
    wrong = []

    def read_at(offset: int) -> None:
        for _ in range(2000):
            handle.seek(offset)
            if handle.read(2) != bytes([offset % 256, (offset + 1) % 256]):
                wrong.append(offset)

    threads = [threading.Thread(target=read_at, args=(i * 10,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


def test_a_handle_dropped_without_close_releases_its_file(root):
    before = len(os.listdir("/proc/self/fd"))
    readers = [PositionalReader(str(root / "t" / "ticker=A" / "t.parquet")) for _ in range(50)]
    assert len(os.listdir("/proc/self/fd")) >= before + 50
    del readers
    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before


def test_the_empty_table_of_each_schema_has_the_types_duckdb_reads_from_its_files(tmp_path):
    import pyarrow.parquet as pq

    con = duckdb.connect()
    for table, schema in TABLES.items():
        assert {str(f.type) for f in schema} <= set(DUCKDB_TYPES)
        pq.write_table(schema.empty_table(), tmp_path / f"{table}.parquet")
        read = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{tmp_path}/{table}.parquet')").fetchall()
        assert con.execute(f"DESCRIBE SELECT * FROM {empty_table(table)}").fetchall() == read, table
