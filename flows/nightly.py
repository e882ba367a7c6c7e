"""The `nightly` flow: one night over a universe of tickers, each stage once over all of them, forecasting in
chunks of tickers on the plan's task runner; one ticker's failure never stops the others."""

from __future__ import annotations

from collections.abc import Callable

from prefect import flow, get_run_logger
from prefect.artifacts import create_table_artifact

from flows.chunk import ChunkItem, ChunkOutcome, forecast_chunk
from flows.night import TickerOutcome, run_night
from flows.runners import build_task_runner, shared_api
from nightcast.errors import ExpectedFailure
from nightcast.plans import NightlyPlan
from nightcast.price_batches import Backoff, Batching
from nightcast.stage_options import ForecastPlan
from nightcast.warehouse import Warehouse, resolve_root

__all__ = ["TickerOutcome", "TickersFailed", "nightly", "summarize"]


class TickersFailed(ExpectedFailure, RuntimeError):
    """Some tickers failed; the message names each ticker's outcome, and `outcomes` holds them all."""

    def __init__(self, message: str, outcomes: list[TickerOutcome] | None = None):
        super().__init__(message)
        self.outcomes = list(outcomes or [])

    def __reduce__(self) -> tuple[type, tuple[str, list[TickerOutcome]]]:
        """Pickle with the outcomes (the message alone would lose them)."""
        return type(self), (str(self), self.outcomes)


def summarize(outcomes: list[TickerOutcome], unit: str = "tickers") -> str:
    """One line naming every ticker's outcome (with its as_of date when counting replayed nights)."""

    def name(o: TickerOutcome) -> str:
        return f"{o.ticker} {o.as_of}" if unit != "tickers" and o.as_of else o.ticker

    parts = [
        f"{name(o)} completed (served {o.served})" if o.status == "completed" else f"{name(o)} failed: {o.error}"
        for o in outcomes
    ]
    done = sum(o.status == "completed" for o in outcomes)
    return f"{done} of {len(outcomes)} {unit} completed: " + "; ".join(parts)


@flow(name="nightly", description="Retrain every ticker of the plan after the market close.")
def nightly(plan: NightlyPlan = NightlyPlan()) -> list[TickerOutcome]:
    """One night over the plan's tickers: each stage once over all of them, forecasting chunk by chunk on the
    plan's runner (processes, threads or Dask); a table artifact lists every ticker's outcome."""
    warehouse = Warehouse(resolve_root(plan.settings.warehouse))
    fetch = plan.fetch
    batching = Batching(fetch.batch_size, fetch.concurrency, Backoff(fetch.retries, fetch.backoff_seconds))
    with shared_api(), build_task_runner(plan.runner) as runner:

        def submit(root: str, forecasting: ForecastPlan, items: list[ChunkItem]) -> Callable[[], list[ChunkOutcome]]:
            future = runner.submit(forecast_chunk, {"warehouse_root": root, "forecasting": forecasting, "items": items})
            return future.result

        night = run_night(
            warehouse,
            plan.settings,
            list(plan.tickers),
            submit,
            plan.runner.chunk_size(len(plan.tickers)),
            batching=batching,
        )
    outcomes = [night.outcomes[t] for t in plan.tickers]
    create_table_artifact(key="nightly-outcomes", table=[o.__dict__ for o in outcomes], description=summarize(outcomes))
    get_run_logger().info(summarize(outcomes))
    if any(o.status != "completed" for o in outcomes):
        raise TickersFailed(summarize(outcomes), outcomes)
    return outcomes
