"""Named reads of the warehouse: each question the flows and the command line ask, typed, with its SQL here."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from nightcast.warehouse import Warehouse


def price_dates(warehouse: Warehouse, ticker: str) -> pd.Series:
    """The dates of the ticker's stored prices, oldest first (empty when none are stored)."""
    import pandas as pd

    if not warehouse.table_files("prices", [ticker]):
        return pd.Series([], dtype="datetime64[us]", name="date")
    dates = warehouse.query("select date from prices where ticker = ? order by date", [ticker], tickers=[ticker])
    return dates["date"]
