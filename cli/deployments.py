"""The Prefect API side of serving: a client for a given API, the work pool and the deployments."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from cli.common import CliError
from cli.serve_setup import ServeSetup, child_env, prefect_cli

POOL = "nightcast"


@contextmanager
def prefect_client(api_url: str) -> Iterator:
    """A synchronous Prefect client for this API, whatever the caller's settings say."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        yield client


def ensure_pool(api_url: str) -> None:
    """Create the `process` work pool named nightcast unless it exists (an existing one is kept)."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound
    from prefect.workers.process import ProcessWorker

    with prefect_client(api_url) as client:
        try:
            pool = client.read_work_pool(POOL)
        except ObjectNotFound:
            template = ProcessWorker.get_default_base_job_template()
            pool = client.create_work_pool(WorkPoolCreate(name=POOL, type="process", base_job_template=template))
    if pool.type != "process":
        raise CliError(f"work pool {POOL!r} has type {pool.type!r}; nightcast needs a 'process' pool")


def deploy(plan: ServeSetup, prefect_file: str = "prefect.yaml", *names: str) -> None:
    """Deploy prefect.yaml (all, or the named deployments); a paused deployment stays paused."""
    with prefect_client(plan.api) as client:
        paused = [d.id for d in client.read_deployments() if d.paused and d.work_pool_name == POOL]
    env = child_env(plan)
    del env["NIGHTCAST_PROJECT_DIR"]  # set, `prefect deploy` would bake it in; unset, the worker's env fills it
    which = [arg for name in names for arg in ("--name", name)] or ["--all"]
    done = subprocess.run(
        prefect_cli("--no-prompt", "deploy", "--prefect-file", prefect_file, *which),
        cwd=plan.project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
        raise CliError(f"prefect deploy failed: {lines[-1] if lines else done.returncode}")
    with prefect_client(plan.api) as client:
        for deployment_id in paused:  # `prefect deploy` always sends paused=false
            client.pause_deployment(deployment_id)
