"""Incremental ingest: which days to ask a source for, and how the fetched rows meet the stored history.

A ticker with stored prices is fetched from a few stored sessions back (the overlap) up to tonight; its
first night fetches the whole history. Fetched days after the last stored one are new; overlapping days
are compared with what is stored, and a close that differs beyond a tolerance is a revision: recorded,
then kept out (rule "keep") or taken (rule "take", which makes the RNN candidates train from scratch).
More revised days than a setting allows (a split, a re-based series) is refused before anything is stored.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from nightcast.errors import ExpectedFailure
from nightcast.price_batches import FetchWindow
from nightcast.stage_options import RevisionPolicy

Rule = Literal["keep", "take"]
REVISION_COLUMNS = ("ticker", "date", "old_close", "new_close", "change")


class RevisionRefused(ExpectedFailure, ValueError):
    """The source rewrote more stored closes than max_revised_days allows; nothing was stored."""


@dataclass(frozen=True)
class Reconciled:
    """Fetched rows against the stored history: what to store, what changed, and the history tonight sees."""

    rows: pd.DataFrame
    """Rows to merge into prices: new dates, plus revised dates when the rule takes them."""
    revisions: pd.DataFrame
    """Stored closes the source changed, not recorded before (REVISION_COLUMNS), oldest first."""
    history: pd.DataFrame
    """Stored rows up to the window's end with tonight's rows applied, in date order: what models see."""
    replaced: tuple[dt.date, ...]
    """Stored dates whose close tonight's rows replace (revisions under the rule "take")."""
    checked: pd.DataFrame
    """The history as the source has it tonight (every fetched row, stored rows on the other days up to the
    window's end): what is validated, so a bad fetched row fails even on a day whose stored close stays."""


def fetch_window(
    stored: pd.Series, start: dt.date | None, end: dt.date | None, overlap: int, refetch: bool = False
) -> FetchWindow:
    """The window to fetch: from `overlap` stored sessions back to end when the ticker has stored prices
    up to end (and start asks for nothing older than them), else the whole requested range."""
    known = np.unique(pd.to_datetime(pd.Series(stored)).to_numpy("datetime64[D]"))
    if end is not None:
        known = known[known <= np.datetime64(end, "D")]
    if refetch or not len(known) or (start is not None and np.datetime64(start, "D") < known[0]):
        return FetchWindow(start, end, False)
    return FetchWindow(known[-min(overlap, len(known))].item(), end, True)


def _as_days(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose date column holds datetime.date values."""
    return frame.assign(date=pd.to_datetime(frame["date"]).dt.date)


def find_revisions(stored: pd.DataFrame, fetched: pd.DataFrame, tolerance: float) -> pd.DataFrame:
    """Overlapping dates whose fetched close differs from the stored one by more than tolerance
    (relative to the stored close), oldest first (REVISION_COLUMNS); a missing fetched close is not one."""
    both = _as_days(stored)[["ticker", "date", "close"]].merge(
        _as_days(fetched)[["date", "close"]].drop_duplicates("date", keep="last"),
        on="date",
        suffixes=("_old", "_new"),
    )
    old, new = both["close_old"].to_numpy("float64"), both["close_new"].to_numpy("float64")
    with np.errstate(all="ignore"):
        change = new / old - 1
    differs = ~np.isclose(new, old, rtol=tolerance, atol=0.0) & ~np.isnan(new)  # a missing close is for validation
    out = pd.DataFrame(
        {"ticker": both["ticker"], "date": both["date"], "old_close": old, "new_close": new, "change": change}
    )
    return out[differs].sort_values("date").reset_index(drop=True)


def refuse_rewrite(ticker: str, revisions: pd.DataFrame, max_revised: int) -> None:
    """Raise RevisionRefused, naming the dates, when more than max_revised closes were rewritten."""
    if len(revisions) <= max_revised:
        return
    first, last = revisions["date"].iloc[0], revisions["date"].iloc[-1]
    ratios = (revisions["new_close"] / revisions["old_close"]).round(4).unique()
    ratio = f"new/old {ratios[0]:g} on every one: a split or a re-based series" if len(ratios) == 1 else "a rewrite"
    raise RevisionRefused(
        f"the source changed {len(revisions)} stored closes of {ticker} between {first} and {last} ({ratio}); "
        f"at most max_revised_days={max_revised} are accepted, so nothing was stored. If the source is right, "
        f"re-ingest the whole history with --refetch --on-revision take --max-revised-days {len(revisions)}"
    )


def reconcile(
    ticker: str,
    stored: pd.DataFrame,
    fetched: pd.DataFrame,
    window: FetchWindow,
    policy: RevisionPolicy,
    recorded: pd.DataFrame | None = None,
) -> Reconciled:
    """Split fetched rows into new and revised days, refuse a rewritten history, apply the policy's rule.
    recorded: revisions stored before (date, new_close); one seen again (a kept one stays in the overlap for a
    few nights) is neither recorded nor counted again."""
    stored, fetched = _as_days(stored), _as_days(fetched)
    revisions = unrecorded(find_revisions(stored, fetched, policy.tolerance), recorded)
    refuse_rewrite(ticker, revisions, policy.max_revised)
    replaced = tuple(revisions["date"]) if policy.rule == "take" else ()
    rows = fetched[~fetched["date"].isin(set(stored["date"])) | fetched["date"].isin(set(replaced))]
    history = combine(stored, rows, window.end).sort_values("date", kind="stable").reset_index(drop=True)
    checked = combine(stored, fetched, window.end)
    return Reconciled(rows.reset_index(drop=True), revisions, history, replaced, checked)


def combine(stored: pd.DataFrame, rows: pd.DataFrame, end: dt.date | None) -> pd.DataFrame:
    """Stored rows up to end on the dates rows lack, and rows, in date order (rows' columns, dates as
    datetime64); rows a source gave out of order are appended as they came, for validation to see."""
    kept = stored[~stored["date"].isin(set(rows["date"]))]
    if end is not None:
        kept = kept[kept["date"] <= end]
    out = pd.concat([kept.loc[:, list(rows.columns)], rows], ignore_index=True)
    if rows["date"].is_monotonic_increasing:
        out = out.sort_values("date", kind="stable").reset_index(drop=True)
    out["date"] = pd.to_datetime(out["date"]).astype("datetime64[us]")
    return out


def unrecorded(revisions: pd.DataFrame, recorded: pd.DataFrame | None) -> pd.DataFrame:
    """Revisions whose (date, new close) is not among the recorded ones (the same revision seen again in
    the next nights' overlap is recorded once)."""
    if recorded is None or recorded.empty or revisions.empty:
        return revisions
    seen = set(zip(_as_days(recorded)["date"], recorded["new_close"].round(6), strict=True))
    fresh = [(d, round(c, 6)) not in seen for d, c in zip(revisions["date"], revisions["new_close"], strict=True)]
    return revisions[fresh].reset_index(drop=True)


def plan_windows(
    stored: pd.DataFrame, tickers: list[str], start, end, overlap: int, refetch: bool = False
) -> dict[str, FetchWindow]:
    """Each ticker's fetch window from its stored dates (stored: ticker and date columns of prices)."""
    dates = {ticker: group["date"] for ticker, group in stored.groupby("ticker")}
    empty = pd.Series([], dtype="object")
    return {t: fetch_window(dates.get(t, empty), start, end, overlap, refetch) for t in tickers}
