"""Named reads of the warehouse: each question the flows and the command line ask, typed, with its SQL here.

Every read takes the tickers it is about (a night asks once for all of its tickers, a run of one ticker for
one), so a night's bookkeeping is a fixed number of queries whatever the size of its universe. Where the
question depends on each ticker's night (its as_of), the nights are handed in as a mapping and inlined as a
VALUES list (tickers are validated symbols and dates are dates: nothing else reaches the SQL text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from nightcast.results import Answer
    from nightcast.warehouse import Warehouse


def _nights(as_of: Mapping[str, dt.date]) -> str:
    """A VALUES list of (ticker, as_of) pairs for a WITH clause."""
    from nightcast.readonly_files import sql_text
    from nightcast.tickers import check_ticker

    pairs = (
        f"({sql_text(check_ticker(t))}, DATE '{dt.date.fromisoformat(str(d)).isoformat()}')" for t, d in as_of.items()
    )
    return "nights(ticker, night) as (values " + ", ".join(pairs) + ")"


def _has(warehouse: Warehouse, table: str, tickers: Sequence[str]) -> bool:
    """Whether any of the tickers has rows stored in the table (no query when none has a file, or no ticker
    is asked about)."""
    return bool(tickers) and bool(warehouse.table_files(table, list(tickers)))


def _empty(columns: dict[str, str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})


def _empty_table(table: str) -> pd.DataFrame:
    """A table's columns with no rows, typed as a query of the table returns them."""
    import pyarrow as pa

    from nightcast.schema import TABLES

    def dtype(kind: pa.DataType) -> str:
        if pa.types.is_floating(kind):
            return "float64"
        if pa.types.is_integer(kind):
            return "int64"
        if pa.types.is_boolean(kind):
            return "bool"
        return "datetime64[us]" if pa.types.is_date(kind) or pa.types.is_timestamp(kind) else "object"

    return _empty({field.name: dtype(field.type) for field in TABLES[table]})


def price_dates(warehouse: Warehouse, ticker: str) -> pd.Series:
    """The dates of the ticker's stored prices, oldest first (empty when none are stored)."""
    if not _has(warehouse, "prices", [ticker]):
        return _empty({"date": "datetime64[us]"})["date"]
    dates = warehouse.query("select date from prices where ticker = ? order by date", [ticker], tickers=[ticker])
    return dates["date"]


def stored_prices(warehouse: Warehouse, tickers: Sequence[str], until: dt.date | None = None) -> pd.DataFrame:
    """Every stored price row of the tickers (up to `until` when given), by ticker then date."""
    if not _has(warehouse, "prices", tickers):
        return _empty_table("prices")
    where = "" if until is None else f" where date <= DATE '{until.isoformat()}'"
    return warehouse.query(f"select * from prices{where} order by ticker, date", tickers=list(tickers))


def recorded_revisions(warehouse: Warehouse, tickers: Sequence[str]) -> pd.DataFrame:
    """Every recorded price revision of the tickers: ticker, date, new_close, rule, detected_at."""
    columns = {"ticker": "object", "date": "object", "new_close": "float64", "rule": "object", "detected_at": "object"}
    if not _has(warehouse, "price_revisions", tickers):
        return _empty(columns)
    return warehouse.query(
        "select ticker, date, new_close, rule, detected_at from price_revisions", tickers=list(tickers)
    )


def running_runs(warehouse: Warehouse, tickers: Sequence[str]) -> pd.DataFrame:
    """The tickers' runs still marked running (every column of runs)."""
    if not _has(warehouse, "runs", tickers):
        return _empty_table("runs")
    return warehouse.query("select * from runs where status = 'running'", tickers=list(tickers))


def stored_forecasts(warehouse: Warehouse, as_of: Mapping[str, dt.date], window: int) -> pd.DataFrame:
    """Each ticker's candidate forecasts whose target is on or before its night: live ones (with their
    intervals) and backtest ones, one per candidate, origin and horizon (a live forecast wins, then the latest
    run), of the ticker's last `window` origins (0: all), so that what a night scores stays bounded."""
    types = {"ticker": "object", "candidate": "object", "as_of": "datetime64[us]", "target_date": "datetime64[us]"}
    types |= {"horizon": "int32", "forecast": "float64"}
    types |= dict.fromkeys(("lower_80", "upper_80", "lower_95", "upper_95"), "float64")
    columns, tickers = list(types), list(as_of)
    if not (_has(warehouse, "forecasts", tickers) or _has(warehouse, "backtests", tickers)):
        return _empty(types)
    return warehouse.query(
        f"""
        with {_nights(as_of)},
        raw as (
            select f.ticker, run_id, candidate, as_of, target_date, horizon, forecast, lower_80, upper_80, lower_95,
                   upper_95, 0 as source
            from forecasts f join nights n on f.ticker = n.ticker and f.target_date <= n.night
            where candidate is not null
            union all
            select b.ticker, run_id, candidate, as_of, date, horizon, predicted, null, null, null, null, 1
            from backtests b join nights n on b.ticker = n.ticker and b.date <= n.night
            where candidate is not null and horizon is not null),
        origins as (
            select ticker, as_of, dense_rank() over (partition by ticker order by as_of desc) as back
            from (select distinct ticker, as_of from raw)),
        kept as (
            select raw.* from raw join origins using (ticker, as_of) where {int(window)} = 0 or back <= {int(window)})
        select {", ".join(columns)} from (
            select *, row_number() over (
                partition by ticker, candidate, as_of, horizon order by source, run_id desc) as pick
            from kept)
        where pick = 1""",
        tickers=tickers,
    )


def backtested(warehouse: Warehouse, tickers: Sequence[str]) -> dict[str, set[str]]:
    """For each ticker, the candidates it has stored multi-horizon backtest forecasts of."""
    found: dict[str, set[str]] = {t: set() for t in tickers}
    if _has(warehouse, "backtests", tickers):
        rows = warehouse.query(
            "select distinct ticker, candidate from backtests where candidate is not null and horizon is not null",
            tickers=list(tickers),
        )
        for ticker, name in zip(rows["ticker"], rows["candidate"], strict=True):
            found[ticker].add(name)
    return found


def latest_versions(warehouse: Warehouse, as_of: Mapping[str, dt.date]) -> pd.DataFrame:
    """Each ticker's and candidate's latest fitted version on data before its night: ticker, candidate,
    model_version, path, full_as_of, data_end, trained_at, training."""
    columns = ["ticker", "candidate", "model_version", "path", "full_as_of", "data_end", "trained_at", "training"]
    if not _has(warehouse, "model_events", list(as_of)):
        return _empty(dict.fromkeys(columns, "object"))
    return warehouse.query(
        f"""
        with {_nights(as_of)}
        select {", ".join(columns)} from (
            select m.*, row_number() over (
                partition by m.ticker, m.candidate order by m.data_end desc, m.trained_at desc) as pick
            from model_events m join nights n on m.ticker = n.ticker and m.data_end < n.night)
        where pick = 1""",
        tickers=list(as_of),
    )


def current_champions(warehouse: Warehouse, as_of: Mapping[str, dt.date]) -> dict[str, str | None]:
    """The candidate each ticker served on its latest night before its night tonight (None: a cold start)."""
    found: dict[str, str | None] = dict.fromkeys(as_of)
    if _has(warehouse, "decisions", list(as_of)):
        rows = warehouse.query(
            f"""
            with {_nights(as_of)}
            select ticker, champion from (
                select d.ticker, d.champion, row_number() over (
                    partition by d.ticker order by d.as_of desc, d.decided_at desc) as pick
                from decisions d join nights n on d.ticker = n.ticker and d.as_of < n.night)
            where pick = 1""",
            tickers=list(as_of),
        )
        found.update(zip(rows["ticker"], rows["champion"], strict=True))
    return found


def served_accuracy(warehouse: Warehouse, ticker: str) -> pd.DataFrame:
    """The ticker's served forecasts' realized accuracy by horizon beside naive's: errors, MASE, interval
    coverage and interval scores (the served_accuracy view)."""
    return warehouse.query(
        "select horizon, n, mae, naive_mae, mase, naive_mase, coverage_80, coverage_95, interval_score_80, "
        "naive_interval_score_80, interval_score_95, naive_interval_score_95 "
        "from served_accuracy where ticker = ? order by horizon",
        [ticker],
        tickers=[ticker],
    )


def ticker_status(warehouse: Warehouse) -> Answer:
    """Each ticker's latest nightly run and served night (the ticker_status view), by ticker, without pandas."""
    return warehouse.query_rows("select * from ticker_status order by ticker")


def open_alerts(warehouse: Warehouse) -> int:
    """How many rows the alerts view holds now."""
    return int(warehouse.query_rows("select count(*) from alerts").rows[0][0])


EXAMPLES = {
    "latest_forecasts": "select * from latest_forecasts where ticker = {ticker} order by horizon",
    "backtest_metrics": "select candidate, horizon, n, mase, naive_mase, mae, naive_mae from backtest_metrics "
    "where run_id = {run_id} order by candidate, horizon",
    "comparisons": "select ticker, candidate, rmse, naive_rmse, skill from comparisons order by ticker, skill desc",
}
"""The queries the command line suggests after a command (`try: nightcast query "..."`), by the table they
read; values are quoted as SQL strings."""


def example_query(table: str, **values: str) -> str:
    """The suggested query of a table, its placeholders filled with the values as SQL string literals."""
    from nightcast.readonly_files import sql_text

    return EXAMPLES[table].format(**{name: sql_text(value) for name, value in values.items()})


def realized_rows(warehouse: Warehouse, ticker: str) -> pd.DataFrame:
    """Every realized forecast of the ticker (the realized_forecasts view: each candidate's newest forecast per
    night and horizon with its bands, the actual close and naive's), by candidate, night and horizon."""
    return warehouse.query(
        "select * from realized_forecasts where ticker = ? order by candidate, as_of, horizon",
        [ticker],
        tickers=[ticker],
    )
