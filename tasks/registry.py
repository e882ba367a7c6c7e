"""Model registry: which model is a ticker's champion, whether tonight's model replaces it, and how to train.

The registry is append-only: every decision writes rows to the `model_events` table (tonight's model as
champion or challenger, and the replaced champion as retired), and the `models` view shows each model's
latest row. Nothing stored is ever rewritten, so the history of every promotion stays queryable.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nightcast.warehouse import Warehouse


@dataclass(frozen=True)
class Champion:
    """The current champion of a ticker as the registry records it."""

    model_version: str
    run_id: str
    full_as_of: dt.date
    """data_end of the last training from scratch in this model's line (a fine-tune inherits its parent's)."""


@dataclass(frozen=True)
class TrainingPlan:
    """Train from scratch ("full") or fine-tune the champion ("fine_tune"), and why."""

    mode: str
    reason: str
    champion: Champion | None


@dataclass(frozen=True)
class Decision:
    """Whether tonight's model became champion, the RMSEs compared and a sentence saying why."""

    promoted: bool
    days: int
    challenger_rmse: float
    champion_rmse: float | None
    champion_version: str | None
    reason: str


def current_champion(warehouse: Warehouse, ticker: str) -> Champion | None:
    """The ticker's champion (the latest model whose latest status is champion), or None."""
    rows = warehouse.query("select model_version, run_id, full_as_of from models where ticker = ? and "
                           "status = 'champion' order by decided_at desc limit 1", [ticker])
    if rows.empty:
        return None
    row = rows.iloc[0]
    return Champion(model_version=row["model_version"], run_id=row["run_id"],
                    full_as_of=pd.Timestamp(row["full_as_of"]).date())


def last_full_training(warehouse: Warehouse, ticker: str) -> dt.date | None:
    """data_end of the ticker's most recent training from scratch (champion or not), or None."""
    rows = warehouse.query("select max(data_end) as day from model_events where ticker = ? and training = 'full'",
                           [ticker])
    day = rows["day"].iloc[0] if len(rows) else None
    return None if day is None or pd.isna(day) else pd.Timestamp(day).date()


def plan_training(champion: Champion | None, last_full: dt.date | None, as_of: dt.date, full_every_days: int,
                  incompatible: str | None = None) -> TrainingPlan:
    """Fine-tune the champion unless a full retrain is due (or there is nothing compatible to fine-tune).

    incompatible: why the champion cannot be fine-tuned with tonight's settings (e.g. "another
    time_step"), or None when it can.

    A full retrain is due once the ticker's last one (whether it became champion or not) saw data at
    least full_every_days older than tonight's: weekly by default, fine-tunes on the nights between.
    """
    if full_every_days == 0:
        return TrainingPlan("full", "full retrain every night (full_retrain_every_days = 0)", None)
    if champion is None:
        return TrainingPlan("full", "no champion yet: training from scratch", None)
    if incompatible:
        return TrainingPlan("full", f"champion {champion.model_version} has {incompatible}: training "
                            "from scratch", None)
    age = None if last_full is None else (as_of - last_full).days
    if age is None or age >= full_every_days:
        return TrainingPlan("full", f"full retrain due: the last one saw data up to {last_full}, {age} days "
                            f"before {as_of} (full_retrain_every_days = {full_every_days})", None)
    return TrainingPlan("fine_tune", f"fine-tuning champion {champion.model_version}; the last full retrain "
                        f"saw data up to {last_full}, {age} days before {as_of}", champion)


def recent_rmse(actual: np.ndarray, predicted: np.ndarray, days: int) -> float:
    """RMSE over the last `days` entries (the most recent test days)."""
    actual, predicted = np.asarray(actual, "float64"), np.asarray(predicted, "float64")
    if days < 1 or len(actual) != len(predicted) or len(actual) < days:
        raise ValueError(f"need {days} >= 1 recent days of matching actual and predicted values, "
                         f"got {len(actual)} and {len(predicted)}")
    error = actual[-days:] - predicted[-days:]
    return float(np.sqrt(np.mean(error * error)))


def decide(challenger_rmse: float, champion_rmse: float | None, champion_version: str | None,
           days: int, tolerance: float) -> Decision:
    """Promote tonight's model unless its recent RMSE is worse than the champion's by more than tolerance."""
    if champion_rmse is None or champion_version is None:
        return Decision(True, days, challenger_rmse, None, None, "no champion yet: tonight's model becomes champion")
    compared = (f"RMSE {challenger_rmse:.4f} on the last {days} test days vs champion {champion_version}'s "
                f"{champion_rmse:.4f} on the same days (tolerance {tolerance:.1%})")
    if challenger_rmse <= champion_rmse * (1.0 + tolerance):
        return Decision(True, days, challenger_rmse, champion_rmse, champion_version, "promoted: " + compared)
    return Decision(False, days, challenger_rmse, champion_rmse, champion_version,
                    f"kept champion {champion_version}: tonight's " + compared)


def model_events(model: dict, decision: Decision, plan: TrainingPlan, retired: dict | None,
                 decided_at: pd.Timestamp) -> pd.DataFrame:
    """This decision's registry rows: tonight's model, and the replaced champion when it was retired.

    `model` holds tonight's model facts (model_version, ticker, run_id, model, path, trained_at,
    data_start, data_end, train_end, rmse, naive_rmse, skill); `retired` the old champion's latest row.
    """
    full_as_of = plan.champion.full_as_of if plan.mode == "fine_tune" and plan.champion else model["data_end"]
    tonight = {**model, "training": plan.mode, "parent_version": plan.champion.model_version if plan.champion else None,
               "full_as_of": full_as_of, "recent_days": decision.days, "recent_rmse": decision.challenger_rmse,
               "champion_recent_rmse": decision.champion_rmse,
               "status": "champion" if decision.promoted else "challenger", "reason": decision.reason,
               "decided_at": decided_at}
    rows = [tonight]
    if decision.promoted and retired is not None:
        rows.append({**retired, "status": "retired", "decided_at": decided_at,
                     "reason": f"replaced by {model['model_version']}: {decision.reason}"})
    return pd.DataFrame(rows)


def latest_row(warehouse: Warehouse, model_version: str) -> dict:
    """A model's latest registry row, as a dict of the model_events columns."""
    rows = warehouse.query("select * exclude (rank) from (select *, row_number() over (order by decided_at desc) "
                           "as rank from model_events where model_version = ?) where rank = 1", [model_version])
    if rows.empty:
        raise LookupError(f"model {model_version} is not in the registry")
    return {key: (None if pd.isna(value) else value) for key, value in rows.iloc[0].to_dict().items()}
