"""Human-readable summaries of a run, for the command line (and later the Prefect UI)."""

from __future__ import annotations

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
        metrics_table(result),
        f"skill 1 - RMSE/RMSE_naive = {skill:+.3f} ({verdict} tomorrow = today)",
        f"forecast for {p.target_date} (as of {p.as_of}): {p.forecast:.2f}",
        f"plot:      {result.plot_path}",
        f"model:     {result.model_path}",
        f"warehouse: {result.warehouse}",
        f'try:       nightcast query "{sql}"',
    ])
