"""The `backtest` flow: a rolling-origin evaluation of every candidate of one ticker, horizons 1..H from every
origin, each fold refit on its past, scored beside naive persistence.

Not to be confused with flows/backfill.py, which replays whole nightly runs to fill the forecast history.
"""

import json
from dataclasses import dataclass

import pandas as pd
from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows import prices_one, records, steps
from nightcast.settings import Settings
from nightcast.stage_options import ForecastPlan
from nightcast.warehouse import Warehouse, resolve_root
from tasks.forecasting import rolling_origin
from tasks.records import store, summary
from tasks.scoring import scores


@dataclass(frozen=True)
class BacktestResult:
    """What a completed backtest produced: its scores per candidate and horizon (the backtest_metrics rows)."""

    run_id: str
    ticker: str
    refit_every: int
    folds: int
    scores: pd.DataFrame
    first_origin: str
    last_origin: str
    warehouse: str


@task(name="publish_backtest", cache_policy=NO_CACHE)
def publish_backtest(ticker: str, table: pd.DataFrame) -> None:
    """Publish the scores as a table artifact keyed per ticker."""
    rows = [
        {k: (None if pd.isna(v) else (round(float(v), 4) if isinstance(v, float) else v)) for k, v in r.items()}
        for r in table[["candidate", "horizon", "n", "mase", "naive_mase", "mae", "naive_mae"]].to_dict("records")
    ]
    create_table_artifact(
        key=summary.artifact_key("backtest", ticker),
        table=rows,
        description=f"{ticker}: rolling-origin backtest per candidate and horizon, vs naive",
    )


@flow(
    name="backtest",
    description="Rolling-origin backtest of one ticker's candidates: refit every "
    "backtest_refit_every trading days on all data before the cut-off, forecast horizons 1..H from every origin, "
    "score beside naive persistence.",
)
def backtest(settings: Settings = Settings()) -> BacktestResult:
    """Every candidate's folds; the runs table records the outcome either way."""
    warehouse = Warehouse(resolve_root(settings.warehouse))
    stored = {
        **json.loads(settings.to_json()),
        "backtest": {"refit_every": settings.backtest_refit_every, "folds": settings.backtest_folds},
    }
    run = records.start_run(settings, json.dumps(stored, sort_keys=True))
    with records.run_books(warehouse, run) as books:
        fetched, merged = prices_one.gather_one(warehouse, run, settings)  # a backtest evaluates; it stores no prices
        history = merged.history
        books.data_hash = store.hash_prices(history)
        forecasting = ForecastPlan.from_settings(settings)
        steps.plan_folds(history, forecasting)
        prices_one.validate_one(warehouse, run, fetched, merged, settings)
        folds = {name: steps.backtest_folds(history, name, forecasting) for name in forecasting.candidates}
        rows = pd.concat(
            [rolling_origin.backtest_rows(run.run_id, run.ticker, name, results) for name, results in folds.items()],
            ignore_index=True,
        )
        realized = steps.gather_evidence(rows[["candidate", "as_of", "target_date", "horizon", "forecast"]], history, 0)
        table = scores.score_table(realized).assign(
            run_id=run.run_id,
            ticker=run.ticker,
            folds=settings.backtest_folds,
            refit_every=settings.backtest_refit_every,
            created_at=pd.Timestamp.now(tz="UTC"),
            train_seconds=lambda t: t["candidate"].map({n: rolling_origin.train_seconds(r) for n, r in folds.items()}),
        )
        warehouse.write_run_table("backtests", run.ticker, run.run_id, rows)
        warehouse.write_run_table("backtest_metrics", run.ticker, run.run_id, table)
        publish_backtest(run.ticker, table)
    return BacktestResult(
        run.run_id,
        run.ticker,
        settings.backtest_refit_every,
        settings.backtest_folds,
        table,
        str(rows["as_of"].min().date()),
        str(rows["as_of"].max().date()),
        str(warehouse.root),
    )
