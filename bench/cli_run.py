"""`nightcast run` from process start to exit, as a user runs it: default settings, bundled GOOG.

Each run gets a fresh temporary warehouse and PREFECT_HOME and no PREFECT_API_URL, so Prefect starts
(and migrates the database of) its temporary local server inside the measured time. The phases come
from the timestamps of Prefect's own log lines.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import child_env, run_process

LOG_LINE = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3}) \| \w+\s+\| (.*)$")


@dataclass
class CliRun:
    """One `nightcast run`: wall time, peak memory, phases and the training time it reported."""

    wall: float
    maxrss_mb: float
    tree_peak_mb: float
    train_seconds: float | None
    phases: list[tuple[str, float]] = field(default_factory=list)
    ok: bool = True
    error: str = ""


def nightcast_executable() -> str:
    """The nightcast console script next to this interpreter (fallback: python -m cli)."""
    candidate = Path(sys.executable).with_name("nightcast")
    return str(candidate) if candidate.exists() else ""


def _phases(stderr: str, started_wall: float, ended_wall: float) -> list[tuple[str, float]]:
    """Split the run into phases at Prefect's log lines (server start, flow start, each finished task)."""
    events: list[tuple[float, str]] = []
    day = dt.datetime.fromtimestamp(started_wall).date()
    for line in stderr.splitlines():
        match = LOG_LINE.match(line.strip())
        if not match:
            continue
        clock, message = match.groups()
        stamp = dt.datetime.combine(day, dt.time.fromisoformat(clock)).timestamp()
        if stamp < started_wall - 60:  # the run crossed midnight
            stamp += 86400
        if "Starting temporary server" in message:
            events.append((stamp, "start-up: interpreter, imports, settings"))
        elif "Beginning flow run" in message:
            events.append((stamp, "Prefect temporary server start"))
        elif "Finished in state" in message and "Task run" in message:
            name = re.search(r"Task run '([^']+?)(?:-[0-9a-f]{3,})?'", message)
            events.append((stamp, f"task {name.group(1) if name else '?'}"))
        elif "Flow run" in message and "Finished in state" in message:
            events.append((stamp, "flow end"))
        elif "Stopping temporary server" in message:
            events.append((stamp, "server stop"))
    phases, previous = [], started_wall
    for stamp, label in events:
        phases.append((label, max(0.0, stamp - previous)))
        previous = stamp
    phases.append(("exit (server stop, interpreter shutdown)", max(0.0, ended_wall - previous)))
    return phases


def run_once(prefect_home: Path | None = None, extra_args: list[str] | None = None) -> CliRun:
    """One timed `nightcast run` in a temporary folder (its own PREFECT_HOME unless one is given)."""
    with tempfile.TemporaryDirectory(prefix="nightcast-bench-") as tmp:
        home = prefect_home or Path(tmp) / "prefect"
        env = child_env(
            NIGHTCAST_WAREHOUSE=str(Path(tmp) / "warehouse"), PREFECT_HOME=str(home), PREFECT_LOGGING_LEVEL="INFO"
        )
        env.pop("PREFECT_API_URL", None)
        exe = nightcast_executable()
        args = ([exe] if exe else [sys.executable, "-m", "cli"]) + ["run"] + (extra_args or [])
        started_wall = time.time()
        result = run_process(args, env=env, cwd=Path(tmp))
        ended_wall = started_wall + result.wall
        match = re.search(r"fitted on \d+ days \([^)]*\) in ([\d.]+) s", result.stdout)
        ok = result.returncode == 0
        return CliRun(
            wall=result.wall,
            maxrss_mb=result.maxrss_mb,
            tree_peak_mb=result.tree_peak_mb,
            train_seconds=float(match.group(1)) if match else None,
            phases=_phases(result.stderr, started_wall, ended_wall),
            ok=ok,
            error="" if ok else (result.stderr.strip().splitlines() or ["?"])[-1],
        )


def reused_home_run() -> CliRun:
    """A run whose PREFECT_HOME already holds a migrated database (a second run on the same machine)."""
    home = Path(tempfile.mkdtemp(prefix="nightcast-bench-prefect-"))
    try:
        run_once(prefect_home=home, extra_args=["--epochs", "1"])
        return run_once(prefect_home=home)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover - manual use
    run = run_once()
    print(
        f"wall {run.wall:.1f} s, peak {run.maxrss_mb:.0f} MB (tree {run.tree_peak_mb:.0f} MB), ok={run.ok} {run.error}"
    )
    for label, seconds in run.phases:
        print(f"  {seconds:6.2f} s  {label}")
