"""`nightcast compare`: RNN recipes (layer kind x target) on each ticker in the tutorial's split, one table of
RMSE vs naive and skill."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from cli.common import CliError, add_settings_options, prepare_prefect, run_flow, settings_from_args
from cli.preflight import from_source, refuse_bad_prices
from nightcast import catalog
from nightcast.candidates import CANDIDATES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from nightcast.settings import Settings

RECIPES = [name for name, c in CANDIDATES.items() if c.is_rnn]


def recipes_of(args: argparse.Namespace, settings: Settings) -> list[str]:
    """The RNN candidates to compare: those of --candidates, else every recipe."""
    if not args.candidates:
        return RECIPES
    chosen = [name for name in settings.candidates if CANDIDATES[name].is_rnn]
    if not chosen:
        raise CliError(f"compare trains RNN candidates: choose from {', '.join(RECIPES)}")
    return chosen


def parse_tickers(text: str | None, settings: Settings) -> list[str]:
    """--tickers as validated symbols (default: the settings' ticker)."""
    try:
        from nightcast.tickers import check_ticker

        return list(dict.fromkeys(check_ticker(t) for t in (text or settings.ticker).split(",") if t.strip()))
    except ValueError as error:
        raise CliError(str(error)) from None


def comparison_text(table: pd.DataFrame, settings: Settings) -> str:
    """The printed table: one line per ticker, model and target, then the best combination per ticker."""
    lines = [
        f"RNN recipes, {settings.epochs} epochs, batch {settings.batch_size}, seed {settings.seed}, "
        f"time_step {settings.time_step}; test = last {1 - settings.train_fraction:.0%} of each series, "
        "one step ahead from actual closes",
        f"{'ticker':<7} {'candidate':<22} {'test days':<23} {'RMSE':>9} {'naive RMSE':>10} {'skill':>7} {'train s':>7}",
    ]
    for row in table.itertuples():
        lines.append(
            f"{row.ticker:<7} {row.candidate:<22} "
            f"{f'{row.test_start}..{row.test_end}':<23} {row.rmse:>9.3f} {row.naive_rmse:>10.3f} "
            f"{row.skill:>+7.3f} {row.train_seconds:>7.1f}"
        )
    for ticker, rows in table.groupby("ticker", sort=False):
        best = rows.loc[rows["skill"].idxmax()]
        verdict = "no worse than naive" if best["skill"] >= 0 else "worse than naive"
        lines.append(f"best for {ticker}: {best['candidate']}, skill {best['skill']:+.3f} ({verdict})")
    lines.append(f'try: nightcast query "{catalog.example_query("comparisons")}"')
    return "\n".join(lines)


def command(args: argparse.Namespace) -> int:
    """Run the compare flow for each ticker and print one table."""
    if args.tickers and not args.ticker:  # the settings are validated for the first of --tickers
        args.ticker = args.tickers.split(",")[0].strip() or None
    settings = settings_from_args(args)
    recipes = recipes_of(args, settings)
    tickers = parse_tickers(args.tickers, settings)
    if settings.source == "file" and len(tickers) > 1:
        raise CliError("source 'file' holds one ticker: give one --tickers value (or --ticker)")
    if settings.source == "file":  # a bad or short file ends here, in seconds
        from tasks.forecasting.folds import split_rows

        one = settings.for_ticker(tickers[0])
        refuse_bad_prices(one, from_source(one), split_rows(one.time_step, one.train_fraction, recipes))
    prepare_prefect()
    from flows.compare import compare

    tables: list[pd.DataFrame] = []
    for ticker in tickers:
        tables.append(run_flow(args, compare, settings=settings.for_ticker(ticker), recipes=recipes))
    import pandas as pd

    print(comparison_text(pd.concat(tables, ignore_index=True), settings))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `compare` subcommand to the nightcast command line."""
    parser = commands.add_parser(
        "compare",
        help="compare RNN recipes on each ticker in the tutorial's split against naive persistence",
        description="Train every RNN candidate of --candidates (default: all six recipes, kind x target) on the "
        "first train_fraction of each ticker's history with the same settings, score each one step ahead on the "
        "same test days beside naive persistence (tomorrow = today), print one table and store it in the "
        "comparisons table. simple_rnn-price is the tutorial's model.",
    )
    add_settings_options(parser)
    parser.add_argument(
        "--tickers",
        default=None,
        metavar="T1,T2",
        help="comma-separated tickers (default: --ticker, else the source's default)",
    )
    parser.set_defaults(handler=command)
