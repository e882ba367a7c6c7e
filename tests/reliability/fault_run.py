"""Test driver: run the retrain flow in this process and SIGKILL it at a chosen point.

Usage: python fault_run.py POINT SETTINGS_JSON, POINT one of none, prices_write, training, model_save,
forecasts_write; or python fault_run.py nightly PLAN_JSON to run the nightly flow (killed by the test).
"""

import json
import os
import signal
import sys

import pyarrow.parquet as pq

from flows import model_files
from flows.retrain import retrain
from nightcast.settings import Settings
from tasks.training import train


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
    original = train.train_models  # every RNN fit, one lane or many, goes through it

    def dying(jobs, options, log=None):
        return original(jobs, options, die)

    train.train_models = dying


def kill_after_model_save() -> None:
    """Die right after model.keras is written into the model's temporary folder, before it is renamed."""
    original = model_files.save_model

    def save(model, path):
        original(model, path)
        die()

    model_files.save_model = save


if __name__ == "__main__":
    if sys.argv[1] == "nightly":
        from flows.nightly import nightly

        nightly(plan=json.loads(sys.argv[2]))
        sys.exit(0)
    point, settings = sys.argv[1], Settings(**json.loads(sys.argv[2]))
    if point in ("prices_write", "forecasts_write"):
        kill_after_temporary_write(point.removesuffix("_write"))
    elif point == "training":
        kill_during_training()
    elif point == "model_save":
        kill_after_model_save()
    print(retrain(settings=settings).run_id)
