"""The champion rule: which candidate a ticker serves tonight, on the realized evidence, and the decisions row
that records the choice with its reasons (tasks/forecasting/registry.py plans how each candidate trains)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nightcast.candidates import NAIVE
from tasks.scoring.scores import Duel, duel


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


BAD_INTERVALS = 1.5
"""A candidate whose interval score is more than 1.5 x naive's own (80% and 95% averaged, over at least
min_forecasts shared forecasts with intervals) misses badly: it is not served on point accuracy alone."""


RECENT_ORIGINS = 3
"""In a storm, the bands are judged on the live forecasts of this many latest origins."""
STORM_MOVES = 5
"""A storm is told by the daily moves between this many latest origins."""
STORM_RATIO = 2.0
"""The median absolute daily move between the STORM_MOVES latest origins over its median across the evidence
window that counts as a storm: the calm window's evidence then says little about the bands, and the recent
evidence rules. A median, so that one jump (an earnings day) is not a storm: an EWMA volatility would stay
high for weeks after it (on GOOG's January 2013 earnings it read 1.68 x its median)."""
MIN_RECENT = 3
"""Fewer shared realized forecasts with bands than this in the recent origins: too few to judge."""


class Arena:
    """The duels of one night's evidence, each fought once however often the rule asks for it, and the recent
    duels of a storm (RECENT_ORIGINS)."""

    def __init__(self, rows: pd.DataFrame):
        self.rows = rows
        self._fought: dict[tuple[str, str], Duel] = {}
        self._recent_fought: dict[str, Duel] = {}
        self.moves = daily_move_ratio(rows)
        self._recent: pd.DataFrame | None = None

    def __call__(self, candidate: str, other: str) -> Duel:
        key = (candidate, other)
        if key not in self._fought:
            self._fought[key] = duel(self.rows, candidate, other)
        return self._fought[key]

    def recent(self, candidate: str) -> Duel:
        """candidate against naive on the live forecasts (with bands) of the RECENT_ORIGINS latest origins."""
        if candidate not in self._recent_fought:
            if self._recent is None:
                self._recent = recent_rows(self.rows)
            self._recent_fought[candidate] = duel(self._recent, candidate, NAIVE)
        return self._recent_fought[candidate]


def daily_move_ratio(rows: pd.DataFrame) -> float:
    """The median absolute log move between the STORM_MOVES latest origins' closes (the `naive` column) over
    the median across all the evidence's origins; 1.0 when there are too few origins to tell."""
    if "naive" not in rows.columns or rows.empty:
        return 1.0
    closes = rows.drop_duplicates("as_of").sort_values("as_of")["naive"].to_numpy("float64")
    moves = np.abs(np.diff(np.log(closes)))
    moves = moves[np.isfinite(moves)]
    if len(moves) < 2 * STORM_MOVES:
        return 1.0
    middle = float(np.median(moves))
    return float(np.median(moves[-STORM_MOVES:])) / middle if middle > 0 else 1.0


def recent_rows(rows: pd.DataFrame) -> pd.DataFrame:
    """The realized live forecasts (those with bands) of the RECENT_ORIGINS latest origins that have any."""
    if "lower_95" not in rows.columns:
        return rows.iloc[:0]
    live = rows[rows["lower_95"].notna()]
    return live[live["as_of"].isin(np.sort(live["as_of"].unique())[-RECENT_ORIGINS:])]


def misses_badly(evidence: pd.DataFrame | Arena, name: str, min_forecasts: int) -> Duel | None:
    """The duel against naive that shows the candidate's intervals miss badly, or None when they do not (or
    there are too few realized intervals to tell). evidence: the realized rows, or the night's Arena."""
    if name == NAIVE:
        return None
    d = (evidence if isinstance(evidence, Arena) else Arena(evidence))(name, NAIVE)
    return d if d.intervals >= min_forecasts and d.interval_ratio > BAD_INTERVALS else None


def slips_in_a_storm(arena: Arena, name: str) -> Duel | None:
    """The recent duel against naive that shows the candidate's bands doing worse than naive's in a storm
    (STORM_RATIO), or None (no storm, too few recent bands, or no worse than naive's)."""
    if name == NAIVE or arena.moves <= STORM_RATIO:
        return None
    d = arena.recent(name)
    return d if d.intervals >= MIN_RECENT and d.interval_ratio > 1.0 else None


def choose_champion(
    rows: pd.DataFrame, candidates: list[str], current: str | None, margin: float, min_forecasts: int
) -> Decision:
    """Keep the champion unless a challenger's MASE (mean over horizons, on the forecasts both made) is lower
    by more than `margin` over at least `min_forecasts` forecasts and no worse than naive's at any horizon;
    serve naive when the champion no longer beats naive on the mean, falls behind it by more than the margin
    at some horizon, or its intervals miss badly (BAD_INTERVALS), or, in a storm (STORM_RATIO), its bands of
    the last RECENT_ORIGINS origins score worse than naive's. A candidate whose intervals miss badly or slip in
    a storm is never chosen. A cold start (no champion yet) starts from naive."""
    holder = current if current in candidates else NAIVE
    arena = Arena(rows)
    duels = [arena(c, holder) for c in candidates if c != holder]
    fit = [d for d in duels if d.n >= min_forecasts and (d.candidate == NAIVE or d.worst <= 1.0)]
    fit = [d for d in fit if misses_badly(arena, d.candidate, min_forecasts) is None]
    fit = [d for d in fit if slips_in_a_storm(arena, d.candidate) is None]
    eligible = [d for d in fit if d.mase < d.other_mase * (1.0 - margin)]
    action = "cold start" if current is None else "replaced"
    if eligible:
        best = min(eligible, key=_ratio)
        why = f"{best.candidate} beats {holder} by more than {margin:.0%}: {_text(best)}"
        return Decision(best.candidate, current, action, why, best)
    fallback = _naive_fallback(arena, holder, current, margin, min_forecasts)
    if fallback is not None:
        return fallback
    closest = min(duels, key=_ratio, default=arena(holder, holder))
    why = "nothing beats naive" if holder == NAIVE else f"{holder} kept: no challenger beats it"
    other = f"; closest: {_text(closest)}" if closest.candidate != holder else ""
    return Decision(
        holder,
        current,
        "cold start" if current is None else "kept",
        f"{why} by more than {margin:.0%} over at least {min_forecasts} shared forecasts{other}",
        closest,
    )


def _naive_fallback(
    arena: Arena, holder: str, current: str | None, margin: float, min_forecasts: int
) -> Decision | None:
    """Naive, when the champion no longer beats it or its intervals miss badly; None to keep the champion."""
    if holder == NAIVE:
        return None
    against_naive = arena(holder, NAIVE)
    if not (against_naive.n and against_naive.mase < against_naive.other_mase and against_naive.worst <= 1.0 + margin):
        why = f"{holder} no longer beats naive: {_text(against_naive)}"
        return Decision(NAIVE, current, "naive fallback", why, against_naive)
    bad = misses_badly(arena, holder, min_forecasts)
    if bad is not None:
        why = (
            f"{holder}'s intervals miss badly: interval score {bad.interval_ratio:.3f} x naive's (limit "
            f"{BAD_INTERVALS}) on {bad.intervals} forecasts"
        )
        return Decision(NAIVE, current, "naive fallback", why, against_naive)
    slipping = slips_in_a_storm(arena, holder)
    if slipping is not None:
        why = (
            f"{holder}'s bands score worse than naive's in a storm (daily moves {arena.moves:.2f} x their median): "
            f"interval score {slipping.interval_ratio:.3f} x naive's on the {slipping.intervals} realized "
            f"forecasts of the last {RECENT_ORIGINS} origins"
        )
        return Decision(NAIVE, current, "naive fallback", why, against_naive)
    return None


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
