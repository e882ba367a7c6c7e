"""`nightcast serve`: a local Prefect server, the `nightcast` work pool, both deployments and a worker."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext, suppress
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from cli.alerts_setup import set_up_alerts
from cli.common import CliError
from cli.deployments import POOL, deploy, ensure_pool
from cli.serve_setup import PROJECT, Alerts, ServeSetup, child_env, prefect_cli

_DEFAULT_SIGINT = partial(signal.signal, signal.SIGINT, signal.SIG_DFL)  # for Prefect's own shutdown of a child


def spawn(plan: ServeSetup, args: list[str], log: Path | None) -> subprocess.Popen:
    """Start `prefect <args>` in its own process group, so Ctrl-C reaches only us and we stop it in order."""
    with open(log, "ab") if log else nullcontext() as out:
        return subprocess.Popen(
            prefect_cli(*args),
            cwd=plan.project,
            env=child_env(plan),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
            preexec_fn=_DEFAULT_SIGINT,
        )


def stop(process: subprocess.Popen, grace: float = 20.0) -> None:
    """SIGTERM the child's whole process group; SIGKILL whatever is left after the grace period."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, None)):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            process.wait(wait)


def start_server(plan: ServeSetup, stack: ExitStack, timeout: float = 120.0) -> subprocess.Popen:
    """Start `prefect server start` (refusing a busy port) and wait until its health endpoint answers."""
    with socket.socket() as probe:
        if probe.connect_ex((urlsplit(plan.api).hostname, plan.port)) == 0:
            raise CliError(f"port {plan.port} is in use: pass --port, or set PREFECT_API_URL to use that server")
    log = (plan.log_dir or Path(plan.env["PREFECT_HOME"])) / "server.log"
    server = spawn(plan, ["server", "start", "--host", plan.host, "--port", str(plan.port)], log)
    stack.callback(stop, server)
    deadline = time.monotonic() + timeout
    while server.poll() is None and time.monotonic() < deadline:
        with suppress(OSError), urllib.request.urlopen(f"{plan.api}/health", timeout=2):
            return server  # urlopen raises for anything but a 2xx answer
        time.sleep(0.5)
    why = f"exited with code {server.returncode}" if server.poll() is not None else f"no answer in {timeout:.0f} s"
    raise CliError(f"the Prefect server did not start ({why}); see {log}")


@contextmanager
def serving(plan: ServeSetup) -> Iterator[dict[str, subprocess.Popen]]:
    """Server (unless plan.api_url), pool, deployments, alerts, worker; on exit stop the worker, then the server."""
    with ExitStack() as stack:
        processes = {} if plan.api_url else {"server": start_server(plan, stack)}
        ensure_pool(plan.api)
        deploy(plan)
        print(f"nightcast serve: {set_up_alerts(plan.api, plan.alerts)}", flush=True)
        processes["worker"] = spawn(
            plan, ["worker", "start", "--pool", POOL], plan.log_dir / "worker.log" if plan.log_dir else None
        )
        stack.callback(stop, processes["worker"])
        yield processes


def command(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C or SIGTERM; a child that exits on its own is an error."""
    if not (PROJECT / "prefect.yaml").is_file():
        raise CliError(f"no prefect.yaml in {PROJECT}: nightcast serve needs the checkout (pip install -e .)")
    alerts = Alerts(
        webhook=args.alert_webhook or os.environ.get("NIGHTCAST_ALERT_WEBHOOK") or None,
        block=args.alert_block or os.environ.get("NIGHTCAST_ALERT_BLOCK") or None,
        missing_after=timedelta(minutes=args.alert_missing_after),
    )
    api_url = os.environ.get("PREFECT_API_URL")
    plan = ServeSetup(project=PROJECT, host=args.host, port=args.port, api_url=api_url, alerts=alerts)
    os.environ["PREFECT_HOME"] = plan.env["PREFECT_HOME"]  # our own client, too, stays out of ~/.prefect
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM: the same clean stop as Ctrl-C
    try:
        with serving(plan) as processes:
            where = f"UI at {plan.api.removesuffix('/api')}" if "server" in processes else f"API {plan.api}"
            print(
                f"nightcast serve: {where}; deployments nightly/nightly and retrain/retrain on work pool "
                f"'{POOL}'; worker started. Ctrl-C stops everything.",
                flush=True,
            )
            while not (ended := [name for name, p in processes.items() if p.poll() is not None]):
                time.sleep(1)
            raise CliError(f"the Prefect {ended[0]} exited with code {processes[ended[0]].returncode}")
    except KeyboardInterrupt:
        print("nightcast serve: stopped", flush=True)
    except __import__("httpx").HTTPError as error:  # also Prefect's own status errors
        raise CliError(f"the Prefect API at {plan.api} failed: {str(error).splitlines()[0]}") from None
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `serve` subcommand to the nightcast command line."""
    serve = commands.add_parser(
        "serve",
        help="run a local Prefect server with the UI, both deployments and a worker",
        description="Start a Prefect server on 127.0.0.1 (SQLite in .state/prefect), create the 'nightcast' "
        "process work pool, deploy prefect.yaml, set up the nightly's alert automations when a destination is "
        "given, and run a worker until Ctrl-C. With PREFECT_API_URL set, "
        "use that server (or Prefect Cloud) instead of starting one.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address the server listens on (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=4200, help="port of the server (default: 4200)")
    serve.add_argument(
        "--alert-webhook",
        metavar="URL",
        help="notify this webhook (JSON subject, body, text) when a nightly run fails or does not finish in "
        "time; nightcast keeps it as the Custom Webhook block nightcast-alerts (default: $NIGHTCAST_ALERT_WEBHOOK)",
    )
    serve.add_argument(
        "--alert-block",
        metavar="TYPE/NAME",
        help="notify through this existing Prefect notification block instead, e.g. slack-webhook/team "
        "(default: $NIGHTCAST_ALERT_BLOCK)",
    )
    serve.add_argument(
        "--alert-missing-after",
        metavar="MINUTES",
        type=int,
        default=240,
        help="alert when a nightly run has no final state this long after it was due (default: 240)",
    )
    serve.set_defaults(handler=command)
