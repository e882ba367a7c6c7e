"""The warehouse: the per-ticker table files' writes and the read-only DuckDB connection over them (its paths and
layout: nightcast/warehouse_paths.py).

A write merges its rows into the ticker's file under the ticker's lock for that table (a shared table's
file under that table's lock) and renames the new file over the old one (nightcast/files.py): a reader
sees the old file or the new one, a rerun of a run replaces that run's rows, and two runs of a ticker take
turns. Files written before this layout (one per run, <run_id>.parquet; latest_forecasts one per ticker)
are read as they are, and folded into the ticker's (or the shared) file by its next write or by
`nightcast compact`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from nightcast import files, run_tables
from nightcast.arrow_tables import to_arrow
from nightcast.files import pid_alive, write_folder_atomic
from nightcast.readonly import (
    QueryRefused,
    check_statement,
    sandboxed_connection,
    tables_read,
    warehouse_files,
)
from nightcast.readonly_files import (
    WarehouseFiles,
    empty_table,
    parquet_scan,
    partitioned_scan,
    sql_text,
)
from nightcast.results import Answer, Rows, streamed
from nightcast.schema import ADDED_LATER, SHARED_TABLES, TABLES
from nightcast.views import DERIVED_VIEWS
from nightcast.warehouse_mark import check_warehouse, write_marker
from nightcast.warehouse_paths import WarehousePaths

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

ENV_VAR = "NIGHTCAST_WAREHOUSE"
__all__ = ["QueryRefused", "Warehouse", "pid_alive", "resolve_root", "write_folder_atomic"]


def resolve_root(setting: str | None = None) -> Path:
    """The warehouse folder: the setting, else $NIGHTCAST_WAREHOUSE, else ./warehouse."""
    return Path(setting or os.environ.get(ENV_VAR) or "warehouse").expanduser().resolve()


class Warehouse(WarehousePaths):
    """Parquet tables under one root, each readable as a DuckDB view of the same name."""

    def lock(self, name: str) -> AbstractContextManager[None]:
        """An exclusive inter-process lock, so two runs never rewrite the same file at once; every write takes
        one, so it marks the folder as a warehouse first (nightcast/warehouse_mark.py)."""
        write_marker(self.root)
        return files.exclusive_lock(self.root / ".locks" / f"{name}.lock")

    def _stored(self, table: str, ticker: str) -> tuple[pa.Table | None, list[Path]]:
        """The ticker's stored rows of a table (its files and any per-run files) and those per-run files."""
        legacy = self.legacy_files(table, ticker)
        others = [self.recent_file(table, ticker), *legacy]
        return run_tables.stored_rows(table, self.table_file(table, ticker), others), legacy

    def write_run_table(self, table: str, ticker: str, run_id: str, frame: pd.DataFrame) -> Path:
        """Store one run's rows of a table in the ticker's files, replacing rows that run wrote before (see
        nightcast/run_tables.py: a night rewrites the small file of recent runs)."""
        new = to_arrow(table, frame)
        with self.lock(f"{table}-{ticker}"):
            big, recent = self.table_file(table, ticker), self.recent_file(table, ticker)
            return run_tables.merge_run(table, new, big, recent, self.legacy_files(table, ticker))

    def fold(self, table: str, ticker: str) -> int:
        """Fold the ticker's recent and per-run files of a table into its one file (a shared table's: its newest
        night into the shared file); returns how many files were folded."""
        if table in SHARED_TABLES:
            with self.lock(table):
                legacy = self.legacy_files(table, ticker)
                return run_tables.fold_newest(table, ticker, self.shared_file(table), legacy)
        with self.lock(f"{table}-{ticker}"):
            big, recent = self.table_file(table, ticker), self.recent_file(table, ticker)
            return run_tables.fold(table, big, recent, self.legacy_files(table, ticker))

    def replace_latest(self, frame: pd.DataFrame) -> dict[str, bool]:
        """Make frame each of its tickers' rows of latest_forecasts unless a newer as_of is stored for it (a
        backfill of old nights): one rewrite of the shared file under the table's lock, the tickers' older
        files folded in. Returns, per ticker, whether its rows were replaced."""
        table, new = "latest_forecasts", to_arrow("latest_forecasts", frame)
        with self.lock(table):
            legacy = {t: self.legacy_files(table, t) for t in dict.fromkeys(new["ticker"].to_pylist())}
            return run_tables.replace_newest(table, new, self.shared_file(table), legacy)

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Write a non-table file (e.g. a plot) atomically inside the warehouse."""

        def write(tmp: Path) -> None:
            tmp.write_bytes(data)

        files.write_then_rename(path, write)

    def quarantine(self, ticker: str, run_id: str, frame: pd.DataFrame, report_json: str) -> Path:
        """Keep a rejected batch and its validation result for inspection."""
        folder = self.quarantine_dir(ticker, run_id)
        files.write_then_rename(folder / "prices.parquet", lambda tmp: frame.to_parquet(tmp, index=False))
        self.write_bytes(folder / "validation.json", report_json.encode("utf-8"))
        return folder

    def stage_incoming(self, ticker: str, key: str, frame: pd.DataFrame) -> Path:
        """Keep rows a batch download fetched for a ticker's run (incoming/ticker=T/<key>.parquet), atomically."""
        path = self.partition("incoming", ticker) / f"{key}.parquet"
        write_marker(self.root)
        files.write_then_rename(path, lambda tmp: frame.to_parquet(tmp, index=False))
        return path

    def discard_incoming(self, staged: str | Path) -> None:
        """Delete a file stage_incoming kept, once its run has read it; refuses any path outside incoming/."""
        path = Path(staged).resolve()  # "incoming/../prices/..." must not pass for a staged file
        if (self.root / "incoming") not in path.parents:
            raise ValueError(f"{path} is not a staged file of this warehouse's incoming/ folder")
        path.unlink(missing_ok=True)

    def sweep_temporary(self, ticker: str | None = None) -> list[Path]:
        """Remove temporary files and folders of dead writers (the ticker's alone when given); returns them."""
        if not ticker:
            return files.sweep([self.root])
        shared = [self.root / table for table in SHARED_TABLES]
        return files.sweep(self.ticker_folders(ticker)) + files.sweep(shared, deep=False)

    def merge_prices(
        self, frame: pd.DataFrame, ticker: str, source: str, ingested_at: pd.Timestamp, replace: Iterable = ()
    ) -> int:
        """Add dates not yet stored for the ticker; a stored row is kept as it is unless its date is in replace
        (a taken revision), when the frame's row replaces it. Returns rows written."""
        with self.lock(f"prices-{ticker}"):
            stored, legacy = self._stored("prices", ticker)
            merged, added = run_tables.merge_closes(
                stored, frame.assign(source=source, ingested_at=ingested_at), replace
            )
            if added:
                files.write_atomic(merged, self.table_file("prices", ticker))
                for old in legacy:
                    old.unlink(missing_ok=True)
            return added

    def scan(self, table: str, files: WarehouseFiles, tickers: list[str] | None = None) -> tuple[pa.Schema, str]:
        """The table's schema and the SELECT its view runs: over its files (only the given tickers' rows when
        given) or its empty table when it has none. Files of the layouts before (one per run; one per ticker
        of a shared table) may lack columns: with any of those there, columns are matched by name."""
        paths, schema = self.table_files(table, tickers), TABLES[table]
        if not paths:
            return schema, f"FROM {empty_table(table)}"
        if table in SHARED_TABLES:
            by_name = table in ADDED_LATER or any(p != str(self.shared_file(table)) for p in paths)
            sql = parquet_scan([files.url(p) for p in paths], table, schema.names, False, by_name)
            return schema, f"{sql} WHERE ticker IN ({', '.join(map(sql_text, tickers))})" if tickers else sql
        return schema, partitioned_scan(table, schema.names, paths, str(self.root / table), tickers, files)

    def connect(
        self, tickers: list[str] | None = None, sql: str | None = None, shared: bool = False
    ) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with one view per table and the derived views (only the given tickers' rows when
        tickers are given; only what sql reads when given), able to read the warehouse and nothing else
        (see nightcast/readonly.py); NotAWarehouse when root is not a warehouse (nightcast/warehouse_mark.py).
        Its own DuckDB, so nothing run on it is seen by the next query; shared (for a checked statement): a
        cursor of the process's one DuckDB of the warehouse."""
        check_warehouse(self.root)
        names = set(tables_read(sql, TABLES, DERIVED_VIEWS)) if sql is not None else set(TABLES) | set(DERIVED_VIEWS)
        files = warehouse_files(self.root)
        return sandboxed_connection(
            files,
            {table: self.scan(table, files, tickers) for table in TABLES if table in names},
            {view: text for view, text in DERIVED_VIEWS.items() if view in names},
            shared,
        )

    def query(self, sql: str, params: list | None = None, tickers: list[str] | None = None) -> pd.DataFrame:
        """Run one read-only statement over the views (params bind to ?); anything else raises QueryRefused."""
        statement = check_statement(sql)
        con = self.connect(tickers, statement.query, shared=True)
        try:
            return con.execute(statement.query, params).df() if params else con.execute(statement.query).df()
        finally:
            con.close()

    def query_rows(self, sql: str, max_rows: int = 0, timeout: float = 0) -> Answer:
        """query without pandas: the columns and at most max_rows rows (0: all) as Python values in a list."""
        with self.stream_rows(sql, max_rows, timeout) as rows:
            return Answer(rows.columns, list(rows), rows.truncated)

    @contextmanager
    def stream_rows(self, sql: str, max_rows: int = 0, timeout: float = 0) -> Iterator[Rows]:
        """One read-only statement's rows, streamed in batches while the block iterates them (bounded memory
        whatever their number), at most max_rows (0: all), the query interrupted after timeout seconds (0:
        never); see nightcast/results.py."""
        statement = check_statement(sql)
        con = self.connect(sql=statement.query, shared=True)
        try:
            with streamed(con, statement.query, max_rows, timeout) as rows:
                yield rows
        finally:
            con.close()
