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

    failure: BaseException | None = None

    @classmethod
    def from_failure(cls, error: BaseException) -> CliError:
        """A failed flow's error as its first line (or its type when it has no message); the error itself is
        kept as `failure` for a command that reports more of it."""
        line = cls(str(error).splitlines()[0] if str(error) else type(error).__name__)
        line.failure = error
        return line


ONLY_FOR = {"train_fraction": "compare"}
"""Settings that one command alone reads: its option is left off the others' --help."""
SHORT_NAMES = {"backtest": {"backtest_folds": "--folds", "backtest_refit_every": "--refit-every"}}
"""A command's shorter second name of a setting's option."""


def add_settings_options(parser: argparse.ArgumentParser, skip: tuple[str, ...] = ()) -> None:
    """One option per Settings field the command reads (not those in skip), with the field's description and
    default as help."""
    from cli.terminal import add_console_options
    from nightcast.settings import Settings

    add_console_options(parser)
    command = parser.prog.split()[-1]
    for name, field in Settings.model_fields.items():
        if name in skip or ONLY_FOR.get(name, command) != command:
            continue
        default = field.get_default(call_default_factory=True)
        shown = (
            ""
            if default in (None, "")
            else f" (default: {','.join(default) if isinstance(default, list) else default})"
        )
        choices = get_args(field.annotation) if get_origin(field.annotation) is Literal else None
        switch = {"nargs": "?", "const": "true"} if field.annotation is bool else {}  # --refetch alone means true
        metavar = "{" + ",".join(choices) + "}" if choices else "{true,false}" if switch else name.upper()
        names = [f"--{name.replace('_', '-')}", *filter(None, [SHORT_NAMES.get(command, {}).get(name)])]
        parser.add_argument(
            *names,
            dest=name,
            default=None,
            choices=choices,
            metavar=metavar,
            help=f"{field.description}{shown}".replace("%", "%%"),
            **switch,  # type: ignore[arg-type]
        )


def run_flow(args: argparse.Namespace, flow: Callable[..., T], **kwargs: object) -> T:
    """Call a flow with the console set up as the options ask (progress, Prefect's lines), one error line on
    failure; Prefect's temporary server, when it needs one, is started first and dies with this process."""
    from cli.prefect_server import start_temporary_server
    from cli.terminal import set_up, tear_down

    listener = set_up(args)
    try:
        start_temporary_server()
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

    given = {name: getattr(args, name) for name in Settings.model_fields if getattr(args, name, None) is not None}
    try:
        return Settings(**given)
    except ValidationError as error:
        raise CliError(format_validation_error(error)) from None


def default_prefect_home() -> Path:
    """Where Prefect keeps its database when PREFECT_HOME is not set: .state/prefect of the project checkout
    nightcast runs from (as `make` sets it), else of the current folder; never ~/.prefect."""
    checkout = Path(__file__).resolve().parents[1]
    project = checkout if (checkout / "pyproject.toml").is_file() else Path.cwd()
    return project / ".state" / "prefect"


def prepare_prefect() -> None:
    """Set PREFECT_HOME when unset (default_prefect_home) and create it with its parents (Prefect creates only
    the last folder); no telemetry by default; a first start of the temporary server may take longer than
    Prefect's 20 s (the user's value wins)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", EPHEMERAL_STARTUP_SECONDS)
    os.environ.setdefault("PREFECT_HOME", str(default_prefect_home()))
    Path(os.environ["PREFECT_HOME"]).expanduser().mkdir(parents=True, exist_ok=True)


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

    from tasks.training import train

    if any(name.startswith("simple_rnn-") for name in settings.candidates):
        threading.Thread(
            target=train.preload,
            kwargs={"time_step": settings.time_step, "batch_size": settings.batch_size},
            daemon=False,
            name="tensorflow-preload",
        ).start()
