"""Prefect tasks that keep the books of a night: each ticker's runs row, crash recovery, and the context manager
a run of one ticker runs inside."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from nightcast import catalog, duckdb_file
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, pid_alive
from tasks.records import store as store_stage


@task(name="recover_warehouse", cache_policy=NO_CACHE)
def recover_warehouse(warehouse: Warehouse, tickers: list[str]) -> int:
    """Sweep dead writers' temporary files and mark the tickers' runs whose process died as abandoned."""
    if len(tickers) == 1:
        warehouse.sweep_temporary(tickers[0])
    else:
        warehouse.sweep_temporary()
    stale = store_stage.abandoned_runs(catalog.running_runs(warehouse, tickers), socket.gethostname(), pid_alive)
    write_runs(warehouse, stale)
    return len(stale)


def write_runs(warehouse: Warehouse, rows: pd.DataFrame) -> None:
    """Write (or rewrite) runs rows, each in its ticker's file."""
    for (ticker, run_id), row in rows.groupby(["ticker", "run_id"], sort=False):
        warehouse.write_run_table("runs", str(ticker), str(run_id), row)


@task(name="record_runs", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def record_runs(warehouse: Warehouse, rows: pd.DataFrame) -> None:
    """Write (or rewrite) the runs rows of tonight's runs."""
    write_runs(warehouse, rows)


def start_run(settings: Settings, settings_json: str | None = None) -> store_stage.RunInfo:
    """A new run's identity, tied to the Prefect flow run when there is one."""
    return store_stage.RunInfo(
        run_id=store_stage.new_run_id(),
        ticker=settings.ticker,
        flow_run_id=flow_run.get_id(),
        settings_json=settings_json or settings.to_json(),
        started_at=pd.Timestamp.now(tz="UTC"),
        host=socket.gethostname(),
        pid=os.getpid(),
    )


@dataclass
class Books:
    """What a runs row says about a run besides its status, filled in as the run goes."""

    data_hash: str | None = None
    model_path: str | None = None
    error: str | None = None


def open_runs(warehouse: Warehouse, settings: Mapping[str, Settings]) -> dict[str, store_stage.RunInfo]:
    """Recover the tickers' dead runs, then start one run per ticker and record them as running."""
    recover_warehouse(warehouse, list(settings))
    runs = {ticker: start_run(own) for ticker, own in settings.items()}
    record_runs(warehouse, pd.concat([store_stage.run_row(r, "running") for r in runs.values()], ignore_index=True))
    return runs


def close_runs(warehouse: Warehouse, runs: Mapping[str, store_stage.RunInfo], books: Mapping[str, Books]) -> None:
    """Record each run as completed, or as failed with its error when its books carry one; the runs rows are a
    run's last write, so the warehouse's DuckDB file is rewritten then (a warning if it cannot be)."""
    rows = [
        store_stage.run_row(
            run, "failed" if books[t].error else "completed", books[t].data_hash, books[t].model_path, books[t].error
        )
        for t, run in runs.items()
    ]
    record_runs(warehouse, pd.concat(rows, ignore_index=True))
    duckdb_file.refresh(warehouse)


@contextmanager
def run_books(warehouse: Warehouse, run: store_stage.RunInfo) -> Iterator[Books]:
    """A run of one ticker (a backtest, a comparison): recover the ticker's dead runs, record this one as
    running, then as completed or failed (with the error), whatever happens inside."""
    recover_warehouse(warehouse, [run.ticker])
    record_runs(warehouse, store_stage.run_row(run, "running"))
    books = Books()
    try:
        yield books
    except BaseException as error:
        books.error = str(error)
        close_runs(warehouse, {run.ticker: run}, {run.ticker: books})
        raise
    close_runs(warehouse, {run.ticker: run}, {run.ticker: books})
