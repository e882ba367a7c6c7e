"""The `retrain` flow: one ticker's night. Fetch the new days, reconcile them with the stored prices, validate
and store; backtest any candidate that has no out-of-sample evidence yet; fit every candidate on all rows up
to tonight and forecast the next trading sessions with intervals; serve the candidate the evidence favours;
store everything."""

from typing import Annotated

import pandas as pd
from prefect import flow
from pydantic import Field

from flows import prices, publish, records, steps
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, resolve_root
from tasks import registry, store
from tasks.backtest import backtest_rows, train_seconds
from tasks.tonight import NightResult


@flow(
    name="retrain",
    description="One ticker's night: fit every candidate on all data up to tonight, serve the "
    "one with the best out-of-sample evidence, store every forecast with its intervals.",
)
def retrain(
    settings: Settings = Settings(),
    prefetched: Annotated[
        str | None, Field(description="Parquet file of tonight's rows the nightly fetched in a batch; empty: fetch.")
    ] = None,
) -> NightResult:
    """Run every stage for settings.ticker; the runs table records the outcome either way."""
    warehouse = Warehouse(resolve_root(settings.warehouse))
    run = records.start_run(settings)
    with records.run_books(warehouse, run) as books:
        tonight = prices.refresh_prices(warehouse, run, settings, prefetched)
        history, added, data_docs = tonight.history, tonight.added, tonight.data_docs
        books.data_hash = store.hash_prices(history)
        as_of = history["date"].iloc[-1].date()
        stored = steps.load_forecasts(warehouse, run.ticker, as_of, settings.evidence_window)
        cold = registry.cold_candidates(
            steps.gather_evidence(stored, history, settings.evidence_window),
            steps.backtested(warehouse, run.ticker),
            settings,
            len(history),
        )
        folds = {
            name: steps.backtest(history, name, settings, settings.backtest_refit_every, settings.backtest_folds)
            for name in cold
        }
        backtests = [backtest_rows(run.run_id, run.ticker, name, results) for name, results in folds.items() if results]
        realized = steps.gather_evidence(
            pd.concat([stored, *backtests], ignore_index=True), history, settings.evidence_window
        )
        fits = {name: steps.fit(warehouse, history, name, settings, run) for name in settings.candidates}
        paths = [steps.forecast(fitted, history, realized, settings) for fitted, _, _ in fits.values()]
        decision = steps.choose_champion(warehouse, realized, settings, as_of)
        books.model_path = str(warehouse.model_dir(run.ticker, run.run_id))
        seconds = sum(train_seconds(results) for results in folds.values())
        result = publish.assemble(
            warehouse,
            run,
            settings,
            history,
            added,
            decision,
            fits,
            paths,
            realized,
            backtests,
            tuple(cold),
            seconds,
            data_docs,
        )
        steps.prune(warehouse, run.ticker, settings.keep_runs)
    return result
