"""What `nightcast serve` runs against: the project, the address, PREFECT_HOME and every child's environment."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]  # the checkout (editable install) holding prefect.yaml


@dataclass
class ServeSetup:
    """What to serve: the project, where to listen, an existing API (None: start a server), the env."""

    project: Path
    host: str = "127.0.0.1"
    port: int = 4200
    api_url: str | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    log_dir: Path | None = None  # None: the server logs to $PREFECT_HOME, the worker to the terminal
    api: str = field(init=False)  # what every child talks to: api_url, else the local server

    def __post_init__(self) -> None:
        """PREFECT_HOME defaults to (and is created as) .state/prefect; a wildcard host is reached locally."""
        home = self.env["PREFECT_HOME"] = self.env.get("PREFECT_HOME") or str(self.project / ".state" / "prefect")
        Path(home).expanduser().mkdir(parents=True, exist_ok=True)
        local = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        self.api = self.api_url or f"http://{local}:{self.port}/api"


def prefect_cli(*args: str) -> list[str]:
    """The prefect command of this interpreter's environment."""
    return [sys.executable, "-m", "prefect", *args]


def child_env(plan: ServeSetup) -> dict[str, str]:
    """Every child's environment: the API, PREFECT_HOME, no telemetry, the project for the pull step."""
    quiet = {"TF_CPP_MIN_LOG_LEVEL": "2", "GX_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}
    return {
        **quiet,
        **plan.env,
        "PREFECT_API_URL": plan.api,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "NIGHTCAST_PROJECT_DIR": str(plan.project),
    }
