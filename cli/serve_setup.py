"""What `nightcast serve` runs against: the project, the address, PREFECT_HOME and every child's environment."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

from cli.common import CliError

PROJECT = Path(__file__).resolve().parents[1]  # the checkout (editable install) holding prefect.yaml
BLOCK_NAME = re.compile(r"[a-z0-9-]+/[^/\s]+")  # <block-type-slug>/<block name>, as `prefect block ls` shows


@dataclass(frozen=True)
class Alerts:
    """Where the nightly's automations notify: a webhook URL (nightcast keeps a Custom Webhook block for it),
    or an existing notification block named <type-slug>/<name>; neither: alerts are off."""

    webhook: str | None = None
    block: str | None = None
    missing_after: timedelta = timedelta(hours=4)  # a nightly with no final state this long after it was due

    def __post_init__(self) -> None:
        """Refuse a bad destination or window with one line."""
        if self.webhook and self.block:
            raise CliError("give an alert webhook or an alert block, not both")
        url = urlsplit(self.webhook or "")
        if self.webhook is not None and (url.scheme not in ("http", "https") or not url.hostname):
            raise CliError(f"the alert webhook must be an http:// or https:// URL, not {self.webhook!r}")
        if self.block is not None and not BLOCK_NAME.fullmatch(self.block):
            raise CliError(f"the alert block must be <block-type>/<name> (e.g. slack-webhook/team), not {self.block!r}")
        if self.missing_after < timedelta(seconds=10):  # Prefect's least window for a proactive trigger
            raise CliError(f"the missing-run window must be at least 10 seconds, not {self.missing_after}")

    @property
    def on(self) -> bool:
        """Whether a destination is configured."""
        return bool(self.webhook or self.block)


@dataclass
class ServeSetup:
    """What to serve: the project, where to listen, an existing API (None: start a server), the env."""

    project: Path
    host: str = "127.0.0.1"
    port: int = 4200
    api_url: str | None = None
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    log_dir: Path | None = None  # None: the server logs to $PREFECT_HOME, the worker to the terminal
    alerts: Alerts = field(default_factory=Alerts)  # off unless a destination is given
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
