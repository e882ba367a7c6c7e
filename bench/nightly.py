"""Many tickers on this machine: the `nightly` flow on a local Dask cluster of 1 or 2 workers.

`python -m bench.nightly WORKERS TICKERS` runs flows.nightly.nightly twice under a temporary Prefect test
server with NightlyPlan(runner={"kind": "dask", "workers": WORKERS}) over synthetic tickers served by
bench.synthetic_yahoo (preloaded into every Dask worker), default model settings: a cold-start night (every
ticker backtested and trained from scratch) and the next session's night (the RNNs fine-tune, the
statistical candidates filter the new day). It prints JSON: both nights' wall times (cluster start
included) and the tickers per minute of each.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

NIGHTS = {"cold": "2018-10-31", "night": "2018-11-01"}
"""Each night's last session (the synthetic histories run from 2015-01-02 past them)."""


def main() -> None:
    workers, count = int(sys.argv[1]), int(sys.argv[2])
    os.environ.setdefault("DASK_DISTRIBUTED__WORKER__PRELOAD", '["bench.synthetic_yahoo"]')
    from prefect.testing.utilities import prefect_test_harness

    import bench.synthetic_yahoo  # noqa: F401  (the flow's own process gets the stand-in too)
    from flows.nightly import nightly
    from nightcast.plans import NightlyPlan

    tickers = [f"SYN{i:02d}" for i in range(count)]
    out: dict = {"workers": workers, "tickers": count, "days": int(os.environ.get("NIGHTCAST_BENCH_DAYS", "600"))}
    with (
        tempfile.TemporaryDirectory(prefix="nightcast-bench-nightly-") as tmp,
        prefect_test_harness(server_startup_timeout=180),
    ):
        for night, end in NIGHTS.items():
            plan = NightlyPlan(
                tickers=tickers,
                runner={"kind": "dask", "workers": workers},
                settings={"source": "yahoo", "ticker": tickers[0], "end": end, "warehouse": tmp},
            )
            started = time.perf_counter()
            outcomes = nightly(plan=plan)
            out[f"{night}_s"] = time.perf_counter() - started
            out[f"{night}_completed"] = sum(o.status == "completed" for o in outcomes)
            out["worker_processes"] = len({o.worker for o in outcomes if o.worker})
    out["tickers_per_min"] = 60 * count / out["night_s"]
    out["tickers_per_min_wall"] = 60 * count / out["cold_s"]
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
