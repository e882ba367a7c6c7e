"""`nightcast compare`: every model kind x target on each ticker, one table of RMSE vs naive and skill."""

from __future__ import annotations

import argparse

import pandas as pd

from nightcast.cli import CliError, prepare_prefect, settings_from_args
from nightcast.cli import _add_settings_options as add_settings_options
from nightcast.settings import Settings, check_symbol
from tasks.models import KINDS
from tasks.target import TARGETS

QUERY = ("select ticker, model, target, rmse, naive_rmse, skill from comparisons "
         "order by ticker, skill desc")


def parse_list(text: str | None, allowed: tuple[str, ...], name: str) -> list[str]:
    """A comma-separated option as a list of known values; an unknown one is an error naming the choices."""
    values = [v.strip() for v in (text or ",".join(allowed)).split(",") if v.strip()]
    unknown = [v for v in values if v not in allowed]
    if unknown or not values:
        raise CliError(f"invalid {name}: {', '.join(unknown) or '(none)'}; choose from {', '.join(allowed)}")
    return list(dict.fromkeys(values))


def parse_tickers(text: str | None, settings: Settings) -> list[str]:
    """--tickers as validated symbols (default: the settings' ticker)."""
    try:
        return list(dict.fromkeys(check_symbol(t) for t in (text or settings.symbol).split(",") if t.strip()))
    except ValueError as error:
        raise CliError(str(error)) from None


def comparison_text(table: pd.DataFrame, settings: Settings) -> str:
    """The printed table: one line per ticker, model and target, then the best combination per ticker."""
    lines = [f"model x target, {settings.epochs} epochs, batch {settings.batch_size}, seed {settings.seed}, "
             f"time_step {settings.time_step}; test = last {1 - settings.train_fraction:.0%} of each series, "
             "one step ahead from actual closes",
             f"{'ticker':<7} {'model':<10} {'target':<10} {'test days':<23} {'RMSE':>9} {'naive RMSE':>10} "
             f"{'skill':>7} {'train s':>7}"]
    for row in table.itertuples():
        lines.append(f"{row.ticker:<7} {row.model:<10} {row.target:<10} "
                     f"{f'{row.test_start}..{row.test_end}':<23} {row.rmse:>9.3f} {row.naive_rmse:>10.3f} "
                     f"{row.skill:>+7.3f} {row.train_seconds:>7.1f}")
    for ticker, rows in table.groupby("ticker", sort=False):
        best = rows.loc[rows["skill"].idxmax()]
        verdict = "no worse than naive" if best["skill"] >= 0 else "worse than naive"
        lines.append(f"best for {ticker}: {best['model']} / {best['target']}, skill {best['skill']:+.3f} ({verdict})")
    lines.append(f'try: nightcast query "{QUERY}"')
    return "\n".join(lines)


def command(args: argparse.Namespace) -> int:
    """Run the compare flow for each ticker and print one table."""
    if args.tickers and not args.ticker:  # the settings are validated for the first of --tickers
        args.ticker = args.tickers.split(",")[0].strip() or None
    settings = settings_from_args(args)
    models = parse_list(args.models, KINDS, "models")
    targets = parse_list(args.targets, TARGETS, "targets")
    tickers = parse_tickers(args.tickers, settings)
    if settings.source == "file" and len(tickers) > 1:
        raise CliError("source 'file' holds one ticker: give one --tickers value (or --ticker)")
    prepare_prefect()
    from flows.compare import compare

    tables = []
    for ticker in tickers:
        try:
            tables.append(compare(settings=settings.for_ticker(ticker), models=models, targets=targets))
        except Exception as error:
            raise CliError.from_failure(error) from None
    print(comparison_text(pd.concat(tables, ignore_index=True), settings))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `compare` subcommand to the nightcast command line."""
    parser = commands.add_parser(
        "compare", help="compare model kinds x targets on each ticker against naive persistence",
        description="Train every --models kind with every --targets target on the same split and settings, "
        "score each on the same test days beside naive persistence (tomorrow = today), print one table and "
        "store it in the comparisons table. Options other than --tickers, --models and --targets apply to "
        "every combination (--model and --target are ignored).")
    add_settings_options(parser)
    parser.add_argument("--tickers", default=None, metavar="T1,T2",
                        help="comma-separated tickers (default: --ticker, else the source's default)")
    parser.add_argument("--models", default=None, metavar=",".join(KINDS),
                        help=f"comma-separated model kinds (default: all: {','.join(KINDS)})")
    parser.add_argument("--targets", default=None, metavar=",".join(TARGETS),
                        help=f"comma-separated targets (default: all: {','.join(TARGETS)})")
    parser.set_defaults(handler=command)
