"""The command line's console: progress bars with an ETA (rich) and one line per finished stage, Prefect's
own log lines only with --verbose (they reach the Prefect UI either way), nothing but the result with
--quiet."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from nightcast import progress


class RichListener:
    """Draws nightcast's progress on stderr with rich: a bar per counted piece of work, a line per stage."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.console = Console(stderr=True)
        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}
        self.bars.start()

    def stage(self, name: str, seconds: float) -> None:
        if "nights" not in self.tasks:  # a backfill shows its nights, not every night's stages
            self.bars.console.print(f"  {name:<34} {seconds:7.1f} s", highlight=False)

    def start(self, key: str, description: str, total: int) -> None:
        self.finish(key)
        self.tasks[key] = self.bars.add_task(description, total=total)

    def advance(self, key: str, steps: int = 1) -> None:
        if key in self.tasks:
            self.bars.advance(self.tasks[key], steps)

    def finish(self, key: str) -> None:
        task = self.tasks.pop(key, None)
        if task is not None:
            self.bars.remove_task(task) if key in ("epochs", "folds") else self.bars.stop_task(task)

    def close(self) -> None:
        self.bars.stop()


WORKER_CONSOLE_LEVEL = "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL"
"""Prefect's console handler level in processes started from here (its UI logs keep every level)."""


class PrefectOnlyWarnings(logging.Filter):
    """A console-handler filter: Prefect's records below WARNING stay off the console (not off the UI)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or not record.name.startswith("prefect")


def add_console_options(parser: argparse.ArgumentParser) -> None:
    """--verbose and --quiet for a command that runs a flow."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--verbose", action="store_true", help="also show Prefect's and yfinance's own log lines")
    group.add_argument(
        "--quiet",
        action="store_true",
        help="no progress bars or stage lines: only the result, or one error line (for cron)",
    )


CLIENT_LOGGERS = ("yfinance",)
"""Loggers of the clients nightcast wraps: a failed download ends in nightcast's own line naming the cause."""


def quiet_clients(args: argparse.Namespace) -> None:
    """Keep the wrapped clients' own log lines off the console unless --verbose."""
    verbose = bool(getattr(args, "verbose", False))
    for name in CLIENT_LOGGERS:
        logger = logging.getLogger(name)
        logger.propagate = verbose
        if not verbose and not logger.handlers:
            logger.addHandler(logging.NullHandler())


def set_up(args: argparse.Namespace) -> RichListener | None:
    """Quiet Prefect's console lines unless --verbose; draw progress unless --quiet. Call after flows import."""
    if not getattr(args, "verbose", False):
        os.environ.setdefault(WORKER_CONSOLE_LEVEL, "WARNING")  # the runner's worker processes, started later
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and not any(
                isinstance(f, PrefectOnlyWarnings) for f in handler.filters
            ):
                handler.addFilter(PrefectOnlyWarnings())
    if getattr(args, "quiet", False) or not sys.stderr:
        return None
    listener = RichListener()
    progress.listen(listener)
    return listener


def tear_down(listener: RichListener | None) -> None:
    """Stop drawing and go back to silence."""
    progress.listen(None)
    if listener is not None:
        listener.close()
