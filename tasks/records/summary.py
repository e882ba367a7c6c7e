"""Human-readable summaries of a night: the command line's lines, the Prefect UI's report and tables."""

from __future__ import annotations

import base64
import json
import re

import pandas as pd

from tasks.forecasting.tonight import NightResult


def artifact_key(prefix: str, ticker: str) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes) per ticker, e.g. report-gspc for ^GSPC."""
    slug = re.sub(r"[^a-z0-9]+", "-", ticker.lower()).strip("-")
    return f"{prefix}-{slug}"


def plot_data_url(png: bytes) -> str:
    """The plot as a data: URL, so the UI shows it without serving files."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _number(value: object, digits: int = 3) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:.{digits}f}"


def leaderboard_rows(board: pd.DataFrame) -> list[dict[str, object]]:
    """The leaderboard as JSON-safe table-artifact rows."""
    return [
        {
            "candidate": r["candidate"],
            "forecasts": int(r["n"]),
            **{
                k: None if pd.isna(r[k]) else round(float(r[k]), 4)
                for k in ("mase", "naive_mase", "coverage_80", "coverage_95", "interval_vs_naive")
            },
        }
        for r in board.to_dict("records")
    ]


def path_text(served: pd.DataFrame) -> str:
    """'2013-03-04 806.19 [790.2, 822.3]' per horizon: the forecast and its 80% interval."""
    return ", ".join(
        f"{r.target_date} {r.forecast:.2f} [{r.lower_80:.2f}, {r.upper_80:.2f}]" for r in served.itertuples()
    )


def scores_table(board: pd.DataFrame) -> str:
    """Candidates by MASE (mean over horizons) beside naive's, with interval coverage and the interval score
    over naive's (IS/naive)."""
    head = f"  {'candidate':<24}{'forecasts':>10}{'MASE':>9}{'naive':>9}{'cover80':>9}{'cover95':>9}{'IS/naive':>9}"
    lines = [head]
    lines += [
        f"  {r.candidate:<24}{int(r.n):>10}{_number(r.mase):>9}{_number(r.naive_mase):>9}"
        f"{_number(r.coverage_80, 2):>9}{_number(r.coverage_95, 2):>9}{_number(r.interval_vs_naive):>9}"
        for r in board.itertuples()
    ]
    return "\n".join(lines)


def fits_text(result: NightResult) -> str:
    """One item per candidate: how it was fitted and how long it took."""
    return "; ".join(
        f"{f.candidate} {f.training} {f.seconds:.1f} s" + (f" ({f.epochs} epochs)" if f.epochs else "")
        for f in result.fits
    )


def night_text(result: NightResult, board: pd.DataFrame, sql: str) -> str:
    """The lines `nightcast run` prints when a night completes, ending with a query to try (sql)."""
    served = result.served
    cold = (
        f"; cold-start backtest of {', '.join(result.backtested)} in {result.backtest_seconds:.1f} s"
        if result.backtested
        else ""
    )
    return "\n".join(
        [
            f"run {result.run_id} completed: {result.ticker} as of {result.as_of}, {len(result.fits)} candidates "
            f"fitted on {result.n_days} days ({result.data_start}..{result.as_of}) "
            f"in {result.train_seconds:.1f} s{cold}",
            f"training:  {fits_text(result)}",
            "evidence (out of sample, realized forecasts of the last origins):",
            scores_table(board),
            f"served:    {result.decision.champion} ({result.decision.action}: {result.decision.reason})",
            f"forecast as of {result.as_of} by {served['model_version'].iloc[0]}, 80% interval in brackets: "
            + path_text(served),
            f"plot:      {result.plot_path}",
            f"models:    {result.model_folder}",
            f"warehouse: {result.warehouse}",
            f'try:       nightcast query "{sql}"',
        ]
    )


def report_markdown(result: NightResult, settings_json: str) -> str:
    """The run report shown in the Prefect UI: data, decision, served path, evidence, settings."""
    served = result.served
    lines = [
        f"# {result.ticker}: run `{result.run_id}`",
        "",
        f"Data {result.data_start} .. {result.as_of} ({result.n_days} days); {len(result.fits)} candidates "
        f"fitted on all of it in {result.train_seconds:.1f} s.",
        "",
        f"**Served: {result.decision.champion}** ({result.decision.action}). {result.decision.reason}.",
        "",
        "| target date | forecast | 80% | 95% |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r.target_date} | {r.forecast:.2f} | {r.lower_80:.2f} – {r.upper_80:.2f} | "
        f"{r.lower_95:.2f} – {r.upper_95:.2f} |"
        for r in served.itertuples()
    ]
    lines += ["", "| candidate | training | seconds |", "|---|---|---:|"]
    lines += [f"| {f.candidate} | {f.training} | {f.seconds:.1f} |" for f in result.fits]
    lines += ["", "| setting | value |", "|---|---|"]
    lines += [f"| {key} | {value} |" for key, value in json.loads(settings_json).items()]
    lines += [
        "",
        f"- plot: `{result.plot_path}`",
        f"- models: `{result.model_folder}`",
        f"- validation (Great Expectations Data Docs): `{result.data_docs}`",
        f"- warehouse: `{result.warehouse}`",
    ]
    return "\n".join(lines)


def backfill_text(outcomes: list, accuracy: pd.DataFrame) -> str:
    """One line per replayed night, then the served path's realized accuracy by horizon beside naive."""
    lines = [
        f"{o.as_of or '?':10}  {o.ticker:8} {o.status:9} "
        + (
            f"served {o.served} ({o.action}); fitted in {o.train_seconds:.1f} s ({o.training})"
            if o.status == "completed"
            else str(o.error)
        )
        for o in outcomes
    ]
    if accuracy.empty:
        return "\n".join(lines + ["no forecast has been realized yet (replay more days)"])
    table = accuracy.assign(mae_vs_naive=accuracy["mae"] / accuracy["naive_mae"])
    for level in (80, 95):
        if f"interval_score_{level}" in table.columns:
            score, naive = table.pop(f"interval_score_{level}"), table.pop(f"naive_interval_score_{level}")
            table[f"is{level}_vs_naive"] = score / naive
    lines += [
        "",
        "served forecasts realized so far, by horizon (errors in price units; coverage = share of closes "
        "inside the interval; is80/is95_vs_naive = interval score over naive's own):",
        table.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
    ]
    return "\n".join(lines)
