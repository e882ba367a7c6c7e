"""DuckDB over a generated warehouse vs pandas reading the same Parquet files.

The warehouse is written in nightcast's own layout and schemas (predictions/ and forecasts/, one folder
per ticker, one file per run): `tickers` tickers x `runs` runs, each run's predictions file holding
`days` test days and its forecasts file `days` daily as-of dates x 1 horizon, so that each table holds
tickers x runs x days rows (1,000,000 each by default).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

LATEST_SQL = """
select ticker, max_by({'as_of': as_of, 'target_date': target_date, 'forecast': forecast}, (as_of, run_id)) as latest
from forecasts where horizon = 1 group by ticker
"""
MONTHLY_SQL = """
select ticker, year(date) as year, month(date) as month, sqrt(avg((predicted - actual) * (predicted - actual))) as rmse
from predictions group by ticker, year, month
"""


def generate(root: Path, tickers: int = 500, runs: int = 1, days: int = 2000, seed: int = 0) -> dict[str, int]:
    """Write predictions and forecasts files for `tickers` synthetic tickers; returns rows per table."""
    from nightcast.schema import TABLES

    rng = np.random.default_rng(seed)
    all_days = pd.bdate_range("2015-01-01", periods=runs * days)
    rows = {"predictions": 0, "forecasts": 0}
    for t in range(tickers):
        ticker = f"T{t:04d}"
        close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, len(all_days))))
        for r in range(runs):
            run_id = f"2026010{r + 1}T000000Z-{t:06x}"
            span = slice(r * days, (r + 1) * days)
            dates = all_days[span]
            actual = close[span]
            predicted = actual * (1 + rng.normal(0, 0.01, days))
            predictions = pa.table(
                {
                    "run_id": [run_id] * days,
                    "ticker": [ticker] * days,
                    "date": pa.array(dates.date, pa.date32()),
                    "actual": actual,
                    "predicted": predicted,
                    "naive": np.roll(actual, 1),
                },
                schema=TABLES["predictions"],
            )
            targets = (dates + pd.offsets.BDay(1)).date
            forecasts = pa.table(
                {
                    "run_id": [run_id] * days,
                    "ticker": [ticker] * days,
                    "as_of": pa.array(dates.date, pa.date32()),
                    "target_date": pa.array(targets, pa.date32()),
                    "horizon": pa.array(np.ones(days, "int32")),
                    "forecast": predicted,
                    "model_version": [f"simple_rnn-{run_id}"] * days,
                    "candidate": ["simple_rnn"] * days,
                    "served": np.ones(days, bool),
                    **{
                        f"{side}_{level}": predicted * np.exp(sign * z * 0.01)
                        for level, z in ((80, 1.28), (95, 1.96))
                        for side, sign in (("lower", -1), ("upper", 1))
                    },
                    "scale": np.full(days, 0.01) * actual,
                },
                schema=TABLES["forecasts"],
            )
            for name, table in (("predictions", predictions), ("forecasts", forecasts)):
                folder = root / name / f"ticker={ticker}"
                folder.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, folder / f"{run_id}.parquet")
                rows[name] += table.num_rows
    return rows


def _files(root: Path, table: str) -> list[str]:
    """Every Parquet file of a table: what the DuckDB view reads."""
    return sorted(str(p) for p in root.glob(f"{table}/ticker=*/*.parquet"))


def pandas_latest(files: list[str]) -> pd.DataFrame:
    """The latest forecast per ticker with pandas reading the same files."""
    frame = pd.read_parquet(
        files, columns=["run_id", "ticker", "as_of", "target_date", "forecast", "horizon"], partitioning=None
    )
    frame = frame[frame["horizon"] == 1].sort_values(["ticker", "as_of", "run_id"], ascending=[True, False, False])
    return frame.drop_duplicates("ticker")[["ticker", "as_of", "target_date", "forecast"]]


def pandas_monthly(files: list[str]) -> pd.DataFrame:
    """Monthly RMSE per ticker with pandas reading the same files."""
    frame = pd.read_parquet(files, columns=["ticker", "date", "actual", "predicted"], partitioning=None)
    frame["month"] = pd.to_datetime(frame["date"]).dt.to_period("M")
    frame["se"] = (frame["predicted"] - frame["actual"]) ** 2
    return frame.groupby(["ticker", "month"], observed=True)["se"].mean().pow(0.5).reset_index()


def _median_time(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def _compare(con, files: dict[str, list[str]], repeat: int) -> dict:
    """Both queries on one DuckDB connection and with pandas on the files its views read."""
    out = {}
    for name, sql, pandas_fn, table in (
        ("latest", LATEST_SQL, pandas_latest, "forecasts"),
        ("monthly", MONTHLY_SQL, pandas_monthly, "predictions"),
    ):
        con.execute(sql).df()  # one warm-up each: both then read from the page cache
        pandas_fn(files[table])
        duck_s, duck = _median_time(lambda: con.execute(sql).df(), repeat)
        pandas_s, frame = _median_time(lambda: pandas_fn(files[table]), max(3, repeat // 2))
        if len(duck) != len(frame):
            raise AssertionError(f"{name}: DuckDB gave {len(duck)} rows, pandas {len(frame)}")
        out[name] = {"duckdb_s": duck_s, "pandas_s": pandas_s, "ratio": pandas_s / duck_s, "result_rows": len(duck)}
    return out


def measure(tickers: int = 500, runs: int = 1, days: int = 2000, repeat: int = 7) -> dict:
    """Median seconds of each query, DuckDB vs pandas, on two layouts of the same rows.

    layout "nightcast": the files as nightcast writes them (one per ticker and run), read through
    Warehouse.connect()'s views. layout "compacted": the same rows rewritten as one Parquet file per
    table (what a periodic compaction would keep), read by a plain DuckDB connection.
    """
    import duckdb

    from nightcast.warehouse import Warehouse

    with tempfile.TemporaryDirectory(prefix="nightcast-bench-wh-") as tmp:
        root = Path(tmp) / "warehouse"
        started = time.perf_counter()
        rows = generate(root, tickers, runs, days)
        out: dict = {"rows": rows, "tickers": tickers, "generate_s": time.perf_counter() - started}
        files = {table: _files(root, table) for table in ("forecasts", "predictions")}
        started = time.perf_counter()
        con = Warehouse(root).connect()
        out["connect_s"] = time.perf_counter() - started
        out["nightcast"] = {"files": sum(len(v) for v in files.values()), **_compare(con, files, repeat)}
        con.close()
        compacted = Path(tmp) / "compacted"
        compacted.mkdir()
        con = duckdb.connect()
        single = {}
        for table in files:
            target = compacted / f"{table}.parquet"
            con.execute(
                f"COPY (SELECT * FROM read_parquet({files[table]!r}) ORDER BY ticker) TO '{target}' (FORMAT parquet)"
            )
            con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{target}')")
            single[table] = [str(target)]
        out["compacted"] = {"files": len(single), **_compare(con, single, repeat)}
        con.close()
        return out
