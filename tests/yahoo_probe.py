"""The real Yahoo client, driven as far as it goes offline, in each kind of process nightcast runs it in.

`probe` imports TensorFlow first (as a process that trained a ticker before it fetched one has), then asks the
real YahooSource for a real ticker and returns how it ended, as 'ErrorType: message' on one line. A working
client ends with a network error (no network, or the dead proxy the tests point HTTPS_PROXY at), never with a
client-side one such as "Impersonating chrome152 is not supported".
"""

from __future__ import annotations

import json
import os
import sys

from prefect import flow, get_run_logger, task


def probe(ticker: str = "NFLX", tensorflow_first: bool = True, proxy: str | None = None) -> str:
    """One real download of ticker's whole history after importing TensorFlow; how it ended, on one line."""
    if proxy:
        os.environ["HTTPS_PROXY"] = os.environ["https_proxy"] = proxy
    if tensorflow_first:
        from nightcast.quiet_import import load_tensorflow

        load_tensorflow()  # loaded first on purpose (the order that broke the client), as nightcast's tasks load it
    from nightcast.yahoo import YahooSource

    loaded_first = "tensorflow" in sys.modules and "curl_cffi" not in sys.modules
    try:
        YahooSource(retry_after=0.0).fetch(ticker, None, None)
    except Exception as error:  # every outcome is reported, none raised
        outcome = f"{type(error).__name__}: {error}"
    else:
        outcome = "fetched"
    return json.dumps({"tensorflow_first": loaded_first, "outcome": " ".join(outcome.split())})


@task(name="yahoo_probe_task")
def probe_task(ticker: str, proxy: str | None) -> str:
    """probe in whatever process the flow's task runner gives it."""
    return probe(ticker, True, proxy)


@flow(name="yahoo-probe")
def probe_flow(ticker: str = "NFLX", proxy: str | None = None, in_task: bool = False) -> str:
    """probe in this flow run's own process (a Prefect worker's flow run), or in a task on the flow's runner;
    the outcome is also the flow run's log line 'yahoo probe: {...}'."""
    outcome = probe_task.submit(ticker, proxy).result() if in_task else probe(ticker, True, proxy)
    get_run_logger().info(f"yahoo probe: {outcome}")
    return outcome


def probe_on(runner: str, ticker: str = "NFLX", proxy: str | None = None) -> str:
    """probe in a task of the nightly's own task runner of that kind (processes or dask), one worker."""
    from flows.runners import build_task_runner
    from nightcast.plans import RunnerSettings

    task_runner = build_task_runner(RunnerSettings(kind=runner, workers=1))  # type: ignore[arg-type]
    return probe_flow.with_options(task_runner=task_runner)(ticker, proxy, in_task=True)


if __name__ == "__main__":  # python -m tests.yahoo_probe [RUNNER]: the outcome on stdout's last line
    print(probe_on(sys.argv[1], proxy=os.environ.get("HTTPS_PROXY")) if len(sys.argv) > 1 else probe())
