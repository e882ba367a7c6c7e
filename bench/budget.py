"""The nightly time budget (issue 11): `nightcast backfill --days N` of one ticker from an empty warehouse.

Each replayed night prints how long its fits took (the cold start's backtest folds included) and whether
its RNN line trained from scratch or fine-tuned; this module times the whole backfill and sorts the nights.
Budget: at most 20 s of training on a fine-tune night, 60 s on a full-refit night, 15 min for 60 nights.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from bench.common import child_env, run_process

NIGHT = re.compile(r"^(\d{4}-\d\d-\d\d)\s+\S+\s+completed .*fitted in ([\d.]+) s \((\w+)\)")
BUDGET = {"fine_tune": 20.0, "full": 60.0, "backfill_s": 15 * 60.0}


def measure(ticker: str = "GOOG", days: int = 60) -> dict:
    """Wall of the backfill and the training seconds of its nights by kind (cold start, fine-tune, full)."""
    with tempfile.TemporaryDirectory(prefix="nightcast-budget-") as tmp:
        env = child_env(NIGHTCAST_WAREHOUSE=str(Path(tmp) / "warehouse"), PREFECT_HOME=str(Path(tmp) / "prefect"))
        env.pop("PREFECT_API_URL", None)
        args = [sys.executable, "-m", "cli", "backfill", "--ticker", ticker, "--days", str(days)]
        result = run_process(args, env=env, cwd=Path(tmp))
    nights = [(m.group(1), float(m.group(2)), m.group(3)) for m in map(NIGHT.match, result.stdout.splitlines()) if m]
    if result.returncode != 0 or len(nights) != days:
        raise RuntimeError(f"backfill failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}")
    by_kind = {kind: [s for _, s, k in nights[1:] if k == kind] for kind in ("fine_tune", "full")}
    table = result.stdout.split("inside the interval):\n")[-1]
    return {
        "ticker": ticker,
        "days": days,
        "backfill_s": result.wall,
        "cold_start_s": nights[0][1],
        "fine_tune_max_s": max(by_kind["fine_tune"], default=0.0),
        "full_max_s": max(by_kind["full"], default=0.0),
        "fine_tune_nights": len(by_kind["fine_tune"]),
        "full_nights": len(by_kind["full"]),
        "served_accuracy": table.strip(),
    }


if __name__ == "__main__":  # pragma: no cover - manual use
    print(measure(*sys.argv[1:2]))
