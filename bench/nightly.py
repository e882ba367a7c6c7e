"""Many tickers on this machine: the `nightly` flow on a local Dask cluster of 1 or 2 workers.

`python -m bench.nightly WORKERS TICKERS` runs flows.nightly.nightly under a temporary Prefect test
server with NightlyPlan(runner={"kind": "dask", "workers": WORKERS}) over synthetic tickers served by
bench.synthetic_yahoo (preloaded into every Dask worker), default model settings, and prints JSON:
the flow's wall time (cluster start included), the throughput between the first ticker's start and
the last ticker's finish, and the steady-state throughput (each worker's tickers after its first,
which pays the TensorFlow import and the compilation), from the warehouse's runs table.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time


def main() -> None:
    workers, count = int(sys.argv[1]), int(sys.argv[2])
    os.environ.setdefault("DASK_DISTRIBUTED__WORKER__PRELOAD", '["bench.synthetic_yahoo"]')
    from prefect.testing.utilities import prefect_test_harness

    import bench.synthetic_yahoo  # noqa: F401  (the flow's own process gets the stand-in too)
    from flows.nightly import nightly
    from nightcast.plans import NightlyPlan
    from nightcast.warehouse import Warehouse

    tickers = [f"SYN{i:02d}" for i in range(count)]
    with (
        tempfile.TemporaryDirectory(prefix="nightcast-bench-nightly-") as tmp,
        prefect_test_harness(server_startup_timeout=180),
    ):
        plan = NightlyPlan(
            tickers=tickers,
            runner={"kind": "dask", "workers": workers},
            settings={"source": "yahoo", "ticker": tickers[0], "warehouse": tmp},
        )
        started = time.perf_counter()
        outcomes = nightly(plan=plan)
        wall = time.perf_counter() - started
        runs = Warehouse(tmp).query("select ticker, status, started_at, finished_at, pid from runs")
    done = runs[runs["status"] == "completed"]
    span = (done["finished_at"].max() - done["started_at"].min()).total_seconds()
    # steady state: each worker process's tickers after its first (which pays the TensorFlow import and
    # the compilation), from the end of that first ticker to the end of its last
    steady = 0.0
    for _, own in done.sort_values("finished_at").groupby("pid"):
        if len(own) > 1:
            steady += (len(own) - 1) / (own["finished_at"].iloc[-1] - own["finished_at"].iloc[0]).total_seconds()
    print(
        json.dumps(
            {
                "workers": workers,
                "tickers": count,
                "completed": len(done),
                "outcomes": sorted({o.status for o in outcomes}),
                "wall_s": wall,
                "span_s": span,
                "tickers_per_min_wall": 60 * len(done) / wall,
                "tickers_per_min_span": 60 * len(done) / span,
                "tickers_per_min": 60 * steady,
                "worker_processes": int(done["pid"].nunique()),
                "days": int(os.environ.get("NIGHTCAST_BENCH_DAYS", "600")),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
