"""The end of a ticker's night: tonight's rows for every table, what the night produced, and the Prefect
artifacts of a run of one ticker (leaderboard table, markdown report, plot) keyed per ticker."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.artifacts import create_image_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from nightcast.settings import Settings
from nightcast.stage_options import ForecastPlan
from nightcast.warehouse import Warehouse
from tasks.forecasting import tonight
from tasks.forecasting.panel import TickerForecasts
from tasks.forecasting.tonight import FitSummary, NightResult
from tasks.records import plot, store, summary
from tasks.scoring import champion, scores

Fits = dict[str, store.StoredFit]


@dataclass(frozen=True)
class NightFiles:
    """Where a ticker's night was written: the warehouse, the plot and the Data Docs page."""

    warehouse: Warehouse
    plot_path: str
    data_docs: str


def night_tables(
    run: store.RunInfo,
    forecasting: ForecastPlan,
    history: pd.DataFrame,
    done: TickerForecasts,
    fits: Fits,
    backtests: list[pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    """forecasts, metrics, model_events, decisions and backtests rows of tonight's run (done: its paths,
    realized forecasts and decision)."""
    now, as_of, decision = pd.Timestamp.now(tz="UTC"), history["date"].iloc[-1].date(), done.decision
    versions, policy = {name: store.model_version(run, name) for name in fits}, forecasting.evidence
    events = [
        store.model_event_row(run, fit, history, forecasting.fitting.time_step, name == decision.champion, now)
        for name, fit in fits.items()
    ]
    realized = done.realized
    tables = {
        "forecasts": tonight.forecast_rows(run.run_id, run.ticker, done.paths, decision.champion, versions),
        "metrics": tonight.evidence_rows(run.run_id, run.ticker, as_of, scores.score_table(realized), realized, now),
        "model_events": pd.DataFrame(events),
        "decisions": champion.decision_row(
            decision, run.run_id, run.ticker, as_of, policy.margin, policy.min_forecasts, now
        ),
    }
    if backtests:
        tables["backtests"] = pd.concat(backtests, ignore_index=True)
    return tables


def night_result(
    run: store.RunInfo,
    history: pd.DataFrame,
    added: int,
    done: TickerForecasts,
    fits: Fits,
    tables: dict[str, pd.DataFrame],
    files: NightFiles,
) -> NightResult:
    """What one ticker's night produced, as the command line and the reports describe it."""
    warehouse = files.warehouse
    return NightResult(
        run_id=run.run_id,
        ticker=run.ticker,
        as_of=history["date"].iloc[-1].date(),
        data_start=history["date"].iloc[0].date(),
        n_days=len(history),
        prices_added=added,
        decision=done.decision,
        paths=tables["forecasts"],
        scores=tables["metrics"],
        fits=tuple(
            FitSummary(
                name, fitted.training, fitted.seconds, fitted.epochs, plan.reason, store.model_version(run, name)
            )
            for name, (fitted, plan, _) in fits.items()
        ),
        backtested=tuple(done.cold),
        backtest_seconds=done.backtest_seconds,
        plot_path=files.plot_path,
        data_docs=files.data_docs,
        warehouse=str(warehouse.root),
        model_folder=str(warehouse.model_dir(run.ticker, run.run_id)),
    )


@task(name="publish_report", cache_policy=NO_CACHE)
def publish_report(result: NightResult, settings: Settings) -> None:
    """Publish the leaderboard table, the markdown report and the plot as artifacts keyed per ticker."""
    ticker, board = result.ticker, plot.leaderboard(result.scores)
    picture = Path(result.plot_path).read_bytes()
    create_table_artifact(
        key=summary.artifact_key("leaderboard", ticker),
        table=summary.leaderboard_rows(board),
        description=f"{ticker}: candidates by out-of-sample MASE (mean over horizons), naive beside",
    )
    create_markdown_artifact(
        key=summary.artifact_key("report", ticker),
        markdown=summary.report_markdown(result, settings.to_json()),
        description=f"{ticker}: latest nightly report",
    )
    create_image_artifact(
        image_url=summary.plot_data_url(picture),
        key=summary.artifact_key("plot", ticker),
        description=f"{ticker}: recent closes and the served forecast with 80%/95% bands",
    )
