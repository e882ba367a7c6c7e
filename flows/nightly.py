"""The `nightly` flow: retrain many tickers concurrently; one ticker's failure never stops the others."""

from dataclasses import dataclass

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows.retrain import retrain
from flows.runners import build_task_runner
from nightcast.errors import ExpectedFailure
from nightcast.plans import NightlyPlan
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse, resolve_root
from tasks import batches, sources, store


@dataclass(frozen=True)
class TickerOutcome:
    """How one ticker's night ended."""

    ticker: str
    status: str
    run_id: str | None = None
    as_of: str | None = None
    served: str | None = None
    action: str | None = None
    error: str | None = None
    train_seconds: float | None = None
    """Fitting time of the night, cold-start backtest folds included."""
    training: str | None = None
    """How the night's RNN candidates trained (full, fine_tune; fit when there is none)."""


class TickersFailed(ExpectedFailure, RuntimeError):
    """Some tickers failed; the message names each ticker's outcome."""


@task(name="retrain_ticker", cache_policy=NO_CACHE)
def retrain_ticker(settings: Settings, prefetched: str | None = None, discard: bool = True) -> TickerOutcome:
    """Run the retrain flow for one ticker and report its outcome instead of raising (no blind retries);
    prefetched: the ticker's rows from the nightly's batch download, deleted once the run has ended (unless
    discard is false: a backfill's nights all read one file)."""
    try:
        result = retrain(settings=settings, prefetched=prefetched)
    except Exception as error:
        return TickerOutcome(ticker=settings.ticker, status="failed", error=str(error).splitlines()[0])
    finally:
        if prefetched and discard:
            Warehouse(resolve_root(settings.warehouse)).discard_incoming(prefetched)
    return TickerOutcome(
        ticker=result.ticker,
        status="completed",
        run_id=result.run_id,
        as_of=str(result.as_of),
        served=result.decision.champion,
        action=result.decision.action,
        train_seconds=result.train_seconds + result.backtest_seconds,
        training=result.rnn_training,
    )


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


@task(name="prefetch", cache_policy=NO_CACHE)
def prefetch(plan: NightlyPlan) -> dict[str, str]:
    """Fetch every ticker's new days from a network source in batches and stage each ticker's rows for its
    run; ticker -> staged file. A source without batches (the bundled sample) is left to each run."""
    settings = plan.settings
    source = sources.source_for(settings)
    if not isinstance(source, batches.BatchSource):
        return {}
    warehouse = Warehouse(resolve_root(settings.warehouse))
    stored = warehouse.query("select ticker, date from prices", tickers=list(plan.tickers))
    windows = batches.plan_windows(
        stored,
        list(plan.tickers),
        settings.start,
        settings.end,
        settings.ingest_overlap,
        settings.fetches_whole_history,
    )
    fetch = plan.fetch
    fetched = batches.fetch_batches(
        source,
        batches.plan_batches(windows, fetch.batch_size),
        fetch.concurrency,
        batches.Backoff(fetch.retries, fetch.backoff_seconds),
    )
    key = store.new_run_id()
    staged = {ticker: str(warehouse.stage_incoming(ticker, key, frame)) for ticker, frame in fetched.items()}
    get_run_logger().info(f"prefetched {len(staged)} of {len(plan.tickers)} tickers in batches of {fetch.batch_size}")
    return staged


@flow(name="retrain-all")
def retrain_all(plan: NightlyPlan) -> list[TickerOutcome]:
    """Fetch the tickers' new days in batches, then submit one retrain per ticker to this flow's task runner
    and collect every outcome (a ticker the batches missed fetches on its own)."""
    staged = prefetch(plan)
    futures = [retrain_ticker.submit(plan.settings_for(t), staged.get(t)) for t in plan.tickers]
    outcomes = [future.result() for future in futures]
    create_table_artifact(key="nightly-outcomes", table=[o.__dict__ for o in outcomes], description=summarize(outcomes))
    get_run_logger().info(summarize(outcomes))
    if any(o.status != "completed" for o in outcomes):
        raise TickersFailed(summarize(outcomes))
    return outcomes


@flow(name="nightly", description="Retrain every ticker of the plan after the market close.")
def nightly(plan: NightlyPlan = NightlyPlan()) -> list[TickerOutcome]:
    """Run retrain-all on the task runner the plan chooses (processes, threads or Dask)."""
    runner = build_task_runner(plan.runner)
    return retrain_all.with_options(task_runner=runner)(plan)  # type: ignore[arg-type]
