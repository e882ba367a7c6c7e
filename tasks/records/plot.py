"""The run's picture: the last ~120 closes, the served path with its 80% and 95% bands, and the leaderboard."""

from __future__ import annotations

import io

import pandas as pd

HISTORY_DAYS = 120
TOP_ROWS = 6


def leaderboard(scores: pd.DataFrame) -> pd.DataFrame:
    """Candidates ranked by MASE averaged over horizons (tonight's evidence), naive's beside, best first, with
    interval coverage and the interval score over naive's own (80% and 95% averaged; below 1 is better)."""
    columns = ["candidate", "n", "mase", "naive_mase", "coverage_80", "coverage_95", "interval_vs_naive"]
    if scores.empty:
        return pd.DataFrame(columns=columns)
    ratios = [
        scores[f"interval_score_{level}"] / scores[f"naive_interval_score_{level}"]
        for level in (80, 95)
        if f"naive_interval_score_{level}" in scores.columns
    ]
    scores = scores.assign(interval_vs_naive=sum(ratios) / len(ratios) if ratios else float("nan"))
    table = scores.groupby("candidate").agg(
        n=("n", "sum"),
        mase=("mase", "mean"),
        naive_mase=("naive_mase", "mean"),
        coverage_80=("coverage_80", "mean"),
        coverage_95=("coverage_95", "mean"),
        interval_vs_naive=("interval_vs_naive", "mean"),
    )
    return table.sort_values("mase").reset_index()[columns]


def render_night(history: pd.DataFrame, served: pd.DataFrame, board: pd.DataFrame, title: str) -> bytes:
    """A PNG: recent closes, the served forecast path with its bands, and the top rows of the leaderboard."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    recent = history.tail(HISTORY_DAYS)
    figure = Figure(figsize=(11, 6), dpi=100)
    axes, table_axes = figure.subplots(2, 1, height_ratios=[3, 1])
    axes.plot(pd.to_datetime(recent["date"]), recent["close"], label="close", linewidth=1.2, color="black")
    dates = pd.to_datetime(pd.concat([recent["date"].tail(1), served["target_date"]]))
    last = recent["close"].iloc[-1]
    for level, alpha in ((95, 0.15), (80, 0.3)):
        lower = [last, *served[f"lower_{level}"]]
        upper = [last, *served[f"upper_{level}"]]
        axes.fill_between(dates, lower, upper, alpha=alpha, color="tab:blue", label=f"{level}% interval")
    axes.plot(
        dates, [last, *served["forecast"]], marker="o", color="tab:blue", label=f"served: {served['candidate'].iloc[0]}"
    )
    axes.set_title(title)
    axes.set_ylabel("close")
    axes.legend(loc="upper left")
    axes.tick_params(axis="x", labelrotation=20)
    table_axes.axis("off")
    top = board.head(TOP_ROWS)
    if len(top):
        cells = [[r.candidate, int(r.n), f"{r.mase:.3f}", f"{r.naive_mase:.3f}"] for r in top.itertuples()]
        table_axes.table(cellText=cells, colLabels=["candidate", "forecasts", "MASE", "naive MASE"], loc="center")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
