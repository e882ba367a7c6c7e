"""Convert the public sample CSVs into the bundled Parquet files (run once; output is committed).

Usage: python scripts/bundle_sample_data.py GOOG.csv GSPC.csv
Sources are stated in nightcast/sample_data/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "nightcast" / "sample_data"
TICKERS = {"GOOG": "GOOG", "GSPC": "^GSPC"}


def convert(csv: Path) -> pd.DataFrame:
    """Read one Yahoo-layout CSV and return it in nightcast's normalized price schema."""
    raw = pd.read_csv(csv)
    raw = raw.rename(columns={raw.columns[0]: "date"})
    raw.columns = [str(c).strip().lower().replace(" ", "_") for c in raw.columns]
    frame = pd.DataFrame(
        {
            "ticker": TICKERS[csv.stem],
            "date": pd.to_datetime(raw["date"], format="mixed").dt.date,
            "open": raw["open"].astype("float64"),
            "high": raw["high"].astype("float64"),
            "low": raw["low"].astype("float64"),
            "close": raw["close"].astype("float64"),
            "adj_close": raw["adj_close"].astype("float64") if "adj_close" in raw else float("nan"),
            "volume": raw["volume"].astype("float64"),
        }
    )
    return frame.sort_values("date").reset_index(drop=True)


if __name__ == "__main__":
    for name in sys.argv[1:]:
        path = Path(name)
        frame = convert(path)
        frame.to_parquet(OUT / f"{path.stem}.parquet", index=False)
        print(f"{path.stem}: {len(frame)} rows {frame['date'].min()}..{frame['date'].max()}")
