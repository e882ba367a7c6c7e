"""The `retrain` flow: one ticker's night (the nightly's stages over a universe of one). Fetch the new days,
reconcile them with the stored prices, validate and store; backtest any candidate that has no out-of-sample
evidence yet; fit every candidate on all rows up to tonight and forecast the next trading sessions with
intervals; serve the candidate the evidence favours; store everything, and publish the ticker's report."""

from typing import Annotated

from prefect import flow
from pydantic import Field

from flows.night import run_night
from flows.publish import publish_report
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, resolve_root
from tasks.forecasting.tonight import NightResult


@flow(
    name="retrain",
    description="One ticker's night: fit every candidate on all data up to tonight, serve the "
    "one with the best out-of-sample evidence, store every forecast with its intervals.",
)
def retrain(
    settings: Settings = Settings(),
    prefetched: Annotated[
        str | None, Field(description="Parquet file of tonight's rows fetched already; empty: fetch.")
    ] = None,
) -> NightResult:
    """Run every stage for settings.ticker; the runs table records the outcome either way, and a failure
    raises the failed stage's error."""
    warehouse = Warehouse(resolve_root(settings.warehouse))
    ticker = settings.ticker
    night = run_night(warehouse, settings, [ticker], prefetched={ticker: prefetched} if prefetched else None)
    if ticker in night.errors:
        raise night.errors[ticker]
    result = night.results[ticker]
    publish_report(result, settings)
    return result
