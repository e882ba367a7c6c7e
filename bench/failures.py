"""Expected failures timed from process start to their one error line: a missing file, an unknown ticker, a bad
setting, a refused query, and price files that parse but fail validation or are too short (#23), for `run`,
`backtest`, `compare` and `backfill`, and a nightly over a folder whose every file fails.
`python -m bench.failures` prints the seconds of each as JSON."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from bench import common

SIMPLE = {
    "missing file": ["run", "--source", "file", "--path", "missing.csv", "--ticker", "ACME"],
    "unknown ticker": ["run", "--ticker", "ZZZZ"],
    "bad setting": ["run", "--epochs", "0"],
    "refused query": ["query", "drop table prices"],
}
FILES = {
    "run, negative close": ("run", "negative_close"),
    "run, date going backwards": ("run", "date_backwards"),
    "run, duplicated date": ("run", "duplicated_date"),
    "run, header only": ("run", "header_only"),
    "run, 50 rows (needs 103)": ("run", "fifty_rows"),
    "backtest, 50 rows": ("backtest", "fifty_rows"),
    "compare, negative close": ("compare", "negative_close"),
    "backfill --days 5, negative close": ("backfill", "negative_close"),
}


def good_prices(n: int = 150) -> pd.DataFrame:
    """A plausible daily history in Yahoo's CSV layout."""
    close = 100 * np.exp(np.cumsum(np.random.default_rng(7).normal(0, 0.01, n)))
    dates = pd.bdate_range("2020-01-01", periods=n).strftime("%Y-%m-%d")
    return pd.DataFrame(
        {"Date": dates, "Open": close, "High": close * 1.01, "Low": close * 0.99, "Close": close, "Volume": 1000}
    )


def write_bad_files(folder: Path) -> None:
    """One CSV per kind of bad file under folder."""
    good = good_prices()
    frames = {
        "negative_close": good.assign(Close=good["Close"].where(good.index != 12, -5.0)),
        "date_backwards": good.iloc[[1, 0, *range(2, len(good))]],
        "duplicated_date": good.assign(Date=good["Date"].where(good.index != 31, good["Date"][30])),
        "header_only": good.iloc[:0],
        "fifty_rows": good.iloc[:50],
    }
    for name, frame in frames.items():
        frame.to_csv(folder / f"{name}.csv", index=False)


def measure() -> dict[str, float]:
    """Seconds from process start to the one error line, for each kind of expected failure."""
    nightcast = str(Path(common.PYTHON).parent / "nightcast")
    walls = {name: common.run_process([nightcast, *args]).wall for name, args in SIMPLE.items()}
    with tempfile.TemporaryDirectory() as folder:
        write_bad_files(Path(folder))
        for name, (command, kind) in FILES.items():
            args = ["--source", "file", "--path", f"{kind}.csv", "--ticker", "ACME", "--warehouse", "wh"]
            result = common.run_process([nightcast, command, *args], cwd=Path(folder))
            if "nightcast: error: " not in result.stderr:
                raise RuntimeError(f"{name}: no error line: {result.stderr[-500:]}")
            walls[name] = result.wall
        walls["nightly, a folder of bad files"] = nightly_of_bad_files(nightcast, Path(folder))
    return walls


def nightly_of_bad_files(nightcast: str, folder: Path) -> float:
    """Seconds of `nightcast nightly` over a folder of the bad files above (every ticker fails)."""
    universe = folder / "universe"
    universe.mkdir()
    for path in folder.glob("*.csv"):
        (universe / f"{path.stem.replace('_', '').upper()}.csv").write_bytes(path.read_bytes())
    result = common.run_process([nightcast, "nightly", "--source", "file", "--path", str(universe)], cwd=folder)
    if "0 of 5 tickers completed" not in result.stdout:
        raise RuntimeError(f"nightly: no summary: {result.stdout[-500:]} {result.stderr[-500:]}")
    return result.wall


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
