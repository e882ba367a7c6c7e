"""Intervals side by side on a backfill's nights: nightcast's served bands, naive's own conformal bands, the
arima candidate's (nightcast's conformal bands around ARIMA's path) and statsmodels ARIMA's own Gaussian
intervals, the same model refitted every night on the same history. Per horizon: coverage of the 80% and
95% bands and their mean interval scores (Gneiting-Raftery, price units; lower is better).

`python -m bench.intervals WAREHOUSE [TICKER ...]` (default: every ticker with served forecasts) prints one
Markdown table per ticker. The warehouse is a backfill's, e.g. `nightcast backfill --days 60`.
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd

from nightcast import catalog
from nightcast.warehouse import Warehouse
from tasks.forecasting.baselines import ARIMA_ORDER
from tasks.scoring.scores import interval_score

LEVELS = (80, 95)
KEYS = ["as_of", "horizon", "target_date", "actual"]


def arima_gaussian(closes: pd.Series, nights: list, horizon: int) -> pd.DataFrame:
    """statsmodels ARIMA(1,1,1) with drift on log closes, refitted on the closes up to each night: its own
    Gaussian intervals, mapped back to prices. One row per night and horizon."""
    from statsmodels.tsa.arima.model import ARIMA

    rows = []
    for night in nights:
        logs = np.log(closes[closes.index <= night].to_numpy("float64"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = ARIMA(logs, order=ARIMA_ORDER, trend="t").fit()
        forecast = result.get_forecast(horizon)
        bands = {level: np.exp(forecast.conf_int(alpha=1 - level / 100)) for level in LEVELS}
        for step in range(horizon):
            row = {"as_of": night, "horizon": step + 1}
            for level, band in bands.items():
                row[f"lower_{level}"], row[f"upper_{level}"] = band[step]
            rows.append(row)
    return pd.DataFrame(rows)


def scored(bands: pd.DataFrame) -> pd.DataFrame:
    """Coverage and mean interval score per horizon of rows with lower/upper bands and the actual close."""
    out = {}
    for level in LEVELS:
        lower, upper = bands[f"lower_{level}"], bands[f"upper_{level}"]
        bands = bands.assign(
            **{
                f"cover_{level}": (bands["actual"] >= lower) & (bands["actual"] <= upper),
                f"is_{level}": interval_score(lower, upper, bands["actual"], level),
            }
        )
    grouped = bands.groupby("horizon")
    for level in LEVELS:
        out[f"cover_{level}"] = grouped[f"cover_{level}"].mean()
        out[f"is_{level}"] = grouped[f"is_{level}"].mean()
    return pd.DataFrame(out)


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
    tables = {name: scored(frame) for name, frame in methods.items() if len(frame)}
    return pd.concat(tables, names=["method"]).reset_index()


def markdown(ticker: str, table: pd.DataFrame) -> str:
    """One row per method: coverage of the 80% and 95% bands and their interval scores, horizons 1..H."""
    columns = {"cover_80": "{:.2f}", "cover_95": "{:.2f}", "is_80": "{:.1f}", "is_95": "{:.1f}"}
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
