"""Build the Prefect task runner that RunnerSettings names (Dask imported only when asked for)."""

from __future__ import annotations

import os
import signal
import threading
import time
from contextlib import AbstractContextManager, nullcontext

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


def shared_api() -> AbstractContextManager[object]:
    """Prefect's API address made explicit while the flow runs on its temporary server, so the runner's worker
    processes report their task runs to it instead of each starting a temporary server of its own."""
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = SubprocessASGIServer()
    if PREFECT_API_URL.value() or server.server_process is None:
        return nullcontext()
    return temporary_settings(updates={PREFECT_API_URL: server.api_url})


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
