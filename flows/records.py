"""Prefect tasks that keep the books of a run: its runs row, crash recovery and the UI artifacts."""

import socket

import pandas as pd
from prefect import task
from prefect.artifacts import create_image_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from nightcast import report
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, pid_alive
from tasks import store as store_stage


@task(name="publish_report", cache_policy=NO_CACHE)
def publish_report(result, settings: Settings, plot: bytes) -> None:
    """Publish the metrics table, the markdown report and the plot as artifacts keyed per ticker."""
    ticker = result.ticker
    create_table_artifact(key=report.artifact_key("metrics", ticker), table=report.metrics_rows(result),
                          description=f"{ticker}: model vs naive persistence, test period, price units")
    create_markdown_artifact(key=report.artifact_key("report", ticker),
                             markdown=report.report_markdown(result, settings.to_json()),
                             description=f"{ticker}: latest retraining report")
    create_image_artifact(image_url=report.plot_data_url(plot), key=report.artifact_key("plot", ticker),
                          description=f"{ticker}: actual vs predicted close over the test period")


@task(name="recover_warehouse", cache_policy=NO_CACHE)
def recover_warehouse(warehouse: Warehouse, ticker: str) -> int:
    """Sweep dead writers' temporary files and mark this ticker's runs whose process died as abandoned."""
    warehouse.sweep_temporary()
    runs = warehouse.query("select * from runs where ticker = ? and status = 'running'", [ticker])
    stale = store_stage.abandoned_runs(runs, socket.gethostname(), pid_alive)
    for _, row in stale.iterrows():
        warehouse.write_run_table("runs", ticker, row["run_id"], row.to_frame().T)
    return len(stale)


@task(name="record_run", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=1)
def record_run(warehouse: Warehouse, row: pd.DataFrame) -> None:
    """Write (or rewrite) the run's row of the runs table."""
    run_id, ticker = row["run_id"].iloc[0], row["ticker"].iloc[0]
    warehouse.write_run_table("runs", ticker, run_id, row)
