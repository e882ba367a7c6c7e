"""`nightcast backtest`: a walk-forward backtest of one ticker, printed fold by fold beside naive persistence."""

from __future__ import annotations

import argparse

from pydantic import TypeAdapter, ValidationError

from nightcast.cli import CliError, prepare_prefect, settings_from_args, start_preload
from nightcast.cli import _add_settings_options as add_settings_options
from nightcast.settings import Folds, RefitEvery, Settings

OPTIONS = {"refit_every": (RefitEvery, 20), "folds": (Folds, 5)}
"""The backtest's own options: their type (with bounds and description) and default, as in the flow."""


def checked_arguments(args: argparse.Namespace) -> tuple[Settings, dict[str, int]]:
    """Settings, refit_every and folds, validated before anything runs; every problem in one line."""
    settings, values, problems = None, {}, []
    try:
        settings = settings_from_args(args)
    except CliError as error:
        problems.append(str(error).removeprefix("invalid settings: "))
    for name, (kind, _) in OPTIONS.items():
        try:
            values[name] = TypeAdapter(kind).validate_python(getattr(args, name))
        except ValidationError as error:
            problems.append(f"{name}: {error.errors()[0]['msg']}")
    if problems or settings is None:
        raise CliError("invalid settings: " + "; ".join(problems))
    return settings, values


def command(args: argparse.Namespace) -> int:
    """Run the backtest flow once and print its scores per fold and overall."""
    settings, options = checked_arguments(args)
    prepare_prefect()
    from flows.walkforward import backtest
    from nightcast.report import backtest_text

    start_preload(settings)
    try:
        result = backtest(settings=settings, **options)
    except Exception as error:
        raise CliError.from_failure(error) from None
    print(backtest_text(result))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `backtest` subcommand to the nightcast command line."""
    parser = commands.add_parser(
        "backtest", help="walk-forward backtest: refit every K trading days, score each fold against naive",
        description="Refit the model every --refit-every trading days on all data before that day (the scaler "
        "too), predict the following days one step ahead from actual closes, and score every fold and all "
        "days together beside naive persistence (tomorrow = today). Rows go to the backtests and "
        "backtest_metrics tables.")
    add_settings_options(parser)
    for name, (kind, default) in OPTIONS.items():
        description = TypeAdapter(kind).json_schema().get("description", "")
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, type=int, default=default,
                            metavar=name.upper(), help=f"{description} (default: {default})")
    parser.set_defaults(handler=command)
