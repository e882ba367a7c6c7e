"""`nightcast backtest`: a rolling-origin backtest of one ticker's candidates, printed per candidate and horizon
beside naive persistence."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from flows.backtest import BacktestResult

from cli.common import add_settings_options, prepare_prefect, run_flow, settings_from_args, start_preload
from cli.preflight import from_source, refuse_short_backtest
from nightcast import catalog


def backtest_text(result: BacktestResult) -> str:
    """What `nightcast backtest` prints: MASE per candidate and horizon beside naive's, then the averages."""
    table = result.scores
    wide = table.pivot(index="candidate", columns="horizon", values="mase")
    wide.columns = [f"h{h}" for h in wide.columns]
    wide["mean"] = wide.mean(axis=1)
    naive = table.groupby("horizon")["naive_mase"].mean()
    wide.loc["(naive)"] = [*naive.tolist(), naive.mean()]
    best = wide.drop(index="(naive)")["mean"].idxmin()
    sql = catalog.example_query("backtest_metrics", run_id=result.run_id)
    return "\n".join(
        [
            f"backtest {result.run_id} completed: {result.ticker}, {result.folds} folds refit every "
            f"{result.refit_every} trading days, origins {result.first_origin} .. {result.last_origin}; "
            "MASE by horizon (lower is better):",
            wide.sort_values("mean").to_string(float_format=lambda v: f"{v:.4f}"),
            f"best: {best}, mean MASE {wide.loc[best, 'mean']:.4f} vs naive {wide.loc['(naive)', 'mean']:.4f}",
            f"warehouse: {result.warehouse}",
            f'try:       nightcast query "{sql}"',
        ]
    )


def command(args: argparse.Namespace) -> int:
    """Run the backtest flow once and print its scores per candidate and horizon."""
    settings = settings_from_args(args)
    if settings.source == "file":  # a bad or short file ends here, in seconds
        refuse_short_backtest(settings, from_source(settings))
    prepare_prefect()
    from flows.backtest import backtest

    start_preload(settings)
    result = run_flow(args, backtest, settings=settings)
    import pandas as pd

    with pd.option_context("display.width", 200):
        print(backtest_text(result))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the `backtest` subcommand to the nightcast command line."""
    parser = commands.add_parser(
        "backtest",
        help="rolling-origin backtest: every candidate, horizons 1..H, scored against naive",
        description="Refit each candidate every --refit-every trading days on all data before that day, forecast "
        "horizons 1..horizon recursively from every origin of the last --folds x --refit-every days, and score "
        "every candidate and horizon beside naive persistence (MASE, MAE, ...). Rows go to the backtests and "
        "backtest_metrics tables.",
    )
    add_settings_options(parser)
    parser.set_defaults(handler=command)
