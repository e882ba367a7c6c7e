"""Prefect's temporary server, started by nightcast so that it dies with the command however the command dies.

Prefect starts its temporary ("ephemeral") API server, `python -m uvicorn ... create_app`, the first time a
flow needs an API and none is set, and stops it at exit (atexit). A `kill -9` of `nightcast run`, a cron
timeout or the OOM killer skips atexit: the server lived on, re-parented to init, holding memory and a port.

`start_temporary_server` starts the same server (the class: cli/mortal_server.py) from the command's
main thread, its child given a death signal (nightcast/lifelines.py: SIGKILL when the parent dies, on Linux),
and registers it where Prefect looks for its temporary server (`SubprocessASGIServer()`, a singleton per port:
the None key is the one Prefect's client, its event and log clients and flows/runners.py ask for; Prefect's
own test harness registers its server there the same way). Prefect then uses it as it would its own: same
arguments, same environment, same stop at exit. With PREFECT_API_URL set (a real server) nothing is started
and Prefect's server module is not imported (seconds).
"""

from __future__ import annotations


def start_temporary_server() -> None:
    """Start Prefect's temporary server now, from this (the main) thread, when Prefect would start one (no API
    set, the temporary server enabled) and none runs."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return  # a real server (or none allowed: Prefect's own error says so)
    from prefect.server.api.server import SubprocessASGIServer

    from cli.mortal_server import MortalServer

    current = SubprocessASGIServer._instances.get(None)
    if current is not None and current.running:
        return
    server = object.__new__(MortalServer)  # not SubprocessASGIServer.__new__, which hands back the registered one
    server.__init__()  # type: ignore[misc]
    SubprocessASGIServer._instances[None] = server
    server.start()
