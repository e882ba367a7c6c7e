"""Test driver: run the retrain flow in this process and SIGKILL it at a chosen point.

Usage: python fault_run.py POINT SETTINGS_JSON, POINT one of none, prices_write, training, predictions_write.
"""

import json
import os
import signal
import sys

import pyarrow.parquet as pq

from flows import steps
from flows.retrain import retrain
from nightcast.settings import Settings


def die(*_args, **_kwargs) -> None:
    """End this process the hard way: no cleanup, no finally blocks."""
    os.kill(os.getpid(), signal.SIGKILL)


def kill_after_temporary_write(table: str) -> None:
    """Let the next write of table's temporary file complete, then die before it is renamed."""
    original = pq.write_table

    def write(data, where, *args, **kwargs):
        original(data, where, *args, **kwargs)
        if f"/{table}/" in str(where):
            die()

    pq.write_table = write


def kill_during_training() -> None:
    """Die at the first progress line of the fit (after one epoch)."""
    original = steps.train_stage.train_model
    steps.train_stage.train_model = lambda *args, log=None, **kwargs: original(*args, log=die, **kwargs)


if __name__ == "__main__":
    point, settings = sys.argv[1], Settings(**json.loads(sys.argv[2]))
    if point in ("prices_write", "predictions_write"):
        kill_after_temporary_write(point.removesuffix("_write"))
    elif point == "training":
        kill_during_training()
    print(retrain(settings=settings).run_id)
