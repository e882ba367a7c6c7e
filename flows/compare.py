"""The `compare` flow: every model kind x target on one ticker's data, each scored beside naive persistence
on the same test days, stored in the comparisons table."""

import dataclasses
import itertools
import json
from typing import Annotated, Literal

import pandas as pd
from prefect import flow
from pydantic import Field

from flows import records, steps
from flows.retrain import start_run
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, resolve_root
from tasks import store
from tasks.models import KINDS
from tasks.target import TARGETS, extra_rows

Models = Annotated[list[Literal["simple_rnn", "lstm", "gru"]],
                   Field(min_length=1, description="Model kinds to compare.")]
Targets = Annotated[list[Literal["price", "log_return"]], Field(min_length=1, description="Targets to compare.")]


def score_combination(prices: pd.DataFrame, settings: Settings) -> dict:
    """Split, scale, window, train, predict and evaluate one model kind and target; its comparisons row."""
    parts = steps.split(prices, settings)
    scaled = steps.scale(parts, settings)
    train_windows, test_windows = steps.window(scaled, settings)
    trained = steps.train(train_windows, settings)
    predictions = steps.predict(trained, test_windows, parts, scaled, settings)
    evaluation, _, _ = steps.evaluate(predictions, parts)
    return {"model": settings.model, "target": settings.target, **evaluation.as_row(),
            "n_train": len(train_windows.y), "n_test": len(test_windows.y), "epochs": trained.epochs_run,
            "train_seconds": trained.seconds, "test_start": parts.test["date"].iloc[0].date(),
            "test_end": parts.test["date"].iloc[-1].date()}


@flow(name="compare", description="Train every model kind x target on one ticker and score each beside naive.")
def compare(settings: Settings = Settings(), models: Models = list(KINDS), targets: Targets = list(TARGETS)
            ) -> pd.DataFrame:
    """One row per combination (same split, same test days, same training settings), in the comparisons table."""
    warehouse = Warehouse(resolve_root(settings.warehouse))
    stored = {**json.loads(settings.to_json()), "compare": {"models": models, "targets": targets}}
    run = dataclasses.replace(start_run(settings), settings_json=json.dumps(stored, sort_keys=True))
    records.recover_warehouse(warehouse, run.ticker)
    records.record_run(warehouse, store.run_row(run, "running"))
    try:
        prices = steps.ingest(settings)
        strictest = max(targets, key=extra_rows)  # validate for the target that needs the most rows
        steps.validate(warehouse, run, prices, settings.model_copy(update={"target": strictest}))
        steps.store_prices(warehouse, prices, settings)
        rows = [score_combination(prices, settings.model_copy(update={"model": m, "target": t}))
                for m, t in itertools.product(dict.fromkeys(models), dict.fromkeys(targets))]
        table = pd.DataFrame(rows).assign(run_id=run.run_id, ticker=run.ticker, created_at=pd.Timestamp.now(tz="UTC"))
        warehouse.write_run_table("comparisons", run.ticker, run.run_id, table)
    except BaseException as error:
        records.record_run(warehouse, store.run_row(run, "failed", error=str(error)))
        raise
    records.record_run(warehouse, store.run_row(run, "completed"))
    return table
