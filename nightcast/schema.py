"""Column lists shared by ingest, validation and the warehouse: the one place a table's shape is named."""

from __future__ import annotations

import pyarrow as pa

PRICE_COLUMNS: tuple[str, ...] = (
    "ticker", "date", "open", "high", "low", "close", "adj_close", "volume",
)
"""The normalized price schema every source is converted to (adj_close null where a source has none)."""

_TS = pa.timestamp("us", tz="UTC")

TABLES: dict[str, pa.Schema] = {
    "prices": pa.schema([
        ("ticker", pa.string()), ("date", pa.date32()), ("open", pa.float64()),
        ("high", pa.float64()), ("low", pa.float64()), ("close", pa.float64()),
        ("adj_close", pa.float64()), ("volume", pa.float64()), ("source", pa.string()),
        ("ingested_at", _TS),
    ]),
    "predictions": pa.schema([
        ("run_id", pa.string()), ("ticker", pa.string()), ("date", pa.date32()),
        ("actual", pa.float64()), ("predicted", pa.float64()), ("naive", pa.float64()),
    ]),
    "forecasts": pa.schema([
        ("run_id", pa.string()), ("ticker", pa.string()), ("as_of", pa.date32()),
        ("target_date", pa.date32()), ("horizon", pa.int32()), ("forecast", pa.float64()),
        ("model_version", pa.string()),
    ]),
    "metrics": pa.schema([
        ("run_id", pa.string()), ("ticker", pa.string()), ("model", pa.string()), ("target", pa.string()),
        ("rmse", pa.float64()), ("mae", pa.float64()), ("mape", pa.float64()),
        ("naive_rmse", pa.float64()), ("naive_mae", pa.float64()), ("naive_mape", pa.float64()),
        ("skill", pa.float64()), ("n_train", pa.int64()), ("n_test", pa.int64()),
        ("epochs", pa.int64()), ("train_seconds", pa.float64()), ("created_at", _TS),
    ]),
    "runs": pa.schema([
        ("run_id", pa.string()), ("ticker", pa.string()), ("flow_run_id", pa.string()),
        ("status", pa.string()), ("started_at", _TS), ("finished_at", _TS),
        ("settings", pa.string()), ("data_hash", pa.string()), ("model_path", pa.string()),
        ("error", pa.string()), ("host", pa.string()), ("pid", pa.int64()),
    ]),
    "backtests": pa.schema([
        ("run_id", pa.string()), ("ticker", pa.string()), ("fold", pa.int32()), ("cutoff", pa.date32()),
        ("date", pa.date32()), ("actual", pa.float64()), ("predicted", pa.float64()), ("naive", pa.float64()),
    ]),
    "backtest_metrics": pa.schema([
        ("run_id", pa.string()), ("ticker", pa.string()), ("fold", pa.int32()), ("cutoff", pa.date32()),
        ("n_days", pa.int64()), ("rmse", pa.float64()), ("mae", pa.float64()), ("mape", pa.float64()),
        ("naive_rmse", pa.float64()), ("naive_mae", pa.float64()), ("naive_mape", pa.float64()),
        ("skill", pa.float64()), ("train_seconds", pa.float64()), ("created_at", _TS),
    ]),
    "comparisons": pa.schema([
        ("run_id", pa.string()), ("ticker", pa.string()), ("model", pa.string()), ("target", pa.string()),
        ("rmse", pa.float64()), ("mae", pa.float64()), ("mape", pa.float64()),
        ("naive_rmse", pa.float64()), ("naive_mae", pa.float64()), ("naive_mape", pa.float64()),
        ("skill", pa.float64()), ("n_train", pa.int64()), ("n_test", pa.int64()), ("epochs", pa.int64()),
        ("train_seconds", pa.float64()), ("test_start", pa.date32()), ("test_end", pa.date32()),
        ("created_at", _TS),
    ]),
    "validations": pa.schema([
        ("run_id", pa.string()), ("ticker", pa.string()), ("success", pa.bool_()),
        ("expectation", pa.string()), ("observed", pa.string()), ("details", pa.string()),
        ("checked_at", _TS),
    ]),
    "model_events": pa.schema([
        ("model_version", pa.string()), ("ticker", pa.string()), ("run_id", pa.string()),
        ("model", pa.string()), ("target", pa.string()), ("time_step", pa.int64()), ("path", pa.string()),
        ("trained_at", _TS),
        ("data_start", pa.date32()), ("data_end", pa.date32()), ("train_end", pa.date32()),
        ("training", pa.string()), ("parent_version", pa.string()), ("full_as_of", pa.date32()),
        ("rmse", pa.float64()), ("naive_rmse", pa.float64()), ("skill", pa.float64()),
        ("recent_days", pa.int64()), ("recent_rmse", pa.float64()), ("champion_recent_rmse", pa.float64()),
        ("status", pa.string()), ("reason", pa.string()), ("decided_at", _TS),
    ]),
}
"""Every warehouse table and its Arrow schema; each is a DuckDB view of the same name. backtests holds one
row per predicted day of a walk-forward backtest; in backtest_metrics the overall row has fold and cutoff null;
comparisons holds one row per model kind x target of a `nightcast compare` run."""

DERIVED_VIEWS: dict[str, str] = {
    "models": """
        SELECT * EXCLUDE (latest) FROM (
            SELECT *, row_number() OVER (PARTITION BY model_version ORDER BY decided_at DESC) AS latest
            FROM model_events) WHERE latest = 1
    """,
    "forecast_accuracy": """
        SELECT f.run_id, f.ticker, f.model_version, f.as_of, f.target_date, f.horizon, f.forecast,
               actual.close AS actual,
               f.forecast - actual.close AS error,
               abs(f.forecast - actual.close) / actual.close * 100 AS ape,
               origin.close AS naive,
               origin.close - actual.close AS naive_error,
               abs(origin.close - actual.close) / actual.close * 100 AS naive_ape
        FROM forecasts f
        JOIN prices actual ON actual.ticker = f.ticker AND actual.date = f.target_date
        JOIN prices origin ON origin.ticker = f.ticker AND origin.date = f.as_of
    """,
}
"""Views computed from the tables: the registry (each model's latest model_events row: champion,
challenger or retired) and every forecast whose target day's close is known, with the naive
forecast (the close at as_of, for every horizon) scored on the same day."""
