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

from nightcast.candidates import NAIVE
from nightcast.candidates import candidate as lookup
from nightcast.warehouse import Warehouse
from tasks.scores import Duel, duel

if TYPE_CHECKING:  # pragma: no cover
    from nightcast.settings import Settings


@dataclass(frozen=True)
class Training:
    """Train an RNN candidate from scratch ("full") or fine-tune its previous version ("fine_tune"), and why."""

    mode: str
    reason: str
    parent_version: str | None = None
    parent_path: str | None = None
    full_as_of: dt.date | None = None
    """data_end of the last full fit in this line (a fine-tune inherits its parent's)."""


def previous_version(warehouse: Warehouse, ticker: str, candidate: str, as_of: dt.date) -> dict | None:
    """The candidate's latest fitted version for the ticker on data before as_of, as a model_events row."""
    rows = warehouse.query(
        "select model_version, path, full_as_of, data_end, trained_at from model_events where ticker = ? "
        "and candidate = ? and data_end < ? order by data_end desc, trained_at desc limit 1",
        [ticker, candidate, as_of],
        tickers=[ticker],
    )
    return None if rows.empty else rows.iloc[0].to_dict()


def taken_revision(warehouse: Warehouse, ticker: str, previous: dict | None) -> dt.date | None:
    """The oldest close the ticker's prices took from a revision after the previous version was trained,
    among the days it trained on (None: it saw the prices as they are now)."""
    if previous is None:
        return None
    rows = warehouse.query(
        "select min(date) as first from price_revisions where ticker = ? and rule = 'take' "
        "and detected_at > ? and date <= ?",
        [ticker, previous["trained_at"], previous["data_end"]],
        tickers=[ticker],
    )
    first = rows["first"].iloc[0]
    return None if pd.isna(first) else pd.Timestamp(first).date()


def plan_rnn_training(
    previous: dict | None, as_of: dt.date, full_every_days: int, stored: bool = True, revised: dt.date | None = None
) -> Training:
    """Fine-tune the previous version unless a full fit is due (weekly by default) or there is none;
    stored: whether the previous version's folder is still there (old runs' folders are pruned); revised:
    the oldest close revised since it was trained, on a day it saw."""
    if full_every_days == 0:
        return Training("full", "full fit every night (full_retrain_every_days = 0)")
    if previous is None:
        return Training("full", "no previous version: training from scratch")
    if not stored:
        return Training("full", f"{previous['model_version']}'s folder was pruned: training from scratch")
    if revised is not None:
        return Training(
            "full",
            f"prices revised from {revised} after {previous['model_version']} was trained: training from scratch",
        )
    full_as_of = pd.Timestamp(previous["full_as_of"]).date()
    age = (as_of - full_as_of).days
    if age >= full_every_days:
        return Training(
            "full",
            f"full fit due: the last one saw data up to {full_as_of}, {age} days before "
            f"{as_of} (full_retrain_every_days = {full_every_days})",
        )
    return Training(
        "fine_tune",
        f"fine-tuning {previous['model_version']}; the last full fit saw data up to "
        f"{full_as_of}, {age} days before {as_of}",
        previous["model_version"],
        previous["path"],
        full_as_of,
    )


def stored_forecasts(warehouse: Warehouse, ticker: str, as_of: dt.date, window: int = 0) -> pd.DataFrame:
    """The ticker's candidate forecasts whose target is on or before as_of: live ones (with their intervals)
    and backtest ones; one per candidate, origin and horizon (a live forecast wins, then the latest run).
    With a window, only those of the last `window` origins (all that evidence of that window can use), so
    that what a night loads and scores stays bounded however long the history grows."""
    return warehouse.query(
        """
        with raw as (
            select run_id, candidate, as_of, target_date, horizon, forecast, lower_80, upper_80, lower_95,
                   upper_95, 0 as source
            from forecasts where ticker = ? and target_date <= ? and candidate is not null
            union all
            select run_id, candidate, as_of, date, horizon, predicted, null, null, null, null, 1
            from backtests where ticker = ? and date <= ? and candidate is not null and horizon is not null),
        origins as (select distinct as_of from raw order by as_of desc limit ?),
        kept as (select * from raw where ? = 0 or as_of >= (select min(as_of) from origins))
        select candidate, as_of, target_date, horizon, forecast, lower_80, upper_80, lower_95, upper_95 from (
            select *, row_number() over (partition by candidate, as_of, horizon order by source, run_id desc) as pick
            from kept)
        where pick = 1""",
        [ticker, as_of, ticker, as_of, max(window, 1), window],
        tickers=[ticker],
    )


def backtested_candidates(warehouse: Warehouse, ticker: str) -> set[str]:
    """Candidates with stored multi-horizon backtest forecasts for the ticker."""
    rows = warehouse.query(
        "select distinct candidate from backtests where ticker = ? and candidate is not null and horizon is not null",
        [ticker],
        tickers=[ticker],
    )
    return set(rows["candidate"])


def cold_candidates(realized: pd.DataFrame, backtested: set[str], settings: Settings, days: int) -> list[str]:
    """Candidates to backtest tonight: never backtested for the ticker, with fewer than min_forecasts
    realized forecasts, and `days` of history enough for the folds (else they wait, unserved, for live
    evidence)."""
    from tasks.forecasters import min_closes

    counts = realized["candidate"].value_counts() if len(realized) else pd.Series(dtype="int64")
    folds = settings.backtest_folds * settings.backtest_refit_every
    return [
        name
        for name in settings.candidates
        if name not in backtested
        and counts.get(name, 0) < settings.min_forecasts
        and days >= folds + min_closes(lookup(name), settings)
    ]


def current_champion(warehouse: Warehouse, ticker: str, as_of: dt.date) -> str | None:
    """The candidate the ticker served on its latest night before as_of, or None (a cold start)."""
    rows = warehouse.query(
        "select champion from decisions where ticker = ? and as_of < ? order by as_of desc, decided_at desc limit 1",
        [ticker, as_of],
        tickers=[ticker],
    )
    return None if rows.empty else str(rows["champion"].iloc[0])


@dataclass(frozen=True)
class Decision:
    """Tonight's served candidate, the evidence it was chosen on and a sentence saying why."""

    champion: str
    previous: str | None
    action: str
    """cold start, kept, replaced, or naive fallback."""
    reason: str
    evidence: Duel
    """The best challenger against the champion it faced, on their shared realized forecasts."""


def _text(d: Duel) -> str:
    return (
        (
            f"{d.candidate} MASE {d.mase:.4f} vs {d.other} {d.other_mase:.4f} (naive {d.naive_mase:.4f}; "
            f"{d.candidate}'s worst horizon {d.worst:.3f} x naive) on {d.n} shared forecasts, origins "
            f"{d.first:%Y-%m-%d}..{d.last:%Y-%m-%d}"
        )
        if d.n
        else f"{d.candidate} and {d.other} share no realized forecast"
    )


def _ratio(d: Duel) -> float:
    return d.mase / d.other_mase if d.n and d.other_mase > 0 else float("inf")


def choose_champion(
    rows: pd.DataFrame, candidates: list[str], current: str | None, margin: float, min_forecasts: int
) -> Decision:
    """Keep the champion unless a challenger's MASE (mean over horizons, on the forecasts both made) is lower
    by more than `margin` over at least `min_forecasts` forecasts and no worse than naive's at any horizon;
    serve naive when the champion no longer beats naive on the mean, or falls behind it by more than the
    margin at some horizon. A cold start (no champion yet) starts from naive."""
    holder = current if current in candidates else NAIVE
    duels = [duel(rows, c, holder) for c in candidates if c != holder]
    eligible = [
        d
        for d in duels
        if d.n >= min_forecasts and d.mase < d.other_mase * (1.0 - margin) and (d.candidate == NAIVE or d.worst <= 1.0)
    ]
    if eligible:
        best = min(eligible, key=_ratio)
        return Decision(
            best.candidate,
            current,
            "cold start" if current is None else "replaced",
            f"{best.candidate} beats {holder} by more than {margin:.0%}: {_text(best)}",
            best,
        )
    if holder != NAIVE:
        against_naive = duel(rows, holder, NAIVE)
        if not (
            against_naive.n and against_naive.mase < against_naive.other_mase and against_naive.worst <= 1.0 + margin
        ):
            return Decision(
                NAIVE,
                current,
                "naive fallback",
                f"{holder} no longer beats naive: {_text(against_naive)}",
                against_naive,
            )
    closest = min(duels, key=_ratio, default=duel(rows, holder, holder))
    why = "nothing beats naive" if holder == NAIVE else f"{holder} kept: no challenger beats it"
    other = f"; closest: {_text(closest)}" if closest.candidate != holder else ""
    return Decision(
        holder,
        current,
        "cold start" if current is None else "kept",
        f"{why} by more than {margin:.0%} over at least {min_forecasts} shared forecasts{other}",
        closest,
    )


def decision_row(
    decision: Decision,
    run_id: str,
    ticker: str,
    as_of: dt.date,
    margin: float,
    min_forecasts: int,
    decided_at: pd.Timestamp,
) -> pd.DataFrame:
    """The decisions-table row of tonight's choice."""
    d = decision.evidence
    if d.candidate == d.other:  # naive alone: no challenger
        challenger, champion_mase, challenger_mase = None, d.mase, None
    elif d.other == decision.champion:
        challenger, champion_mase, challenger_mase = d.candidate, d.other_mase, d.mase
    else:
        challenger, champion_mase, challenger_mase = d.other, d.mase, d.other_mase
    return pd.DataFrame(
        [
            {
                "run_id": run_id,
                "ticker": ticker,
                "as_of": as_of,
                "champion": decision.champion,
                "previous": decision.previous,
                "challenger": challenger,
                "action": decision.action,
                "n": d.n,
                "champion_mase": champion_mase,
                "challenger_mase": challenger_mase,
                "naive_mase": d.naive_mase,
                "evidence_start": d.first,
                "evidence_end": d.last,
                "margin": margin,
                "min_forecasts": min_forecasts,
                "reason": decision.reason,
                "decided_at": decided_at,
            }
        ]
    )
