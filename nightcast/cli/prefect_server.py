"""Prefect's temporary server, started by nightcast so that it dies with the command however the command dies.

Prefect starts its temporary ("ephemeral") API server, `python -m uvicorn ... create_app`, the first time a
flow needs an API and none is set, and stops it at exit (atexit). A `kill -9` of `nightcast run`, a cron
timeout or the OOM killer skips atexit: the server lived on, re-parented to init, holding memory and a port.

`start_temporary_server` starts the same server from the command's main thread, its child given a death
signal (nightcast/lifelines.py: SIGKILL when the parent dies, on Linux), and registers it where Prefect looks
for its temporary server (`SubprocessASGIServer()`, a singleton per port: the None key is the one Prefect's
client, its event and log clients and flows/runners.py ask for; Prefect's own test harness registers its
server there the same way). Prefect then uses it as it would its own: same arguments, same environment, same
stop at exit. With PREFECT_API_URL set (a real server) nothing is started.
"""

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


def start_temporary_server() -> None:
    """Start Prefect's temporary server now, from this (the main) thread, unless an API is set or one runs."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_ALLOW_EPHEMERAL_MODE

    if PREFECT_API_URL.value() or not PREFECT_SERVER_ALLOW_EPHEMERAL_MODE.value():
        return
    current = SubprocessASGIServer._instances.get(None)
    if current is not None and current.running:
        return
    server = object.__new__(MortalServer)  # not SubprocessASGIServer.__new__, which hands back the registered one
    server.__init__()  # type: ignore[misc]
    SubprocessASGIServer._instances[None] = server
    server.start()
