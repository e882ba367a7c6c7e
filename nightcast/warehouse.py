"""The warehouse: every path, every atomic Parquet write and the DuckDB connection live here.

Layout (hive style, one folder per ticker so one ticker's run never rewrites another's):
    <root>/<table>/ticker=<T>/<run_id>.parquet     predictions, forecasts, metrics, runs
    <root>/prices/ticker=<T>/prices.parquet        merged price history of one ticker
    <root>/models/ticker=<T>/<run_id>/             model.keras + scaler.json
    <root>/plots/ticker=<T>/<run_id>.png
    <root>/quarantine/ticker=<T>/<run_id>/         a batch that failed validation, with its report
    <root>/data_docs/ticker=<T>/                   Great Expectations Data Docs of the latest validation
Temporary files are hidden (.name.<pid>.<uuid>.tmp) and renamed into place; a crashed writer's leftovers
are swept by the next run.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from nightcast.readonly import QueryRefused, check_statement, sandboxed_connection
from nightcast.schema import DERIVED_VIEWS, TABLES
from nightcast.settings import TICKER_PATTERN

ENV_VAR = "NIGHTCAST_WAREHOUSE"
__all__ = ["QueryRefused", "Warehouse", "resolve_root"]


def resolve_root(setting: str | None = None) -> Path:
    """The warehouse folder: the setting, else $NIGHTCAST_WAREHOUSE, else ./warehouse."""
    return Path(setting or os.environ.get(ENV_VAR) or "warehouse").expanduser().resolve()


def to_arrow(table: str, frame: pd.DataFrame) -> pa.Table:
    """Convert a frame to the table's Arrow schema (dates to date32, timestamps to UTC)."""
    schema = TABLES[table]
    columns = {}
    for f in schema:
        values = frame[f.name] if f.name in frame else pd.Series([None] * len(frame), dtype="object")
        if pa.types.is_date32(f.type):
            values = pd.to_datetime(values).dt.date
        elif pa.types.is_timestamp(f.type):
            values = pd.to_datetime(values, utc=True)
        columns[f.name] = pa.array(values, type=f.type, from_pandas=True)
    return pa.table(columns, schema=schema)


def temporary_path(path: Path) -> Path:
    """A hidden sibling of path, named after this process so that leftovers of dead writers can be swept."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")


def _write_then_rename(path: Path, write) -> None:
    """Call write(tmp) on a temporary sibling, fsync it, then atomically rename it over path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (a rename into it, a new file) to disk."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_folder_atomic(folder: Path, write: Callable[[Path], None]) -> None:
    """Fill a hidden temporary folder with write(tmp), fsync every file in it, then rename it to folder.

    A reader (or the registry) sees no folder or the whole one; a writer killed half-way leaves only the
    hidden temporary folder, which sweep_temporary removes once its process is gone."""
    if folder.exists():
        raise FileExistsError(f"{folder} exists already; stored folders are never rewritten")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(folder)
    try:
        tmp.mkdir()
        write(tmp)
        for path in tmp.rglob("*"):
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        fsync_folder(tmp)
        os.rename(tmp, folder)
        fsync_folder(folder.parent)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write Parquet so that a reader sees the old file or the whole new one, never a part."""
    _write_then_rename(path, lambda tmp: pq.write_table(table, tmp))


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Warehouse:
    """Parquet tables under one root, each readable as a DuckDB view of the same name."""

    def __init__(self, root: Path | str):
        self.root = Path(root).expanduser().resolve()

    def partition(self, table: str, ticker: str) -> Path:
        """The folder holding one ticker's files of a table (or of models/plots)."""
        if not TICKER_PATTERN.fullmatch(ticker):
            raise ValueError(f"ticker {ticker!r} is not a valid symbol")
        folder = (self.root / table / f"ticker={ticker}").resolve()
        if self.root not in folder.parents:
            raise ValueError(f"path for {ticker!r} leaves the warehouse")
        return folder

    def model_dir(self, ticker: str, run_id: str) -> Path:
        """Where one run's model.keras and scaler.json go."""
        return self.partition("models", ticker) / run_id

    def plot_path(self, ticker: str, run_id: str) -> Path:
        """Where one run's PNG plot goes."""
        return self.partition("plots", ticker) / f"{run_id}.png"

    def write_run_table(self, table: str, ticker: str, run_id: str, frame: pd.DataFrame) -> Path:
        """Store one run's rows of a table as their own file (rewriting only that run's file)."""
        path = self.partition(table, ticker) / f"{run_id}.parquet"
        write_atomic(to_arrow(table, frame), path)
        return path

    def write_bytes(self, path: Path, data: bytes) -> None:
        """Write a non-table file (e.g. a plot) atomically inside the warehouse."""
        _write_then_rename(path, lambda tmp: tmp.write_bytes(data))

    def quarantine_dir(self, ticker: str, run_id: str) -> Path:
        """Where a batch that failed validation is kept, never merged into prices."""
        return self.partition("quarantine", ticker) / run_id

    def data_docs_dir(self, ticker: str) -> Path:
        """Where Great Expectations Data Docs of the ticker's latest validation are built."""
        return self.partition("data_docs", ticker)

    def quarantine(self, ticker: str, run_id: str, frame: pd.DataFrame, report_json: str) -> Path:
        """Keep a rejected batch and its validation result for inspection."""
        folder = self.quarantine_dir(ticker, run_id)
        _write_then_rename(folder / "prices.parquet", lambda tmp: frame.to_parquet(tmp, index=False))
        self.write_bytes(folder / "validation.json", report_json.encode("utf-8"))
        return folder

    def sweep_temporary(self) -> list[Path]:
        """Remove temporary files and folders left by writers that died (e.g. killed mid-write); returns them."""
        removed = []
        for tmp in list(self.root.rglob(".*.tmp")) if self.root.exists() else ():
            parts = tmp.name.rsplit(".", 3)
            if len(parts) == 4 and parts[1].isdigit() and not pid_alive(int(parts[1])):
                shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)
                removed.append(tmp)
        return removed

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive inter-process lock, so two runs never merge the same file at once."""
        folder = self.root / ".locks"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{name}.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def merge_prices(self, frame: pd.DataFrame, ticker: str, source: str, ingested_at: pd.Timestamp) -> int:
        """Add dates not yet stored for the ticker; stored rows are kept as they are. Returns rows added."""
        path = self.partition("prices", ticker) / "prices.parquet"
        with self.lock(f"prices-{ticker}"):
            stored = pq.read_table(path).to_pandas() if path.exists() else None
            new = frame.assign(source=source, ingested_at=ingested_at)
            new = new.assign(date=pd.to_datetime(new["date"]).dt.date)
            if stored is not None:
                new = new[~new["date"].isin(set(stored["date"]))]
            if new.empty:
                return 0
            merged = new if stored is None else pd.concat([stored, new], ignore_index=True)
            write_atomic(to_arrow("prices", merged.sort_values("date", kind="stable")), path)
            return len(new)

    def dataset(self, table: str) -> ds.Dataset:
        """A table's Parquet files as one Arrow dataset of the table's schema (columns a file lacks read as null)."""
        files = [str(p) for p in sorted(self.root.glob(f"{table}/ticker=*/*.parquet"))]
        return ds.dataset(files, schema=TABLES[table], format="parquet")

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with one view per table and the derived views; DuckDB cannot open any file
        (see nightcast/readonly.py): the tables are Arrow datasets read by pyarrow."""
        return sandboxed_connection({table: self.dataset(table) for table in TABLES}, DERIVED_VIEWS)

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run one read-only statement over the views (params bind to ?); anything else raises QueryRefused."""
        statement = check_statement(sql)
        con = self.connect()
        try:
            return con.execute(statement.query, params).df() if params else con.execute(statement.query).df()
        finally:
            con.close()
