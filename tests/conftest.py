"""Shared fixtures: synthetic price series in nightcast's normalized schema."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "-1")


def random_walk_prices(n: int, ticker: str = "TEST", seed: int = 0, start: str = "2020-01-01") -> pd.DataFrame:
    """A positive random-walk OHLCV frame of n business days in the normalized price schema."""
    rng = np.random.default_rng(seed)
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    spread = close * 0.01
    return pd.DataFrame(
        {
            "ticker": ticker,
            "date": pd.bdate_range(start, periods=n),
            "open": close + rng.normal(0, 0.2, n),
            "high": close + spread,
            "low": close - spread,
            "close": close,
            "adj_close": np.nan,
            "volume": rng.integers(1_000, 10_000, n).astype("float64"),
        }
    )


@pytest.fixture
def prices():
    """Factory fixture: prices(n, ticker=..., seed=...) -> frame."""
    return random_walk_prices


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server and database for every flow test of the session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


SLOW_FOLDERS = {"flows", "reliability", "e2e"}
"""Whole folders that run flows, subprocesses or servers."""
SLOW_MODULES = {
    "test_models.py",
    "test_train_predict.py",
    "test_backtest.py",
    "test_tonight.py",
    "test_extending.py",
    "test_panel_validate.py",
}
"""Unit modules that train real networks or validate whole panels (seconds each); every other module of
tests/tasks, tests/nightcast, tests/cli and tests/structure is the fast loop of `make test-fast`."""


def pytest_collection_modifyitems(config, items):
    """Mark what `make test-fast` leaves out: `-m "not slow"` runs pure units and warehouse round trips."""
    for item in items:
        path = item.path
        if SLOW_FOLDERS & set(path.parts) or path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
