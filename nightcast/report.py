"""Human-readable summaries of a run, for the command line (and later the Prefect UI)."""

from __future__ import annotations

import base64
import json
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from flows.retrain import RunResult


def metrics_table(result: "RunResult") -> str:
    """Model vs naive persistence, in price units."""
    model, naive = result.evaluation.model, result.evaluation.naive
    lines = [f"{'':8}{'RMSE':>10}{'MAE':>10}{'MAPE':>9}",
             f"{'model':8}{model.rmse:>10.3f}{model.mae:>10.3f}{model.mape:>8.2f}%",
             f"{'naive':8}{naive.rmse:>10.3f}{naive.mae:>10.3f}{naive.mape:>8.2f}%"]
    return "\n".join(lines)


def summary_text(result: "RunResult") -> str:
    """The few lines `nightcast run` prints when a run completes."""
    p = result.predictions
    skill = result.evaluation.skill
    verdict = "better than" if skill > 0 else "not better than"
    sql = f"select * from forecasts where ticker = '{result.ticker}' order by as_of desc"
    return "\n".join([
        f"run {result.run_id} completed: {result.ticker}, {result.n_train} training windows, "
        f"{result.n_test} test days, trained in {result.train_seconds:.1f} s",
        f"training:  {result.training.mode} {result.model}, target {result.target} ({result.training.reason})",
        metrics_table(result),
        f"skill 1 - RMSE/RMSE_naive = {skill:+.3f} ({verdict} tomorrow = today)",
        f"champion:  {result.decision.reason}",
        f"forecast as of {p.as_of} by {result.forecast_version}: "
        + ", ".join(f"{d} {v:.2f}" for d, v in zip(p.target_dates, p.forecasts)),
        f"plot:      {result.plot_path}",
        f"model:     {result.model_path}",
        f"warehouse: {result.warehouse}",
        f'try:       nightcast query "{sql}"',
    ])


def artifact_key(prefix: str, ticker: str) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes) per ticker, e.g. report-gspc for ^GSPC."""
    slug = re.sub(r"[^a-z0-9]+", "-", ticker.lower()).strip("-")
    return f"{prefix}-{slug}"


def metrics_rows(result: "RunResult") -> list[dict[str, object]]:
    """The metrics as table-artifact rows: the model and the naive baseline, side by side."""
    rows = []
    for name, scores in (("simple_rnn", result.evaluation.model), ("naive persistence", result.evaluation.naive)):
        rows.append({"model": name, "rmse": round(scores.rmse, 4), "mae": round(scores.mae, 4),
                     "mape_percent": round(scores.mape, 4)})
    return rows


def report_markdown(result: "RunResult", settings_json: str) -> str:
    """The run report shown in the Prefect UI: data, settings, metrics, forecast, where things are."""
    p, ev = result.predictions, result.evaluation
    settings = json.loads(settings_json)
    lines = [f"# {result.ticker}: run `{result.run_id}`", "",
             f"Data {result.data_start} .. {result.data_end}; test period {p.dates.iloc[0]:%Y-%m-%d} .. "
             f"{p.dates.iloc[-1]:%Y-%m-%d} ({result.n_train} training windows, {result.n_test} test days).", "",
             "| | RMSE | MAE | MAPE |", "|---|---:|---:|---:|",
             f"| model | {ev.model.rmse:.3f} | {ev.model.mae:.3f} | {ev.model.mape:.2f}% |",
             f"| naive (tomorrow = today) | {ev.naive.rmse:.3f} | {ev.naive.mae:.3f} | {ev.naive.mape:.2f}% |", "",
             f"Skill 1 − RMSE/RMSE_naive: **{ev.skill:+.3f}**. Trained in {result.train_seconds:.1f} s "
             f"({result.training.mode}: {result.training.reason}).", "",
             f"Registry: {result.decision.reason}.", "",
             f"Forecast for **{p.target_date}** (as of {p.as_of}, by `{result.forecast_version}`): "
             f"**{p.forecast:.2f}**; then "
             + ", ".join(f"{d}: {v:.2f}" for d, v in zip(p.target_dates[1:], p.forecasts[1:])), "",
             "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in settings.items()]
    lines += ["", f"- plot: `{result.plot_path}`", f"- model: `{result.model_path}`",
              f"- validation (Great Expectations Data Docs): `{result.data_docs}`",
              f"- warehouse: `{result.warehouse}`"]
    return "\n".join(lines)


def plot_data_url(png: bytes) -> str:
    """The plot as a data: URL, so the UI shows it without serving files."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def backfill_text(outcomes, accuracy) -> str:
    """One line per replayed night, then realized forecast accuracy by horizon beside naive."""
    lines = [f"{o.as_of or '?':10}  {o.ticker:8} {o.status:9} "
             + (f"rmse {o.rmse:.3f} vs naive {o.naive_rmse:.3f}  {o.training:9} "
                f"{'promoted' if o.promoted else 'kept the champion'}" if o.status == "completed" else str(o.error))
             for o in outcomes]
    if accuracy.empty:
        return "\n".join(lines + ["no forecast has been realized yet (replay more days)"])
    lines += ["", "realized forecasts by horizon (errors in price units):",
              accuracy.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    return "\n".join(lines)


SCORE_COLUMNS = ("rmse", "naive_rmse", "mae", "naive_mae", "mape", "naive_mape", "skill", "train_seconds")


def _fold_label(fold, cutoff) -> tuple[str, str]:
    """('3', '2012-10-04') for a fold, ('all', '') for the overall row (fold null)."""
    import pandas as pd

    return ("all", "") if pd.isna(fold) else (str(int(fold)), str(cutoff))


def _score(value: float) -> str:
    return "nan" if value != value else f"{value:.3f}"


def backtest_table(scores) -> str:
    """Scores per fold and overall (fold 'all'), model beside naive persistence; errors in price units."""
    lines = [f"{'fold':>4}  {'cutoff':10} {'days':>5} {'RMSE':>9} {'naive':>9} {'MAE':>9} {'naive':>9} "
             f"{'MAPE':>7} {'naive':>7} {'skill':>7}"]
    for r in scores.itertuples():
        fold, cutoff = _fold_label(r.fold, r.cutoff)
        lines.append(f"{fold:>4}  {cutoff:10} {r.n_days:>5} {_score(r.rmse):>9} {_score(r.naive_rmse):>9} "
                     f"{_score(r.mae):>9} {_score(r.naive_mae):>9} {r.mape:>6.2f}% {r.naive_mape:>6.2f}% "
                     f"{r.skill:>+7.3f}")
    return "\n".join(lines)


def backtest_text(result) -> str:
    """What `nightcast backtest` prints: one row per fold, the overall row, a verdict and a query to try."""
    scores = result.metrics
    folds, overall = scores.iloc[:-1], scores.iloc[-1]
    better = int((folds["skill"] > 0).sum())
    verdict = "better than" if overall["skill"] > 0 else "not better than"
    sql = (f"select fold, cutoff, n_days, rmse, naive_rmse, skill from backtest_metrics "
           f"where run_id = '{result.run_id}' order by fold nulls last")
    return "\n".join([
        f"backtest {result.run_id} completed: {result.ticker}, {len(folds)} folds refit every {result.refit_every} "
        f"trading days, {int(overall['n_days'])} days predicted ({result.first_day} .. {result.last_day}), "
        f"trained in {overall['train_seconds']:.1f} s",
        backtest_table(scores),
        f"overall skill 1 - RMSE/RMSE_naive = {overall['skill']:+.3f} ({verdict} tomorrow = today); "
        f"model better than naive in {better} of {len(folds)} folds",
        f"warehouse: {result.warehouse}",
        f'try:       nightcast query "{sql}"',
    ])


def backtest_artifact_rows(scores) -> list[dict[str, object]]:
    """The scores as table-artifact rows (fold 'all' for the overall row), rounded and JSON-safe."""
    rows = []
    for r in scores.to_dict("records"):
        fold, cutoff = _fold_label(r["fold"], r["cutoff"])
        rows.append({"fold": fold, "cutoff": cutoff, "n_days": int(r["n_days"]),
                     **{k: None if r[k] != r[k] else round(float(r[k]), 4) for k in SCORE_COLUMNS}})
    return rows
