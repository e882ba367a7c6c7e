"""Prefect tasks that keep the books of a run: its runs row, crash recovery and the UI artifacts, and the one
context manager every flow runs inside."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, pid_alive
from tasks import store as store_stage


@task(name="recover_warehouse", cache_policy=NO_CACHE)
def recover_warehouse(warehouse: Warehouse, ticker: str) -> int:
    """Sweep dead writers' temporary files and mark this ticker's runs whose process died as abandoned."""
    warehouse.sweep_temporary(ticker)
    runs = warehouse.query("select * from runs where ticker = ? and status = 'running'", [ticker], tickers=[ticker])
    stale = store_stage.abandoned_runs(runs, socket.gethostname(), pid_alive)
    for _, row in stale.iterrows():
        warehouse.write_run_table("runs", ticker, row["run_id"], row.to_frame().T)
    return len(stale)


@task(name="record_run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def record_run(warehouse: Warehouse, row: pd.DataFrame) -> None:
    """Write (or rewrite) the run's row of the runs table."""
    run_id, ticker = row["run_id"].iloc[0], row["ticker"].iloc[0]
    warehouse.write_run_table("runs", ticker, run_id, row)


def start_run(settings: Settings, settings_json: str | None = None) -> store_stage.RunInfo:
    """A new run's identity, tied to the Prefect flow run when there is one."""
    return store_stage.RunInfo(
        run_id=store_stage.new_run_id(),
        ticker=settings.ticker,
        flow_run_id=flow_run.get_id(),
        settings_json=settings_json or settings.to_json(),
        started_at=pd.Timestamp.now(tz="UTC"),
    )


@dataclass
class Books:
    """What the runs row says about a run besides its status, filled in as the run goes."""

    data_hash: str | None = None
    model_path: str | None = None


@contextmanager
def run_books(warehouse: Warehouse, run: store_stage.RunInfo) -> Iterator[Books]:
    """Recover the ticker's dead runs, record this one as running, then as completed or failed (with the
    error), whatever happens inside."""
    recover_warehouse(warehouse, run.ticker)
    record_run(warehouse, store_stage.run_row(run, "running"))
    books = Books()
    try:
        yield books
    except BaseException as error:
        record_run(warehouse, store_stage.run_row(run, "failed", books.data_hash, books.model_path, str(error)))
        raise
    record_run(warehouse, store_stage.run_row(run, "completed", books.data_hash, books.model_path))
