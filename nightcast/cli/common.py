"""What every subcommand shares: the one-line error, the settings options and Prefect's preparation."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal, TypeVar, get_args, get_origin

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import ValidationError

    from nightcast.settings import Settings

T = TypeVar("T")
EPHEMERAL_STARTUP_SECONDS = "120"
"""How long a command waits for Prefect's temporary server. Prefect's default, 20 s, is too short for the
first start on 2 cores, which creates and migrates the SQLite database while TensorFlow loads."""


class CliError(Exception):
    """An error reported as one line on stderr with exit code 1."""

    @classmethod
    def from_failure(cls, error: BaseException) -> CliError:
        """A failed flow's error as its first line (or its type when it has no message)."""
        return cls(str(error).splitlines()[0] if str(error) else type(error).__name__)


def add_settings_options(parser: argparse.ArgumentParser) -> None:
    """One option per Settings field, with the field's description and default as help."""
    from nightcast.cli.console import add_console_options
    from nightcast.settings import Settings

    add_console_options(parser)
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        shown = "" if default is None else f" (default: {','.join(default) if isinstance(default, list) else default})"
        choices = get_args(field.annotation) if get_origin(field.annotation) is Literal else None
        switch = {"nargs": "?", "const": "true"} if field.annotation is bool else {}  # --refetch alone means true
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            default=None,
            choices=choices,
            metavar="{" + ",".join(choices) + "}" if choices else name.upper(),
            help=f"{field.description}{shown}".replace("%", "%%"),
            **switch,  # type: ignore[arg-type]
        )


def run_flow(args: argparse.Namespace, flow: Callable[..., T], **kwargs: object) -> T:
    """Call a flow with the console set up as the options ask (progress, Prefect's lines), one error line on failure."""
    from nightcast.cli.console import set_up, tear_down

    listener = set_up(args)
    try:
        return flow(**kwargs)
    except Exception as error:
        raise CliError.from_failure(error) from None
    finally:
        tear_down(listener)


def format_validation_error(error: ValidationError) -> str:
    """A pydantic error as one line: 'field: reason; field: reason'."""
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "invalid settings: " + "; ".join(parts)


def settings_from_args(args: argparse.Namespace) -> Settings:
    """Build validated Settings from the options the user gave."""
    from pydantic import ValidationError

    from nightcast.settings import Settings

    given = {name: getattr(args, name) for name in Settings.model_fields if getattr(args, name) is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        raise CliError(format_validation_error(error)) from None


def prepare_prefect() -> None:
    """Create $PREFECT_HOME with its parents (Prefect creates only the last folder); no telemetry by default;
    a first start of the temporary server may take longer than Prefect's 20 s (the user's value wins)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", EPHEMERAL_STARTUP_SECONDS)
    home = os.environ.get("PREFECT_HOME")
    if home:
        Path(home).expanduser().mkdir(parents=True, exist_ok=True)


def start_preload(settings: Settings) -> None:
    """Import TensorFlow and compile the train step in a background thread while Prefect starts its server
    (only when a simple_rnn candidate will train).

    Started after the flow's imports (they hold the GIL); from then on the main thread mostly waits for
    Prefect's temporary server, a subprocess, so the preload costs nothing and the train task starts warm.
    Not a daemon: a run that fails early (bad data) waits for the compilation to end before the interpreter
    exits, since TensorFlow torn down mid-compilation aborts the process ("terminate called after throwing
    an instance of ...", exit -6 instead of the one error line's 1; seen on a loaded 2-core machine).
    """
    import threading

    from tasks import train

    if any(name.startswith("simple_rnn-") for name in settings.candidates):
        threading.Thread(
            target=train.preload,
            kwargs={"time_step": settings.time_step, "batch_size": settings.batch_size},
            daemon=False,
            name="tensorflow-preload",
        ).start()
