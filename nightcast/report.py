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
        f"training:  {result.training.mode} ({result.training.reason})",
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
             + (f"rmse {o.rmse:.3f} vs naive {o.naive_rmse:.3f}" if o.status == "completed" else str(o.error))
             for o in outcomes]
    if accuracy.empty:
        return "\n".join(lines + ["no forecast has been realized yet (replay more days)"])
    lines += ["", "realized forecasts by horizon (errors in price units):",
              accuracy.to_string(index=False, float_format=lambda v: f"{v:.3f}")]
    return "\n".join(lines)
