"""The end of a night: tonight's rows for every table, stored as this run's files, the picture, and the
Prefect artifacts (leaderboard table, markdown report, plot) keyed per ticker."""

from __future__ import annotations

import pandas as pd
from prefect import task
from prefect.artifacts import create_image_artifact, create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from flows import steps
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse
from tasks import forecasters, plot, registry, scores, store, summary, tonight
from tasks.tonight import FitSummary, NightResult

Fits = dict[str, tuple[forecasters.Fitted, registry.Training, str]]


def night_tables(
    run: store.RunInfo,
    settings: Settings,
    history: pd.DataFrame,
    decision: registry.Decision,
    fits: Fits,
    paths: list[pd.DataFrame],
    realized: pd.DataFrame,
    backtests: list[pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    """forecasts, metrics, model_events, decisions and backtests rows of tonight's run."""
    now, as_of = pd.Timestamp.now(tz="UTC"), history["date"].iloc[-1].date()
    versions = {name: store.model_version(run, name) for name in fits}
    events = [
        store.model_event_row(
            run, fitted, plan, path, history, settings.time_step, name == decision.champion, plan.reason, now
        )
        for name, (fitted, plan, path) in fits.items()
    ]
    tables = {
        "forecasts": tonight.forecast_rows(run.run_id, run.ticker, paths, decision.champion, versions),
        "metrics": tonight.evidence_rows(run.run_id, run.ticker, as_of, scores.score_table(realized), realized, now),
        "model_events": pd.DataFrame(events),
        "decisions": registry.decision_row(
            decision, run.run_id, run.ticker, as_of, settings.champion_margin, settings.min_forecasts, now
        ),
    }
    if backtests:
        tables["backtests"] = pd.concat(backtests, ignore_index=True)
    return tables


def assemble(
    warehouse: Warehouse,
    run: store.RunInfo,
    settings: Settings,
    history: pd.DataFrame,
    added: int,
    decision: registry.Decision,
    fits: Fits,
    paths: list[pd.DataFrame],
    realized: pd.DataFrame,
    backtests: list[pd.DataFrame],
    backtested: tuple[str, ...],
    backtest_seconds: float,
    data_docs: str,
) -> NightResult:
    """Store tonight's tables and plot, publish the artifacts, and describe the run."""
    tables = night_tables(run, settings, history, decision, fits, paths, realized, backtests)
    board = plot.leaderboard(tables["metrics"])
    served = tables["forecasts"][tables["forecasts"]["served"]].sort_values("horizon")
    picture = plot.render_night(
        history, served, board, f"{run.ticker} as of {served['as_of'].iloc[0]}: served {decision.champion}"
    )
    plot_path = steps.store_results(warehouse, run, tables, picture)
    result = NightResult(
        run_id=run.run_id,
        ticker=run.ticker,
        as_of=history["date"].iloc[-1].date(),
        data_start=history["date"].iloc[0].date(),
        n_days=len(history),
        prices_added=added,
        decision=decision,
        paths=tables["forecasts"],
        scores=tables["metrics"],
        fits=tuple(
            FitSummary(
                name, fitted.training, fitted.seconds, fitted.epochs, plan.reason, store.model_version(run, name)
            )
            for name, (fitted, plan, _) in fits.items()
        ),
        backtested=backtested,
        backtest_seconds=backtest_seconds,
        plot_path=plot_path,
        data_docs=data_docs,
        warehouse=str(warehouse.root),
        model_folder=str(warehouse.model_dir(run.ticker, run.run_id)),
    )
    publish_report(result, settings, board, picture)
    return result


@task(name="publish_report", cache_policy=NO_CACHE)
def publish_report(result: NightResult, settings: Settings, board: pd.DataFrame, picture: bytes) -> None:
    """Publish the leaderboard table, the markdown report and the plot as artifacts keyed per ticker."""
    ticker = result.ticker
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
