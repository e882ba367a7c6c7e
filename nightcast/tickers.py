"""Tickers: what may name a ticker (and so a folder and a SQL literal), checked once for everyone."""

from __future__ import annotations

import re

TICKER_PATTERN = re.compile(r"^\^?[A-Z0-9][A-Z0-9.\-=]{0,14}$")
"""Yahoo-style symbols (GOOG, ^GSPC, BRK-B, EURUSD=X, 0700.HK); nothing that can become a path or SQL."""

TICKER_SCHEMA_PATTERN = r"^(\s*\^?[A-Za-z0-9][A-Za-z0-9.=-]{0,14}\s*)?$"
"""The same rule, case-insensitive, in the JSON schema so that the Prefect UI refuses a bad ticker (empty: the
source's default)."""


def check_ticker(value: str) -> str:
    """Upper-case a ticker and refuse anything that is not a plain Yahoo-style symbol."""
    symbol = value.strip().upper()
    if not TICKER_PATTERN.fullmatch(symbol):
        raise ValueError(
            f"ticker {value!r} is not a valid symbol: use letters, digits and . - = "
            "(optionally a leading ^), at most 15 characters, e.g. GOOG, ^GSPC, BRK-B"
        )
    return symbol
