"""The `compare` flow: RNN recipes on one ticker's data in the tutorial's split (train on the first
train_fraction, score one step ahead on the rest), each beside naive persistence, in the comparisons table."""

import json
from typing import Annotated

import pandas as pd
from prefect import flow, get_run_logger
from pydantic import Field

from flows import records
from flows.prices_one import refresh_one
from flows.steps import stage
from nightcast import progress
from nightcast.candidates import candidate as lookup
from nightcast.settings import Settings
from nightcast.stage_options import Fitting
from nightcast.warehouse import Warehouse, resolve_root
from tasks.forecasting import holdout
from tasks.forecasting.folds import split_rows

Recipes = Annotated[list[str], Field(min_length=1, description="RNN candidates to compare (kind-target).")]


@stage("score_on_split", task_run_name="score-{name}")
def score_recipe(prices: pd.DataFrame, name: str, fitting: Fitting, train_fraction: float) -> dict:
    """Train one RNN recipe on the training period (the first train_fraction) and score it on the test period."""
    return holdout.score_on_split(prices, lookup(name), fitting, train_fraction, log=get_run_logger().info)


@flow(name="compare", description="Train RNN recipes on one ticker's tutorial split and score each beside naive.")
def compare(settings: Settings = Settings(), recipes: Recipes = ("simple_rnn-price",)) -> pd.DataFrame:  # type: ignore[assignment]
    """One row per recipe (same split, same test days, same training settings), in the comparisons table."""
    warehouse = Warehouse(resolve_root(settings.warehouse))
    stored = {**json.loads(settings.to_json()), "compare": {"recipes": recipes}}
    run = records.start_run(settings, json.dumps(stored, sort_keys=True))
    with records.run_books(warehouse, run):
        prices = refresh_one(
            warehouse, run, settings, min_rows=split_rows(settings.time_step, settings.train_fraction, recipes)
        )
        rows, fitting = [], Fitting.from_settings(settings)
        with progress.counted("recipes", f"compare {run.ticker}", len(dict.fromkeys(recipes))) as bar:
            for name in dict.fromkeys(recipes):
                rows.append(score_recipe(prices, name, fitting, settings.train_fraction))
                bar.advance("recipes")
        table = pd.DataFrame(rows).assign(run_id=run.run_id, ticker=run.ticker, created_at=pd.Timestamp.now(tz="UTC"))
        warehouse.write_run_table("comparisons", run.ticker, run.run_id, table)
    return table
