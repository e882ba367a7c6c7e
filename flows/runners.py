"""Build the Prefect task runner that RunnerSettings names (Dask imported only when asked for)."""

from __future__ import annotations

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from nightcast.settings import RunnerSettings


def build_task_runner(runner: RunnerSettings) -> TaskRunner:
    """A local process or thread pool, a Dask LocalCluster, or an existing Dask scheduler."""
    if runner.kind == "processes":
        return ProcessPoolTaskRunner(max_workers=runner.workers)
    if runner.kind == "threads":
        return ThreadPoolTaskRunner(max_workers=runner.workers)
    from prefect_dask import DaskTaskRunner

    if runner.dask_address:
        return DaskTaskRunner(address=runner.dask_address)
    return DaskTaskRunner(cluster_class="distributed.LocalCluster",
                          cluster_kwargs={"n_workers": runner.workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None})
