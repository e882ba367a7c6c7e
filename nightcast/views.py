"""The derived views every query connection defines over the tables (nightcast/schema.py): the models of
the registry, realized forecasts beside naive, and the accuracy views built on them."""

from __future__ import annotations

from nightcast.alert_rules import thresholds_sql
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
    """Gneiting and Raftery's interval score of one (level)% interval against the actual close
    (tasks/scoring/scores.py)."""
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
    "alert_thresholds": thresholds_sql(),
    "ticker_status": """
        SELECT coalesce(r.ticker, d.ticker) AS ticker, d.as_of, r.status, d.champion AS served,
               d.champion = 'naive' AS fallback, d.action, d.previous, d.n, d.mase, d.naive_mase, d.coverage_80,
               d.coverage_95, d.worst_horizon, d.worst_ratio, d.evidence_start, d.evidence_end,
               (SELECT count(DISTINCT later.as_of) FROM decisions later WHERE later.as_of > d.as_of) AS nights_behind,
               r.run_id, r.started_at, split_part(r.error, chr(10), 1) AS error, r.calendar, d.reason
        FROM (
            SELECT * EXCLUDE (pick) FROM (
                SELECT ticker, run_id, status, started_at, error,
                       json_extract_string(settings, '$.calendar') AS calendar,
                       row_number() OVER (PARTITION BY ticker ORDER BY started_at DESC NULLS LAST, run_id DESC) AS pick
                FROM runs
                WHERE coalesce(json_extract(settings, '$.backtest') IS NULL
                               AND json_extract(settings, '$.compare') IS NULL, true))
            WHERE pick = 1) r
        FULL JOIN (
            SELECT d.ticker, d.run_id, d.as_of, d.champion, d.previous, d.action, d.reason, d.evidence_start,
                   d.evidence_end, sum(m.n) AS n, sum(m.mase * m.n) / sum(m.n) AS mase,
                   sum(m.naive_mase * m.n) / sum(m.n) AS naive_mase,
                   sum(m.coverage_80 * m.n) / sum(m.n) FILTER (WHERE m.coverage_80 IS NOT NULL) AS coverage_80,
                   sum(m.coverage_95 * m.n) / sum(m.n) FILTER (WHERE m.coverage_95 IS NOT NULL) AS coverage_95,
                   arg_max(m.horizon, m.mase / m.naive_mase) AS worst_horizon, max(m.mase / m.naive_mase) AS worst_ratio
            FROM (
                SELECT * EXCLUDE (pick) FROM (
                    SELECT *, row_number() OVER (PARTITION BY ticker ORDER BY as_of DESC, decided_at DESC) AS pick
                    FROM decisions)
                WHERE pick = 1) d
            LEFT JOIN metrics m ON m.ticker = d.ticker AND m.run_id = d.run_id AND m.candidate = d.champion
            GROUP BY ALL) d ON d.ticker = r.ticker
    """,
    "alerts": """
        SELECT s.ticker, a.kind, a.since, a.detail
        FROM ticker_status s, alert_thresholds th, LATERAL (VALUES
            ('failed night', timezone('UTC', s.started_at)::DATE,
             'run ' || s.run_id || ' ' || s.status || ': ' || coalesce(s.error, 'no error recorded'),
             s.status IN ('failed', 'abandoned')),
            ('stale', s.as_of,
             printf('last served night %s; %d later night(s) in the warehouse, newest %s',
                    s.as_of, s.nights_behind, (SELECT max(as_of) FROM decisions)),
             s.nights_behind > th.stale_sessions),
            ('worse than naive', s.as_of,
             printf('%s''s MASE is %.3f x naive''s at horizon %d (its worst; %d realized forecasts, origins %s..%s)',
                    s.served, s.worst_ratio, s.worst_horizon, s.n::BIGINT, s.evidence_start, s.evidence_end),
             s.n >= th.min_forecasts AND s.worst_ratio > 1 + th.naive_margin),
            ('coverage 80%', s.as_of,
             printf('%s''s 80%% intervals hold %.3f of %d realized forecasts (band %.2f-%.2f), origins %s..%s',
                    s.served, s.coverage_80, s.n::BIGINT, th.coverage_80_low, th.coverage_80_high, s.evidence_start,
                    s.evidence_end),
             s.n >= th.min_forecasts AND s.coverage_80 NOT BETWEEN th.coverage_80_low AND th.coverage_80_high),
            ('coverage 95%', s.as_of,
             printf('%s''s 95%% intervals hold %.3f of %d realized forecasts (band %.2f-%.2f), origins %s..%s',
                    s.served, s.coverage_95, s.n::BIGINT, th.coverage_95_low, th.coverage_95_high, s.evidence_start,
                    s.evidence_end),
             s.n >= th.min_forecasts AND s.coverage_95 NOT BETWEEN th.coverage_95_low AND th.coverage_95_high),
            ('champion change', s.as_of,
             coalesce(s.previous, 'none') || ' -> ' || s.served || ' (' || s.action || '): ' || s.reason,
             s.action IN ('replaced', 'naive fallback'))) AS a(kind, since, detail, raised)
        WHERE a.raised
        UNION ALL
        SELECT p.ticker, 'revised price', timezone('UTC', p.detected_at)::DATE,
               printf('close of %s changed %.4f -> %.4f (%+.2f%%), rule %s',
                      p.date, p.old_close, p.new_close, (p.new_close / p.old_close - 1) * 100, p.rule)
        FROM price_revisions p
        JOIN (SELECT ticker, max(started_at) AS started_at FROM runs GROUP BY ticker) r ON r.ticker = p.ticker,
             alert_thresholds th
        WHERE p.detected_at >= r.started_at - to_days(th.revision_days)
        ORDER BY ticker, kind, since
    """,
}
"""Views computed from the tables: the registry (each model version's latest model_events row); every
forecast of each night's latest run (a rerun of a night, or a holiday's run on the same close, replaces
the earlier one) whose target close is known with naive persistence (the close at as_of) scored on the same day,
and each interval's score beside naive's own interval's of the same run, origin and horizon;
scores per candidate and horizon (forecast_accuracy), of the served path (served_accuracy), and ranked by
MASE (leaderboard). The morning's views (docs/morning.md): the alert thresholds in force (alert_thresholds,
from nightcast/alert_rules.py); each ticker's latest nightly run and latest served night with the served
candidate's evidence (ticker_status); and one row per open problem (alerts), which reads ticker_status once.
The views are read by other DuckDB clients too (nightcast/duckdb_file.py): alerts formats its counts as BIGINT,
since DuckDB before 1.4 refuses a HUGEINT sum under printf's %d."""
