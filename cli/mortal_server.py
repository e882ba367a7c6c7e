"""Prefect's temporary server class with a death signal (see cli/prefect_server.py): a module of its
own because importing Prefect's server takes seconds, paid only when a temporary server is needed."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

from prefect.server.api.server import SubprocessASGIServer

from nightcast.lifelines import death_signal_hook


class MortalServer(SubprocessASGIServer):
    """Prefect's temporary server, its process started with a death signal (Prefect's command line and
    environment, as in `SubprocessASGIServer._run_uvicorn_command` of Prefect 3.9)."""

    def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
        import prefect
        from prefect.settings import get_current_settings

        app = [
            "--app-dir",
            str(prefect.__module_path__.parent),
            "--factory",
            "prefect.server.api.server:create_app",
        ]
        command = app + ["--host", "127.0.0.1", "--port", str(self.port), "--log-level", "error", "--lifespan", "on"]
        server_env = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
        settings = get_current_settings().to_environment_variables(exclude_unset=True)
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", *command],
            env={**os.environ, **server_env, **settings},
            preexec_fn=death_signal_hook(),  # only prctl, looked up before the fork
        )
