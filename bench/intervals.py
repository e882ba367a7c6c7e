"""Intervals side by side on a backfill's nights: nightcast's served bands, naive's own conformal bands, the
arima candidate's (nightcast's conformal bands around ARIMA's path) and statsmodels ARIMA's own Gaussian
intervals, the same model refitted every night on the same history. Per horizon: coverage of the 80% and
95% bands and their mean interval scores (Gneiting-Raftery, price units; lower is better).

`python -m bench.intervals WAREHOUSE [TICKER ...]` (default: every ticker with served forecasts) prints one
Markdown table per ticker. The warehouse is a backfill's, e.g. `nightcast backfill --days 60`.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from nightcast import catalog
from nightcast.warehouse import Warehouse
from tasks.forecasting.baselines import arima_result
from tasks.scoring.calibration import calibration

LEVELS = (80, 95)
KEYS = ["as_of", "horizon", "target_date", "actual"]


def arima_gaussian(closes: pd.Series, nights: list, horizon: int) -> pd.DataFrame:
    """The arima candidate's model (tasks/forecasting/baselines.py) refitted on the closes up to each night, with
    statsmodels' own Gaussian intervals, mapped back to prices. One row per night and horizon."""
    rows = []
    for night in nights:
        forecast = arima_result(closes[closes.index <= night].to_numpy("float64")).get_forecast(horizon)
        path = np.exp(np.asarray(forecast.predicted_mean))
        bands = {level: np.exp(forecast.conf_int(alpha=1 - level / 100)) for level in LEVELS}
        for step in range(horizon):
            row = {"as_of": night, "horizon": step + 1, "forecast": path[step]}
            for level, band in bands.items():
                row[f"lower_{level}"], row[f"upper_{level}"] = band[step]
            rows.append(row)
    return pd.DataFrame(rows)


def compare(warehouse: Warehouse, ticker: str) -> pd.DataFrame:
    """Each method's coverage and interval score per horizon on the nights the ticker was served."""
    rows = catalog.realized_rows(warehouse, ticker)
    rows["as_of"] = pd.to_datetime(rows["as_of"])
    served = rows[rows["served"]]
    nights = sorted(served["as_of"].unique())
    closes = catalog.stored_prices(warehouse, [ticker]).set_index("date")["close"]
    closes.index = pd.to_datetime(closes.index)
    gaussian = arima_gaussian(closes, nights, int(served["horizon"].max()))
    actuals = served[KEYS].drop_duplicates(["as_of", "horizon"])
    methods = {
        "served (nightcast)": served,
        "naive, conformal": rows[(rows["candidate"] == "naive") & rows["as_of"].isin(nights)],
        "arima, conformal": rows[(rows["candidate"] == "arima") & rows["as_of"].isin(nights)],
        "ARIMA, Gaussian (statsmodels)": gaussian.merge(actuals, on=["as_of", "horizon"]),
    }
    tables = {name: calibration(frame) for name, frame in methods.items() if len(frame)}
    return pd.concat(tables, names=["method"]).reset_index()


def markdown(ticker: str, table: pd.DataFrame) -> str:
    """One row per method: coverage of the 80% and 95% bands and their interval scores, horizons 1..H."""
    columns = {
        "coverage_80": "{:.2f}",
        "coverage_95": "{:.2f}",
        "interval_score_80": "{:.1f}",
        "interval_score_95": "{:.1f}",
    }
    lines = [
        f"{ticker}, {table.groupby('method').ngroups} methods, horizons 1..{table['horizon'].max()}",
        "",
        "| method | 80% coverage | 95% coverage | interval score 80 | interval score 95 |",
        "|---|---|---|---|---|",
    ]
    for method, rows in table.groupby("method", sort=False):
        cells = [" ".join(fmt.format(v) for v in rows.sort_values("horizon")[c]) for c, fmt in columns.items()]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    warehouse = Warehouse(argv[0])
    status = catalog.ticker_status(warehouse)
    tickers = argv[1:] or [str(row[status.columns.index("ticker")]) for row in status.rows]
    for ticker in tickers:
        print(markdown(ticker, compare(warehouse, ticker)) + "\n", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
