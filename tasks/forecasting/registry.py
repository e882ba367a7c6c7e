"""Model registry rules: which candidate a ticker serves tonight, and how each RNN candidate trains.

The registry is append-only. Every night writes one `decisions` row per ticker (the served candidate and
the evidence it was chosen on) and one `model_events` row per fitted candidate (served or shadow);
nothing stored is rewritten, so every choice stays queryable with its reasons.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from nightcast.candidates import candidate as lookup

if TYPE_CHECKING:  # pragma: no cover
    from nightcast.stage_options import ForecastPlan


@dataclass(frozen=True)
class Training:
    """Train an RNN candidate from scratch ("full") or fine-tune its previous version ("fine_tune"), and why."""

    mode: str
    reason: str
    parent_version: str | None = None
    parent_path: str | None = None
    full_as_of: dt.date | None = None
    """data_end of the last full fit in this line (a fine-tune inherits its parent's)."""


def taken_since(revisions: pd.DataFrame, previous: dict | None) -> dt.date | None:
    """The oldest close a ticker's prices took from a revision (rule "take") after the previous version was
    trained, among the days it trained on (None: it saw the prices as they are now). revisions: the ticker's
    recorded revisions (date, rule, detected_at)."""
    if previous is None or revisions.empty:
        return None
    detected = pd.to_datetime(revisions["detected_at"], utc=True)
    days = pd.to_datetime(revisions["date"])
    taken = revisions[
        (revisions["rule"] == "take")
        & (detected > pd.Timestamp(previous["trained_at"]))
        & (days <= pd.Timestamp(previous["data_end"]))
    ]
    return None if taken.empty else pd.Timestamp(taken["date"].min()).date()


def refit_due(
    previous: dict | None, as_of: dt.date, full_every_days: int, stored: bool = True, revised: dt.date | None = None
) -> str | None:
    """Why a candidate must be fitted from scratch tonight, or None when its previous version may go on:
    full_every_days 0, no previous version, its folder pruned (stored False), a close it saw revised since
    (revised), or its last full fit at least full_every_days before as_of (weekly by default)."""
    if full_every_days == 0:
        return "full fit every night (full_retrain_every_days = 0)"
    if previous is None:
        return "no previous version"
    if not stored:
        return f"{previous['model_version']}'s folder was pruned"
    if revised is not None:
        return f"prices revised from {revised} after {previous['model_version']} was trained"
    full_as_of = pd.Timestamp(previous["full_as_of"]).date()
    age = (as_of - full_as_of).days
    if age >= full_every_days:
        return (
            f"full fit due: the last one saw data up to {full_as_of}, {age} days before "
            f"{as_of} (full_retrain_every_days = {full_every_days})"
        )
    return None


def plan_training(
    candidate: str,
    previous: dict | None,
    as_of: dt.date,
    full_every_days: int,
    stored: bool = True,
    revised: dt.date | None = None,
) -> Training:
    """How a candidate fits tonight: an RNN fine-tunes its previous version ("fine_tune", else "full") and a
    statistical model filters tonight's closes with its previous parameters ("filter", else "fit": a refit),
    unless refit_due says a fit from scratch is due."""
    rnn = lookup(candidate).is_rnn
    due = refit_due(previous, as_of, full_every_days, stored, revised)
    if due is not None:
        return Training("full", f"{due}: training from scratch") if rnn else Training("fit", f"{due}: refitting")
    assert previous is not None
    full_as_of = pd.Timestamp(previous["full_as_of"]).date()
    since = f"the last full fit saw data up to {full_as_of}, {(as_of - full_as_of).days} days before {as_of}"
    version, path = previous["model_version"], previous["path"]
    if rnn:
        return Training("fine_tune", f"fine-tuning {version}; {since}", version, path, full_as_of)
    return Training(
        "filter", f"filtering tonight's closes with {version}'s parameters; {since}", version, path, full_as_of
    )


def plan_rnn_training(
    previous: dict | None, as_of: dt.date, full_every_days: int, stored: bool = True, revised: dt.date | None = None
) -> Training:
    """An RNN candidate's plan_training."""
    return plan_training("simple_rnn-log_return", previous, as_of, full_every_days, stored, revised)


def cold_candidates(realized: pd.DataFrame, backtested: set[str], plan: ForecastPlan, days: int) -> list[str]:
    """Candidates to backtest tonight: never backtested for the ticker, with fewer than min_forecasts
    realized forecasts, and `days` of history enough for the folds (else they wait, unserved, for live
    evidence)."""
    from tasks.forecasting.forecasters import min_closes

    counts = realized["candidate"].value_counts() if len(realized) else pd.Series(dtype="int64")
    folds = plan.backtest.folds * plan.backtest.refit_every
    return [
        name
        for name in plan.candidates
        if name not in backtested
        and counts.get(name, 0) < plan.evidence.min_forecasts
        and days >= folds + min_closes(lookup(name), plan.fitting.time_step)
    ]
