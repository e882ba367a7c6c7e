"""Build the Prefect task runner that RunnerSettings names (Dask imported only when asked for)."""

from __future__ import annotations

import os
import signal
import threading
import time

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from nightcast.plans import RunnerSettings

PARENT_CHECK_SECONDS = 1.0


def end_with_parent(parent: int) -> None:
    """Process-pool initializer: end this worker once the flow's process that started it is gone.

    A worker whose flow was killed would otherwise finish its ticker unsupervised; ending it leaves its
    run marked running, and the next run of that ticker marks it abandoned (tests/reliability)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True, name="end-with-parent").start()


def build_task_runner(runner: RunnerSettings) -> TaskRunner:
    """A local process or thread pool, a Dask LocalCluster, or an existing Dask scheduler."""
    if runner.kind == "processes":
        return ProcessPoolTaskRunner(max_workers=runner.workers, initializer=end_with_parent, initargs=(os.getpid(),))
    if runner.kind == "threads":
        return ThreadPoolTaskRunner(max_workers=runner.workers)
    from prefect_dask import DaskTaskRunner

    if runner.dask_address:
        return DaskTaskRunner(address=runner.dask_address)
    return DaskTaskRunner(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={
            "n_workers": runner.workers,
            "threads_per_worker": 1,
            "processes": True,
            "dashboard_address": None,
        },
    )
