"""Many tickers on this machine: the `nightly` flow on a local Dask cluster of 1 or 2 workers.

`python -m bench.nightly WORKERS TICKERS [external]` runs flows.nightly.nightly twice under a temporary Prefect
test server with NightlyPlan(runner={"kind": "dask", "workers": WORKERS}) over synthetic tickers served by
bench.synthetic_yahoo (preloaded into every Dask worker), default model settings: a cold-start night (every
ticker backtested and trained from scratch) and the next session's night (the RNNs fine-tune, the
statistical candidates filter the new day). It prints JSON: both nights' wall times (cluster start
included) and the tickers per minute of each.

With `external`, the cluster is not the flow's own LocalCluster but a `dask scheduler` and WORKERS
`dask worker` processes (one thread each) started beforehand on 127.0.0.1, as an operator runs them, and
the plan names the scheduler's address: the workers outlive a night, so the fine-tune night does not pay
their start and TensorFlow's import again. Their start is not timed.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

NIGHTS = {"cold": "2018-10-31", "night": "2018-11-01"}
"""Each night's last session (the synthetic histories run from 2015-01-02 past them)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def external_cluster(workers: int) -> Iterator[str]:
    """A `dask scheduler` and `workers` one-thread `dask worker` processes on 127.0.0.1; yields the address."""
    from distributed import Client

    address = f"tcp://127.0.0.1:{free_port()}"
    dask = str(Path(sys.executable).with_name("dask"))
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1]], **quiet)]
    worker = [dask, "worker", address, "--nthreads", "1", "--nworkers", "1", "--preload", "bench.synthetic_yahoo"]
    procs += [subprocess.Popen(worker, **quiet) for _ in range(workers)]
    try:
        with Client(address, timeout=120) as client:
            client.wait_for_workers(workers, timeout=180)
        yield address
    finally:
        for proc in procs[::-1]:
            proc.terminate()
            proc.wait(timeout=60)


def main() -> None:
    workers, count = int(sys.argv[1]), int(sys.argv[2])
    external = sys.argv[3:] == ["external"]
    os.environ.setdefault("DASK_DISTRIBUTED__WORKER__PRELOAD", '["bench.synthetic_yahoo"]')
    from prefect.testing.utilities import prefect_test_harness

    import bench.synthetic_yahoo  # noqa: F401  (the flow's own process gets the stand-in too)
    from flows.nightly import nightly
    from nightcast.plans import NightlyPlan

    tickers = [f"SYN{i:02d}" for i in range(count)]
    out: dict = {"workers": workers, "tickers": count, "days": int(os.environ.get("NIGHTCAST_BENCH_DAYS", "600"))}
    out["cluster"] = "external" if external else "local"
    with (
        tempfile.TemporaryDirectory(prefix="nightcast-bench-nightly-") as tmp,
        prefect_test_harness(server_startup_timeout=180),
        external_cluster(workers) if external else contextlib.nullcontext("") as address,
    ):
        runner = {"kind": "dask", "dask_address": address} if address else {"kind": "dask", "workers": workers}
        for night, end in NIGHTS.items():
            plan = NightlyPlan(
                tickers=tickers,
                runner=runner,
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
