"""<warehouse>/nightcast.duckdb: the warehouse's tables and views in a DuckDB database file, for any DuckDB client.

The file holds views only, no rows: one per table, the same SELECT over the table's Parquet files that
`nightcast query` runs (nightcast/warehouse.py `scan`, a table with no file yet as its typed empty table),
and the derived views of nightcast/views.py. So `duckdb -readonly warehouse/nightcast.duckdb`, a notebook's
`duckdb.connect(path, read_only=True)` or a BI tool's DuckDB driver reads the forecasts without nightcast,
from any working folder, and sees the rows `nightcast query` sees.

- The views name the files by absolute path: DuckDB resolves a relative path in a view against the reader's
  working folder (or its own file_search_path setting), never against the database file, and a table
  function's arguments cannot look the file's folder up (docs/decisions/0010-a-duckdb-file-of-views.md).
  A moved warehouse is read again after its next night or `nightcast compact`, which rewrite the file.
- Each table's files are found by pattern (ticker=*), so a ticker's first night shows without a rewrite;
  a table's first file, and older layouts' per-run files (listed one by one), need the rewrite that every
  night's last write (flows/records.py) and `nightcast compact` do.
- Rewritten whole, never changed in place: built in a hidden temporary folder of the warehouse, then renamed
  over the old file under the file's lock. A reader holding the old file open (read-only DuckDB locks it)
  keeps reading that one and never holds a night up; the next connection opens the new one.
- Written in DuckDB's v1.0.0 storage format, so that clients from DuckDB 1.0 on open it.
- The Parquet tables are the truth: a file that cannot be written is a warning (`refresh`), never a failed
  night.
"""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from nightcast import files
from nightcast.readonly_files import WarehouseFiles, sql_text
from nightcast.schema import TABLES
from nightcast.views import DERIVED_VIEWS

if TYPE_CHECKING:  # pragma: no cover
    from nightcast.warehouse import Warehouse

FILE_NAME = "nightcast.duckdb"
STORAGE_VERSION = "v1.0.0"
"""The oldest DuckDB release whose clients open the file (DuckDB 2 writes its own format unless told)."""
WRITER_SETTINGS = {"autoinstall_known_extensions": False, "threads": 1}
"""The writer's DuckDB: it binds each view once (reads the Parquet footers) and never downloads anything."""
log = logging.getLogger(__name__)


class LocalPaths(WarehouseFiles):
    """The warehouse's files named by their plain absolute paths, as any DuckDB with its own file system reads
    them (the query sandbox reads them through nightcast:// instead)."""

    def url(self, local: str) -> str:
        return local


def path(warehouse: Warehouse) -> Path:
    """Where the warehouse's DuckDB file is."""
    return warehouse.root / FILE_NAME


def view_sql(warehouse: Warehouse) -> dict[str, str]:
    """Every view of the file and its SELECT: the tables (as they are stored now), then the derived views."""
    local = LocalPaths(warehouse.root)
    return {table: warehouse.scan(table, local)[1] for table in TABLES} | DERIVED_VIEWS


def _build(database: Path, views: dict[str, str]) -> None:
    """Create a DuckDB file at database holding the views."""
    import duckdb

    con = duckdb.connect(":memory:", config=dict(WRITER_SETTINGS))
    try:
        con.execute(f"ATTACH {sql_text(str(database))} AS nightcast (STORAGE_VERSION '{STORAGE_VERSION}')")
        con.execute("USE nightcast")
        for name, sql in views.items():
            con.execute(f'CREATE VIEW "{name}" AS {sql}')
        con.execute("USE memory")
        con.execute("DETACH nightcast")  # checkpoints: the file is whole, with no write-ahead log beside it
    finally:
        con.close()


def write(warehouse: Warehouse) -> Path:
    """(Re)write the warehouse's DuckDB file from what is stored now; returns its path. Under the file's lock,
    so that of two writers the later listing is renamed last."""
    target = path(warehouse)
    with warehouse.lock(FILE_NAME):
        files.sweep([warehouse.root], deep=False)  # a writer that died here left its hidden folder
        views = view_sql(warehouse)
        folder = files.temporary_path(target)  # swept with the other temporary files if this process dies
        try:
            folder.mkdir()
            _build(folder / FILE_NAME, views)
            with open(folder / FILE_NAME, "rb") as built:
                os.fsync(built.fileno())
            os.replace(folder / FILE_NAME, target)
            files.fsync_folder(warehouse.root)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return target


def refresh(warehouse: Warehouse) -> Path | None:
    """write, or when the file cannot be written, log a warning and return None: the Parquet tables are the
    truth and a night never fails for this file."""
    try:
        return write(warehouse)
    except Exception as error:  # whatever it is, the night's tables are stored already
        log.warning("%s was not rewritten (%s); the Parquet tables are stored as ever", path(warehouse), error)
        return None
