"""The `backfill` flow: replay the last N trading days night by night, as if nightcast had run each night."""

from typing import Annotated

from prefect import flow, get_run_logger
from pydantic import Field

from flows import prices
from flows.nightly import TickerOutcome, retrain_ticker, summarize
from nightcast import progress
from nightcast.settings import Settings
from tasks.split import replay_dates


@flow(
    name="backfill",
    description="Replay the last N trading days night by night (each night sees only "
    "data up to that night), filling the forecast history.",
)
def backfill(
    settings: Settings = Settings(),
    days: Annotated[int, Field(ge=1, le=1000, description="Trading days to replay.")] = 5,
    prefetched: Annotated[
        str | None, Field(description="Parquet file of the ticker's whole history, fetched already; empty: fetch.")
    ] = None,
) -> list[TickerOutcome]:
    """Run retrain once per replayed night, oldest first; a failed night is reported, the rest go on."""
    nights = replay_dates(prices.ingest(settings, None, prefetched)["date"], days)
    outcomes = []
    with progress.counted("nights", f"backfill {settings.ticker}", len(nights)) as bar:
        for night in nights:
            outcomes.append(retrain_ticker(settings.until(night), prefetched, discard=False))
            bar.advance("nights")
    get_run_logger().info(summarize(outcomes, unit="nights"))
    return outcomes
