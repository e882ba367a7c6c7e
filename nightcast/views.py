"""The derived views every query connection defines over the tables (nightcast/schema.py): the models of
the registry, realized forecasts beside naive, and the accuracy views built on them."""

from __future__ import annotations

from nightcast.candidates import NAIVE

_SCORES = """count(*) AS n, avg(abs(error)) AS mae, sqrt(avg(error * error)) AS rmse, avg(scaled_error) AS mase,
        avg(error) AS bias,
        avg(CASE WHEN forecast = naive THEN NULL ELSE (sign(forecast - naive) = sign(actual - naive))::INT END)
            AS direction,
        avg(inside_80::INT) AS coverage_80, avg(inside_95::INT) AS coverage_95,
        avg(upper_80 - lower_80) AS width_80, avg(upper_95 - lower_95) AS width_95,
        avg(interval_score_80) AS interval_score_80, avg(interval_score_95) AS interval_score_95,
        avg(abs(naive_error)) AS naive_mae, sqrt(avg(naive_error * naive_error)) AS naive_rmse,
        avg(naive_scaled_error) AS naive_mase,
        avg(naive_interval_score_80) AS naive_interval_score_80,
        avg(naive_interval_score_95) AS naive_interval_score_95"""


def _interval_score(lower: str, upper: str, level: int) -> str:
    """Gneiting and Raftery's interval score of one (level)% interval against the actual close (tasks/scores.py)."""
    penalty = 200 / (100 - level)  # 2 / alpha
    return (
        f"({upper} - {lower}) + {penalty:g} * "
        f"(greatest({lower} - actual.close, 0) + greatest(actual.close - {upper}, 0))"
    )


DERIVED_VIEWS: dict[str, str] = {
    "models": """
        SELECT * EXCLUDE (latest) FROM (
            SELECT *, row_number() OVER (PARTITION BY model_version ORDER BY decided_at DESC) AS latest
            FROM model_events) WHERE latest = 1
    """,
    "realized_forecasts": f"""
        SELECT f.run_id, f.ticker, coalesce(f.candidate, 'legacy') AS candidate, f.model_version,
               coalesce(f.served, true) AS served, f.as_of, f.target_date, f.horizon, f.forecast,
               f.lower_80, f.upper_80, f.lower_95, f.upper_95,
               actual.close AS actual, f.forecast - actual.close AS error,
               abs(f.forecast - actual.close) / actual.close * 100 AS ape,
               abs(f.forecast - actual.close) / f.scale AS scaled_error,
               origin.close AS naive, origin.close - actual.close AS naive_error,
               abs(origin.close - actual.close) / actual.close * 100 AS naive_ape,
               abs(origin.close - actual.close) / f.scale AS naive_scaled_error,
               actual.close BETWEEN f.lower_80 AND f.upper_80 AS inside_80,
               actual.close BETWEEN f.lower_95 AND f.upper_95 AS inside_95,
               {_interval_score("f.lower_80", "f.upper_80", 80)} AS interval_score_80,
               {_interval_score("f.lower_95", "f.upper_95", 95)} AS interval_score_95,
               {_interval_score("nv.lower_80", "nv.upper_80", 80)} AS naive_interval_score_80,
               {_interval_score("nv.lower_95", "nv.upper_95", 95)} AS naive_interval_score_95
        FROM forecasts f
        JOIN (SELECT ticker, as_of, max(run_id) AS run_id FROM forecasts GROUP BY ticker, as_of) newest
            ON newest.ticker = f.ticker AND newest.as_of = f.as_of AND newest.run_id = f.run_id
        JOIN prices actual ON actual.ticker = f.ticker AND actual.date = f.target_date
        JOIN prices origin ON origin.ticker = f.ticker AND origin.date = f.as_of
        LEFT JOIN forecasts nv ON nv.ticker = f.ticker AND nv.run_id = f.run_id AND nv.as_of = f.as_of
            AND nv.horizon = f.horizon AND nv.candidate = '{NAIVE}'
    """,
    "forecast_accuracy": f"""
        SELECT ticker, candidate, horizon, {_SCORES}
        FROM realized_forecasts GROUP BY ticker, candidate, horizon
    """,
    "served_accuracy": f"""
        SELECT ticker, horizon, {_SCORES}
        FROM realized_forecasts WHERE served GROUP BY ticker, horizon
    """,
    "leaderboard": """
        SELECT ticker, candidate, horizon, n, mase, naive_mase, mae, naive_mae, rmse, naive_rmse, bias, direction,
               coverage_80, coverage_95, width_80, width_95, interval_score_80, interval_score_95,
               naive_interval_score_80, naive_interval_score_95,
               rank() OVER (PARTITION BY ticker, horizon ORDER BY mase NULLS LAST) AS rank
        FROM forecast_accuracy
    """,
}
"""Views computed from the tables: the registry (each model version's latest model_events row); every
forecast of each night's latest run (a rerun of a night, or a holiday's run on the same close, replaces
the earlier one) whose target close is known with naive persistence (the close at as_of) scored on the same day,
and each interval's score beside naive's own interval's of the same run, origin and horizon;
scores per candidate and horizon (forecast_accuracy), of the served path (served_accuracy), and ranked by
MASE (leaderboard)."""
