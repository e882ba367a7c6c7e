"""Keeping a warehouse small and fast however many nights run: fold per-run files written before the
one-file layout, fill latest_forecasts for a warehouse that predates it, and prune old model folders,
plots and Data Docs pages beyond the last keep_runs runs of a ticker (their registry rows stay)."""

from __future__ import annotations

import shutil
from pathlib import Path

from nightcast.schema import TABLES
from nightcast.warehouse import Warehouse

LATEST_SQL = """select * exclude (newest) from (
    select *, dense_rank() over (order by as_of desc, run_id desc) as newest from forecasts
    where ticker = ? and coalesce(served, true)) where newest = 1"""


def tickers(warehouse: Warehouse) -> list[str]:
    """Every ticker with a folder in any table."""
    found = {p.name.removeprefix("ticker=") for p in warehouse.root.glob("*/ticker=*") if p.is_dir()}
    return sorted(found)


def compact(warehouse: Warehouse, ticker: str) -> int:
    """Fold every table's per-run files of the ticker, and fill its latest_forecasts if it has none."""
    folded = sum(warehouse.fold(table, ticker) for table in TABLES)
    stored = warehouse.query("select count(*) as n from latest_forecasts where ticker = ?", [ticker], tickers=[ticker])
    if not stored["n"].iloc[0]:
        latest = warehouse.query(LATEST_SQL, [ticker], tickers=[ticker])
        if len(latest):
            warehouse.replace_latest(latest)
    return folded


def _oldest(entries: list[Path], keep: int) -> list[Path]:
    """All but the newest `keep` entries by name (run ids and timestamps sort by time)."""
    visible = sorted(p for p in entries if not p.name.startswith("."))
    return visible[:-keep] if keep > 0 and len(visible) > keep else []


def prune_ticker(warehouse: Warehouse, ticker: str, keep: int) -> int:
    """Delete the ticker's model folders and plots older than its last `keep` runs, and Data Docs validation
    pages but the newest `keep`; returns how many were deleted."""
    models, plots = warehouse.partition("models", ticker), warehouse.partition("plots", ticker)
    pages = warehouse.data_docs_dir(ticker) / "validations"
    old = _oldest(list(models.iterdir()) if models.exists() else [], keep)
    old += _oldest(list(plots.glob("*.png")), keep)
    old += _oldest([p.parent for p in pages.glob("*/*/*/*.html")] if pages.exists() else [], keep)
    for path in old:
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    return len(old)
