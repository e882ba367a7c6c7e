"""Incremental ingest as pure functions: the window to fetch, revisions found, ruled on and refused."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from nightcast.stage_options import RevisionPolicy
from tasks.prices.revisions import (
    FetchWindow,
    RevisionRefused,
    fetch_window,
    find_revisions,
    reconcile,
    unrecorded,
)
from tests.conftest import random_walk_prices


def stored_and_fetched(n_stored: int = 30, n_new: int = 3, overlap: int = 5):
    """A stored history and a fetch of its last `overlap` days plus n_new new ones (same values)."""
    truth = random_walk_prices(n_stored + n_new, ticker="AAA")
    stored = truth.iloc[:n_stored].assign(source="yahoo")
    return stored, truth.iloc[n_stored - overlap :].reset_index(drop=True)


def days(frame: pd.DataFrame) -> list[dt.date]:
    return list(pd.to_datetime(frame["date"]).dt.date)


# --- fetch_window ---------------------------------------------------------------------------------


def test_first_night_fetches_the_whole_requested_range():
    window = fetch_window(pd.Series([], dtype="object"), dt.date(2020, 1, 1), None, overlap=5)
    assert window == FetchWindow(dt.date(2020, 1, 1), None, False)


def test_a_stored_ticker_is_fetched_from_its_overlap_th_last_stored_date():
    stored = pd.Series(pd.bdate_range("2020-01-01", periods=30))
    window = fetch_window(stored, dt.date(2020, 1, 1), None, overlap=5)
    assert window == FetchWindow(stored.iloc[-5].date(), None, True)
    assert window.describe() == f"{stored.iloc[-5].date()}..latest (incremental)"


def test_a_replayed_night_overlaps_the_stored_days_up_to_its_end():
    stored = pd.Series(pd.bdate_range("2020-01-01", periods=30))
    end = stored.iloc[19].date()
    assert fetch_window(stored, None, end, overlap=3) == FetchWindow(stored.iloc[17].date(), end, True)


def test_overlap_longer_than_the_history_starts_at_the_first_stored_day():
    stored = pd.Series(pd.bdate_range("2020-01-01", periods=2))
    assert fetch_window(stored, None, None, overlap=5).start == stored.iloc[0].date()


@pytest.mark.parametrize(
    "start, refetch", [(dt.date(2019, 1, 1), False), (None, True)], ids=["start before stored", "refetch"]
)
def test_an_older_start_or_refetch_asks_for_the_whole_range(start, refetch):
    stored = pd.Series(pd.bdate_range("2020-01-01", periods=30))
    window = fetch_window(stored, start, None, overlap=5, refetch=refetch)
    assert window == FetchWindow(start, None, False)


# --- revisions ------------------------------------------------------------------------------------


def test_identical_overlap_adds_only_the_new_days():
    stored, fetched = stored_and_fetched()
    merged = reconcile("AAA", stored, fetched, FetchWindow(None, None, True), RevisionPolicy("keep", 1e-4, 3))
    assert days(merged.rows) == days(fetched)[-3:]
    assert merged.revisions.empty and merged.replaced == ()
    assert days(merged.history) == days(stored) + days(fetched)[-3:]
    assert merged.history["date"].dtype == "datetime64[us]"


def test_a_change_within_tolerance_is_not_a_revision():
    stored, fetched = stored_and_fetched()
    fetched.loc[0, "close"] *= 1 + 5e-5
    assert find_revisions(stored, fetched, 1e-4).empty
    assert len(find_revisions(stored, fetched, 1e-5)) == 1


def test_a_kept_revision_is_recorded_and_the_stored_close_stays():
    stored, fetched = stored_and_fetched()
    fetched.loc[1, "close"] *= 1.02
    merged = reconcile("AAA", stored, fetched, FetchWindow(None, None, True), RevisionPolicy("keep", 1e-4, 3))
    revised = merged.revisions.iloc[0]
    assert revised["date"] == days(fetched)[1] and revised["new_close"] == pytest.approx(revised["old_close"] * 1.02)
    assert revised["change"] == pytest.approx(0.02)
    assert days(merged.rows) == days(fetched)[-3:] and merged.replaced == ()
    on_day = merged.history[merged.history["date"] == pd.Timestamp(days(fetched)[1])]
    assert on_day["close"].item() == revised["old_close"]


def test_a_taken_revision_replaces_the_stored_close():
    stored, fetched = stored_and_fetched()
    fetched.loc[1, "close"] *= 1.02
    merged = reconcile("AAA", stored, fetched, FetchWindow(None, None, True), RevisionPolicy("take", 1e-4, 3))
    assert merged.replaced == (days(fetched)[1],)
    assert days(merged.rows) == [days(fetched)[1], *days(fetched)[-3:]]
    on_day = merged.history[merged.history["date"] == pd.Timestamp(days(fetched)[1])]
    assert on_day["close"].item() == fetched.loc[1, "close"]
    assert len(merged.history) == len(stored) + 3


def test_a_revision_recorded_before_is_neither_recorded_nor_counted_again():
    stored, fetched = stored_and_fetched()
    fetched.loc[0:3, "close"] *= 1.02  # four revised days, more than max_revised_days = 3 ...
    found = find_revisions(stored, fetched, 1e-4)
    recorded = found.iloc[:2][["date", "new_close"]]  # ... but two of them were recorded last night
    merged = reconcile("AAA", stored, fetched, FetchWindow(None, None, True), RevisionPolicy("keep", 1e-4, 3), recorded)
    assert days(merged.revisions) == days(found)[2:]
    assert unrecorded(found, recorded).equals(merged.revisions)


def test_a_split_is_refused_naming_its_dates_and_ratio():
    stored, fetched = stored_and_fetched()
    fetched["close"] *= 0.5
    with pytest.raises(RevisionRefused) as refused:
        reconcile("AAA", stored, fetched, FetchWindow(None, None, True), RevisionPolicy("take", 1e-4, 3))
    message = str(refused.value)
    first, last = days(fetched)[0], days(fetched)[4]
    assert f"changed 5 stored closes of AAA between {first} and {last}" in message
    assert "new/old 0.5 on every one: a split" in message and "max_revised_days=3" in message
    assert "\n" not in message


def test_a_rewrite_of_a_long_stretch_is_refused_even_with_rule_take():
    stored = random_walk_prices(200, ticker="AAA")
    fetched = random_walk_prices(200, ticker="AAA", seed=1)
    expected = r"changed 200 stored closes of AAA between 2020-01-01 and 2020-10-06 \(a rewrite\)"
    with pytest.raises(RevisionRefused, match=expected):
        reconcile("AAA", stored, fetched, FetchWindow(None, None, False), RevisionPolicy("take", 1e-4, 3))


def test_history_ends_at_the_window_end_when_later_days_are_stored():
    stored, _ = stored_and_fetched(n_new=0)
    start, end = days(stored)[-14], days(stored)[-10]
    overlap = stored[pd.to_datetime(stored["date"]).dt.date.between(start, end)].drop(columns="source")
    merged = reconcile("AAA", stored, overlap, FetchWindow(start, end, True), RevisionPolicy("keep", 1e-4, 3))
    assert merged.rows.empty and merged.revisions.empty
    assert days(merged.history) == days(stored)[:-9]


def test_a_missing_fetched_close_is_not_a_revision_but_is_validated():
    stored, fetched = stored_and_fetched()
    fetched.loc[1, "close"] = float("nan")
    merged = reconcile("AAA", stored, fetched, FetchWindow(None, None, True), RevisionPolicy("keep", 1e-4, 3))
    assert merged.revisions.empty
    assert merged.history["close"].notna().all()  # what models see keeps the stored close
    assert merged.checked["close"].isna().sum() == 1  # what is validated is the source's version
    assert len(merged.checked) == len(merged.history)
