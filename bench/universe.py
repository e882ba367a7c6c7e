"""A universe through the real nightly flow: N synthetic GOOG-sized tickers (2,000 sessions each, as files),
three nights from an empty warehouse: the cold start, a fine-tune night (one session later) and a full-refit
night (a week later, when full_retrain_every_days = 7 is due).

`python -m bench.universe N [WORKERS]` runs the nightly flow under a temporary Prefect test server on the
process pool, samples the memory of the whole process tree (flow, pool workers, Prefect's server) every
0.2 s, counts the Prefect task runs of the fine-tune night's flow run, and prints JSON, then the line

    universe: <N> tickers, cold <s> s, night <s> s, full <s> s, peak <MB> MB, task runs <n>
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import tree_rss

SESSIONS = 2_000
NIGHTS = {"cold": "2022-08-31", "night": "2022-09-01", "full": "2022-09-08"}
"""Each night's last session (end setting): the fine-tune night one session after the cold start, the full
refit a week after it."""


def write_universe(folder: Path, count: int) -> list[str]:
    """count synthetic tickers as <TICKER>.parquet files of SESSIONS business days ending after the last night."""
    import pandas as pd

    from bench.synthetic_yahoo import history

    tickers = [f"U{i:04d}" for i in range(count)]
    for ticker in tickers:
        frame = history(ticker, SESSIONS + 10)
        frame.index = pd.bdate_range(end="2022-09-15", periods=len(frame), name="date")
        frame.rename(columns=str.lower).rename(columns={"adj close": "adj_close"}).reset_index().to_parquet(
            folder / f"{ticker}.parquet"
        )
    return tickers


class PeakMemory:
    """The largest resident memory of this process and its descendants, sampled in a thread."""

    def __init__(self, every: float = 0.2):
        self.pid, self.every, self.peak, self._stop = os.getpid(), every, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, tree_rss(self.pid))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def task_runs_of(flow_run_id: str) -> int:
    """How many task runs the flow run had, from the Prefect API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    which, total, page = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])), 0, 200
    with get_client(sync_client=True) as client:
        while True:
            found = len(client.read_task_runs(flow_run_filter=which, offset=total, limit=page))
            total += found
            if found < page:
                return total


def run_nights(count: int, workers: int) -> dict:
    """The three nights' wall times, the peak memory and the fine-tune night's task runs."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.nightly import TickersFailed, nightly
    from nightcast.plans import NightlyPlan

    out: dict = {"tickers": count, "workers": workers, "sessions": SESSIONS}
    with tempfile.TemporaryDirectory(prefix="nightcast-bench-universe-") as tmp, prefect_test_harness(180):
        folder = Path(tmp) / "files"
        folder.mkdir()
        tickers = write_universe(folder, count)
        with PeakMemory() as memory:
            for night, end in NIGHTS.items():
                plan = NightlyPlan(
                    tickers=tickers,
                    runner={"kind": "processes", "workers": workers},
                    settings={"source": "file", "path": str(folder), "end": end, "warehouse": f"{tmp}/wh"},
                )
                started = time.perf_counter()
                state = nightly(plan=plan, return_state=True)
                out[f"{night}_s"] = time.perf_counter() - started
                result = state.result(raise_on_failure=False)
                outcomes = result.outcomes if isinstance(result, TickersFailed) else result
                out[f"{night}_completed"] = sum(o.status == "completed" for o in outcomes)
                done = out[f"{night}_completed"]
                print(f"{night}: {out[f'{night}_s']:.0f} s, {done} of {count} completed", file=sys.stderr, flush=True)
                if night == "night":
                    out["task_runs"] = task_runs_of(str(state.state_details.flow_run_id))
        out["peak_mb"] = memory.peak / 2**20
    return out


def last_line(r: dict) -> str:
    """The benchmark's one-line result."""
    return (
        f"universe: {r['tickers']} tickers, cold {r['cold_s']:.0f} s, night {r['night_s']:.0f} s, "
        f"full {r['full_s']:.0f} s, peak {r['peak_mb']:.0f} MB, task runs {r['task_runs']}"
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    result = run_nights(count, workers)
    print(json.dumps(result))
    print(last_line(result))


if __name__ == "__main__":
    main()
