"""The column groups several warehouse tables share (a forecast path with its intervals, a candidate's scores
at a horizon) and the price batch's columns every source is converted to; nightcast/schema.py builds the
tables from them."""

from __future__ import annotations

import pyarrow as pa

PRICE_COLUMNS: tuple[str, ...] = (
    "ticker",
    "date",
    "open",
    "high",
    "low",
    "close",
    "adj_close",
    "volume",
)
"""The normalized price schema every source is converted to (adj_close null where a source has none)."""

REQUIRED_PRICE_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume")
"""Columns a source must provide and the later stages read; a batch without any of them is refused."""

TIMESTAMP = pa.timestamp("us", tz="UTC")
FLOAT = pa.float64()
"""The types of the tables' times (UTC, microseconds) and measures."""
_F = FLOAT
SCORE_FIELDS = [
    ("candidate", pa.string()),
    ("horizon", pa.int32()),
    ("n", pa.int64()),
    ("mae", _F),
    ("rmse", _F),
    ("mase", _F),
    ("bias", _F),
    ("direction", _F),
    ("coverage_80", _F),
    ("coverage_95", _F),
    ("width_80", _F),
    ("width_95", _F),
    ("naive_mae", _F),
    ("naive_rmse", _F),
    ("naive_mase", _F),
    ("interval_score_80", _F),
    ("interval_score_95", _F),
    ("naive_interval_score_80", _F),
    ("naive_interval_score_95", _F),
]
"""Scores of one candidate at one horizon beside naive persistence (tasks/scoring/scores.py); the interval scores were
added later (issue 25): in files written before, they read as null (schema.ADDED_LATER lists them)."""
ADDED_SCORES = frozenset(
    {"interval_score_80", "interval_score_95", "naive_interval_score_80", "naive_interval_score_95"}
)
INTERVALS = [("lower_80", _F), ("upper_80", _F), ("lower_95", _F), ("upper_95", _F)]

FORECAST_FIELDS = [
    ("run_id", pa.string()),
    ("ticker", pa.string()),
    ("as_of", pa.date32()),
    ("target_date", pa.date32()),
    ("horizon", pa.int32()),
    ("forecast", _F),
    ("model_version", pa.string()),
    ("candidate", pa.string()),
    ("served", pa.bool_()),
    *INTERVALS,
    ("scale", _F),
]
"""A forecast path's rows: every candidate's each night (forecasts), the newest served one (latest_forecasts)."""
