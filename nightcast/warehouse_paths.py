"""The warehouse's paths: where every table file, model folder, plot, quarantined batch and Data Docs page of a
ticker lives (the one place they are named; nightcast/warehouse.py writes and reads them).

Layout (hive style: one folder per ticker, and in it one file however many nights have run):
    <root>/<table>/ticker=<T>/<table>.parquet     every table (prices, forecasts, runs, ...) but:
    <root>/latest_forecasts/latest_forecasts.parquet  the shared tables (schema.SHARED_TABLES): one file
    <root>/models/ticker=<T>/<run_id>/<candidate>/  fitted candidates of the last keep_runs runs
    <root>/plots/ticker=<T>/<run_id>.png            the last keep_runs runs' pictures
    <root>/quarantine/ticker=<T>/<run_id>/          a batch that failed validation, with its report
    <root>/data_docs/ticker=<T>/                    Great Expectations Data Docs of the latest validation
    <root>/data_docs/panel/                         ... of the nights' panel validations (many tickers at once)
"""

from __future__ import annotations

import os
from pathlib import Path

from nightcast import run_tables
from nightcast.schema import SHARED_TABLES
from nightcast.tickers import TICKER_PATTERN


class WarehousePaths:
    """The paths of the warehouse under one root; Warehouse (nightcast/warehouse.py) adds the writes and reads."""

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

    def table_file(self, table: str, ticker: str) -> Path:
        """The one file holding a ticker's rows of a table."""
        return self.partition(table, ticker) / f"{table}.parquet"

    def shared_file(self, table: str) -> Path:
        """The one file of a shared table (schema.SHARED_TABLES), every ticker's rows."""
        return self.root / table / f"{table}.parquet"

    def legacy_files(self, table: str, ticker: str) -> list[Path]:
        """A ticker's per-run files of a table written before the one-file layout (of a shared table: any file
        in the ticker's folder, written before the table was shared)."""
        folder = self.partition(table, ticker)
        own = () if table in SHARED_TABLES else (f"{table}.parquet", f"{table}{run_tables.RECENT_SUFFIX}")
        return sorted(p for p in folder.glob("*.parquet") if p.name not in own) if folder.exists() else []

    def model_dir(self, ticker: str, run_id: str) -> Path:
        """Where one run's fitted candidates go, a folder each."""
        return self.partition("models", ticker) / run_id

    def plot_path(self, ticker: str, run_id: str) -> Path:
        """Where one run's PNG plot goes."""
        return self.partition("plots", ticker) / f"{run_id}.png"

    def quarantine_dir(self, ticker: str, run_id: str) -> Path:
        """Where a batch that failed validation is kept, never merged into prices."""
        return self.partition("quarantine", ticker) / run_id

    def data_docs_dir(self, ticker: str) -> Path:
        """Where Great Expectations Data Docs of the ticker's latest validation are built."""
        return self.partition("data_docs", ticker)

    def panel_docs_dir(self) -> Path:
        """Where Great Expectations Data Docs of the nights' panel validations (many tickers at once) are built."""
        return self.root / "data_docs" / "panel"

    def recent_file(self, table: str, ticker: str) -> Path:
        """The file of a ticker's runs of a table since they were last folded into its one file."""
        return self.partition(table, ticker) / f"{table}{run_tables.RECENT_SUFFIX}"

    def ticker_folders(self, ticker: str) -> list[Path]:
        """Every folder of the ticker's, across tables, models and plots."""
        return (
            [
                folder / f"ticker={ticker}"
                for folder in self.root.iterdir()
                if folder.is_dir() and (folder / f"ticker={ticker}").is_dir()
            ]
            if self.root.exists()
            else []
        )

    def table_files(self, table: str, tickers: list[str] | None = None) -> list[str]:
        """The Parquet files of a table (of the given tickers only, and a shared table's one file), ticker by
        ticker; hidden files are temporary ones. Listed with os.scandir: a query over 500 tickers lists 13
        tables' folders."""
        base = self.root / table
        shared = [str(self.shared_file(table))] if table in SHARED_TABLES else []
        if tickers:
            folders = [str(base / f"ticker={t}") for t in tickers]
        else:
            folders = sorted(e.path for e in os.scandir(base) if e.name.startswith("ticker=")) if base.is_dir() else []
        return [f for f in shared if os.path.isfile(f)] + [
            f"{folder}/{name}"
            for folder in folders
            if os.path.isdir(folder)
            for name in sorted(os.listdir(folder))
            if name.endswith(".parquet") and not name.startswith(".")
        ]
