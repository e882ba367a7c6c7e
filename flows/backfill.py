"""The `backfill` flow: replay the last N trading days night by night, as if nightcast had run each night."""

from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import Field

from flows.night import TickerOutcome, run_night
from flows.nightly import summarize
from nightcast import price_fetch, progress
from nightcast.price_sources import FileSource
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, resolve_root
from tasks.training.split import replay_dates


@task(name="replay_dates", cache_policy=NO_CACHE)
def nights_to_replay(settings: Settings, days: int, prefetched: str | None) -> list:
    """The last `days` trading days of the ticker's history (from the rows fetched already, when given)."""
    source = FileSource(prefetched) if prefetched else None
    return replay_dates(price_fetch.ingest_prices(settings, source)["date"], days)


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
    """One night per replayed day, oldest first, each seeing only data up to it; a failed night is reported,
    the rest go on."""
    warehouse, ticker = Warehouse(resolve_root(settings.warehouse)), settings.ticker
    staged = {ticker: prefetched} if prefetched else None
    outcomes = []
    nights = nights_to_replay(settings, days, prefetched)
    with progress.counted("nights", f"backfill {ticker}", len(nights)) as bar:
        for night in nights:
            outcomes.append(run_night(warehouse, settings.until(night), [ticker], prefetched=staged).outcomes[ticker])
            bar.advance("nights")
    get_run_logger().info(summarize(outcomes, unit="nights"))
    return outcomes
