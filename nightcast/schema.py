"""Column lists shared by ingest, validation and the warehouse: the one place a table's shape is named (the
column groups several tables share, and the price batch's columns, in nightcast/columns.py)."""

from __future__ import annotations

import pyarrow as pa

from nightcast.columns import (
    ADDED_SCORES,
    FLOAT,
    FORECAST_FIELDS,
    PRICE_COLUMNS,
    REQUIRED_PRICE_COLUMNS,
    SCORE_FIELDS,
    TIMESTAMP,
)

_TS, _F = TIMESTAMP, FLOAT
__all__ = ["ADDED_LATER", "PRICE_COLUMNS", "REQUIRED_PRICE_COLUMNS", "SHARED_TABLES", "TABLES"]

ADDED_LATER: dict[str, frozenset[str]] = {"metrics": ADDED_SCORES, "backtest_metrics": ADDED_SCORES}
"""Columns a table gained after released versions had written files of it. Such a table's files are read by
column name, with its empty table beside them, so that a file without them reads them as null; every column
added to a stored table must be listed here (tests/nightcast/test_schema_evolution.py writes files without
them and reads every view)."""

TABLES: dict[str, pa.Schema] = {
    "prices": pa.schema(
        [
            ("ticker", pa.string()),
            ("date", pa.date32()),
            ("open", _F),
            ("high", _F),
            ("low", _F),
            ("close", _F),
            ("adj_close", _F),
            ("volume", _F),
            ("source", pa.string()),
            ("ingested_at", _TS),
        ]
    ),
    "forecasts": pa.schema(FORECAST_FIELDS),
    "metrics": pa.schema(
        [
            ("run_id", pa.string()),
            ("ticker", pa.string()),
            ("as_of", pa.date32()),
            *SCORE_FIELDS,
            ("evidence_start", pa.date32()),
            ("evidence_end", pa.date32()),
            ("created_at", _TS),
            # written by runs before candidates (one row per run: test-period scores of its one model)
            ("model", pa.string()),
            ("target", pa.string()),
            ("mape", _F),
            ("naive_mape", _F),
            ("skill", _F),
            ("n_train", pa.int64()),
            ("n_test", pa.int64()),
            ("epochs", pa.int64()),
            ("train_seconds", _F),
        ]
    ),
    "runs": pa.schema(
        [
            ("run_id", pa.string()),
            ("ticker", pa.string()),
            ("flow_run_id", pa.string()),
            ("status", pa.string()),
            ("started_at", _TS),
            ("finished_at", _TS),
            ("settings", pa.string()),
            ("data_hash", pa.string()),
            ("model_path", pa.string()),
            ("error", pa.string()),
            ("host", pa.string()),
            ("pid", pa.int64()),
        ]
    ),
    "backtests": pa.schema(
        [
            ("run_id", pa.string()),
            ("ticker", pa.string()),
            ("candidate", pa.string()),
            ("fold", pa.int32()),
            ("cutoff", pa.date32()),
            ("as_of", pa.date32()),
            ("date", pa.date32()),
            ("horizon", pa.int32()),
            ("actual", _F),
            ("predicted", _F),
            ("naive", _F),
        ]
    ),
    "backtest_metrics": pa.schema(
        [
            ("run_id", pa.string()),
            ("ticker", pa.string()),
            *SCORE_FIELDS,
            ("folds", pa.int32()),
            ("refit_every", pa.int32()),
            ("train_seconds", _F),
            ("created_at", _TS),
            # written by one-step backtests before candidates
            ("fold", pa.int32()),
            ("cutoff", pa.date32()),
            ("n_days", pa.int64()),
            ("mape", _F),
            ("naive_mape", _F),
            ("skill", _F),
        ]
    ),
    "comparisons": pa.schema(
        [
            ("run_id", pa.string()),
            ("ticker", pa.string()),
            ("candidate", pa.string()),
            ("model", pa.string()),
            ("target", pa.string()),
            ("rmse", _F),
            ("mae", _F),
            ("mape", _F),
            ("naive_rmse", _F),
            ("naive_mae", _F),
            ("naive_mape", _F),
            ("skill", _F),
            ("n_train", pa.int64()),
            ("n_test", pa.int64()),
            ("epochs", pa.int64()),
            ("train_seconds", _F),
            ("test_start", pa.date32()),
            ("test_end", pa.date32()),
            ("created_at", _TS),
        ]
    ),
    "validations": pa.schema(
        [
            ("run_id", pa.string()),
            ("ticker", pa.string()),
            ("success", pa.bool_()),
            ("expectation", pa.string()),
            ("observed", pa.string()),
            ("details", pa.string()),
            ("checked_at", _TS),
        ]
    ),
    "model_events": pa.schema(
        [
            ("model_version", pa.string()),
            ("ticker", pa.string()),
            ("run_id", pa.string()),
            ("candidate", pa.string()),
            ("model", pa.string()),
            ("target", pa.string()),
            ("time_step", pa.int64()),
            ("path", pa.string()),
            ("trained_at", _TS),
            ("data_start", pa.date32()),
            ("data_end", pa.date32()),
            ("train_end", pa.date32()),
            ("training", pa.string()),
            ("parent_version", pa.string()),
            ("full_as_of", pa.date32()),
            ("epochs", pa.int64()),
            ("train_seconds", _F),
            ("status", pa.string()),
            ("reason", pa.string()),
            ("decided_at", _TS),
            # written by runs before candidates
            ("rmse", _F),
            ("naive_rmse", _F),
            ("skill", _F),
            ("recent_days", pa.int64()),
            ("recent_rmse", _F),
            ("champion_recent_rmse", _F),
        ]
    ),
    "decisions": pa.schema(
        [
            ("run_id", pa.string()),
            ("ticker", pa.string()),
            ("as_of", pa.date32()),
            ("champion", pa.string()),
            ("previous", pa.string()),
            ("challenger", pa.string()),
            ("action", pa.string()),
            ("n", pa.int64()),
            ("champion_mase", _F),
            ("challenger_mase", _F),
            ("naive_mase", _F),
            ("evidence_start", pa.date32()),
            ("evidence_end", pa.date32()),
            ("margin", _F),
            ("min_forecasts", pa.int64()),
            ("reason", pa.string()),
            ("decided_at", _TS),
        ]
    ),
    "latest_forecasts": pa.schema(FORECAST_FIELDS),
    "price_revisions": pa.schema(
        [
            ("run_id", pa.string()),
            ("ticker", pa.string()),
            ("date", pa.date32()),
            ("old_close", _F),
            ("new_close", _F),
            ("change", _F),
            ("rule", pa.string()),
            ("detected_at", _TS),
        ]
    ),
    "predictions": pa.schema(
        [
            ("run_id", pa.string()),
            ("ticker", pa.string()),
            ("date", pa.date32()),
            ("actual", _F),
            ("predicted", _F),
            ("naive", _F),
        ]
    ),
}
"""Every warehouse table and its Arrow schema; each is a DuckDB view of the same name.

forecasts: every candidate's path each night (served true for the one served, the others shadow), with
80% and 95% intervals and scale, naive persistence's in-sample MAE at as_of (MASE's denominator).
latest_forecasts: the served path of each ticker's newest night, replaced each night (a small table, so
the morning's question never scans the history).
backtests: out-of-sample forecasts of rolling-origin folds (cold starts and nightcast backtest).
metrics: each night's evidence per candidate and horizon (backtest and live, the last evidence_window
origins); backtest_metrics the same for a nightcast backtest. decisions: the registry's choice of the
served candidate each night with its evidence; model_events: every fitted model version.
price_revisions: stored closes a source later changed (each recorded once), with the rule applied:
keep (the stored close stays) or take (the new close replaced it and the RNN candidates trained from scratch).
predictions: test-day predictions of runs before candidates (nothing writes it any more).
Columns marked as written before candidates read as null in new rows, and new columns as null in old ones."""

SHARED_TABLES = frozenset({"latest_forecasts"})
"""Tables kept in one file for every ticker (bounded by the number of tickers, not of nights), so that a
question over all tickers opens one file; every other table has two files per ticker (nightcast/run_tables.py)."""
