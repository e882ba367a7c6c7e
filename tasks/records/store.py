"""Store stage helpers: one run's identity and its results as warehouse rows (pure: the flows' steps write them
through the storage layer, nightcast.warehouse)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from tasks.forecasting.forecasters import Fitted
    from tasks.forecasting.registry import Training


@dataclass(frozen=True)
class RunInfo:
    """Identity of one run: its id, ticker, Prefect flow-run id, settings JSON, start time, and the host and
    process it runs in."""

    run_id: str
    ticker: str
    flow_run_id: str | None
    settings_json: str
    started_at: pd.Timestamp
    host: str
    pid: int


class StoredFit(NamedTuple):
    """A candidate fitted tonight as stored: the fit, the registry's plan for it (its mode, parent and reason)
    and its model folder, relative to the warehouse."""

    fitted: Fitted
    plan: Training
    path: str


def new_run_id(now: pd.Timestamp | None = None) -> str:
    """A sortable, unique run id such as 20261125T213000Z-1a2b3c."""
    now = now or pd.Timestamp.now(tz="UTC")
    return f"{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def hash_prices(frame: pd.DataFrame) -> str:
    """A short content hash of the ingested prices, to tell whether two runs saw the same data."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


def run_row(
    run: RunInfo,
    status: str,
    data_hash: str | None = None,
    model_path: Path | str | None = None,
    error: str | None = None,
) -> pd.DataFrame:
    """The runs-table row for a run in a given status."""
    finished = None if status == "running" else pd.Timestamp.now(tz="UTC")
    return pd.DataFrame(
        [
            {
                "run_id": run.run_id,
                "ticker": run.ticker,
                "flow_run_id": run.flow_run_id,
                "status": status,
                "started_at": run.started_at,
                "finished_at": finished,
                "settings": run.settings_json,
                "data_hash": data_hash,
                "model_path": str(model_path) if model_path else None,
                "error": error,
                "host": run.host,
                "pid": run.pid,
            }
        ]
    )


def abandoned_runs(runs: pd.DataFrame, host: str, alive) -> pd.DataFrame:
    """Runs still marked running on this host whose process is gone (killed or crashed), marked abandoned."""
    mine = runs[(runs["status"] == "running") & (runs["host"] == host)]
    dead = mine.loc[[not alive(int(pid)) for pid in mine["pid"]]] if len(mine) else mine
    return dead.assign(
        status="abandoned",
        finished_at=pd.Timestamp.now(tz="UTC"),
        error=[
            f"process {int(pid)} on {host} ended before the run finished (killed or crashed)" for pid in dead["pid"]
        ],
    )


def model_version(run: RunInfo, candidate: str) -> str:
    """The registry's name for the model of a candidate that this run fits."""
    return f"{candidate}-{run.run_id}"


def model_event_row(
    run: RunInfo, fit: StoredFit, history: pd.DataFrame, time_step: int, served: bool, decided_at: pd.Timestamp
) -> dict:
    """A fitted candidate as the registry describes it: its version, lineage, data, whether it is served and
    why (its plan's reason)."""
    fitted, plan, path = fit
    candidate, data_end = fitted.candidate, history["date"].iloc[-1].date()
    return {
        "model_version": model_version(run, candidate.name),
        "ticker": run.ticker,
        "run_id": run.run_id,
        "candidate": candidate.name,
        "model": candidate.kind or candidate.name,
        "target": candidate.target,
        "time_step": time_step if candidate.is_rnn else None,
        "path": path,
        "trained_at": decided_at,
        "data_start": history["date"].iloc[0].date(),
        "data_end": data_end,
        "train_end": data_end,
        "training": fitted.training,
        "parent_version": plan.parent_version,
        "full_as_of": plan.full_as_of or data_end,
        "epochs": fitted.epochs,
        "train_seconds": fitted.seconds,
        "status": "served" if served else "shadow",
        "reason": plan.reason,
        "decided_at": decided_at,
    }
