"""Many tickers from Yahoo in few calls: grouped by window, batch_size symbols a call, bounded concurrency,
backoff on throttling. The network is a FakeYahoo injected through YahooSource's download seam."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from nightcast.price_batches import Backoff, Batch, fetch_batch, fetch_batches, plan_batches
from nightcast.price_sources import SourceUnavailable
from nightcast.yahoo import YahooSource
from tasks.prices.revisions import FetchWindow, plan_windows
from tests.conftest import random_walk_prices
from tests.fake_yahoo import FakeYahoo

TICKERS = [f"T{i:02d}" for i in range(50)]


def histories(n: int = 60) -> dict[str, pd.DataFrame]:
    return {t: random_walk_prices(n, ticker=t, seed=i) for i, t in enumerate(TICKERS)}


def stored_dates(data: dict[str, pd.DataFrame], upto: int) -> pd.DataFrame:
    """ticker, date of the first `upto` rows of each history: what prices holds."""
    return pd.concat([h.iloc[:upto][["ticker", "date"]] for h in data.values()], ignore_index=True)


def test_fifty_stored_tickers_are_fetched_incrementally_in_three_calls():
    data = histories()
    fake = FakeYahoo(data)
    windows = plan_windows(stored_dates(data, 55), TICKERS, None, None, overlap=5)
    batches = plan_batches(windows, size=20)
    assert [len(b.tickers) for b in batches] == [20, 20, 10]
    fetched = fetch_batches(YahooSource(fake), batches, concurrency=2, backoff=Backoff(0))
    assert len(fake.calls) == 3 and fake.most_at_once <= 2
    first_overlap = data["T00"]["date"].iloc[50].date()
    assert {call.start for call in fake.calls} == {first_overlap} and {c.end for c in fake.calls} == {None}
    assert sorted(fetched) == TICKERS
    assert all(len(frame) == 10 for frame in fetched.values())  # 5 overlap days + 5 new days each
    pd.testing.assert_series_equal(
        fetched["T07"]["close"], data["T07"]["close"].iloc[50:].reset_index(drop=True), check_names=False
    )


def test_new_and_stored_tickers_are_asked_for_in_separate_batches():
    data = histories()
    stored = stored_dates({t: data[t] for t in TICKERS[:30]}, 55)
    windows = plan_windows(stored, TICKERS, dt.date(2020, 1, 1), None, overlap=5)
    batches = plan_batches(windows, size=50)
    assert [(len(b.tickers), b.window.incremental) for b in batches] == [(30, True), (20, False)]
    assert batches[1].window == FetchWindow(dt.date(2020, 1, 1), None, False)


def test_a_ticker_yahoo_does_not_know_is_left_to_its_own_run():
    data = histories()
    fake = FakeYahoo({t: data[t] for t in TICKERS[:3]})
    batch = Batch(("T00", "T01", "T02", "NOPE"), FetchWindow(None, None, False))
    fetched = fetch_batch(YahooSource(fake), batch, Backoff(0))
    assert sorted(fetched) == ["T00", "T01", "T02"] and all(len(f) == 60 for f in fetched.values())


def test_days_other_tickers_add_are_dropped():
    data = histories()
    short = data["T01"].drop(index=[10, 11]).reset_index(drop=True)  # T01 did not trade two days
    fake = FakeYahoo({"T00": data["T00"], "T01": short})
    fetched = YahooSource(fake).fetch_many(["T00", "T01"], None, None)
    assert len(fetched["T00"]) == 60 and len(fetched["T01"]) == 58
    assert fetched["T01"]["close"].notna().all()


def test_throttling_is_retried_with_exponential_backoff():
    data = histories()
    fake, waits = FakeYahoo(data, throttle=2), []
    batch = Batch(tuple(TICKERS[:5]), FetchWindow(None, None, False))
    fetched = fetch_batch(YahooSource(fake), batch, Backoff(retries=3, first_seconds=2.0), sleep=waits.append)
    assert waits == [2.0, 4.0] and len(fake.calls) == 3 and sorted(fetched) == TICKERS[:5]


def test_a_batch_that_stays_unavailable_gives_nothing_after_its_retries():
    fake, waits = FakeYahoo(histories(), throttle=10), []
    batch = Batch(tuple(TICKERS[:5]), FetchWindow(None, None, False))
    assert fetch_batch(YahooSource(fake), batch, Backoff(retries=2, first_seconds=1.0), sleep=waits.append) == {}
    assert waits == [1.0, 2.0] and len(fake.calls) == 3


def test_a_single_ticker_fetch_reports_throttling_as_unavailable():
    with pytest.raises(SourceUnavailable, match="Too Many Requests"):
        YahooSource(FakeYahoo(histories(), throttle=1)).fetch("T00", None, None)


def test_only_a_throttled_call_is_asked_again_after_the_backoff():
    from nightcast.price_batches import Batching, with_backoff
    from nightcast.price_sources import IngestError, SourceThrottled, UnknownSymbol

    waits: list[float] = []
    answers = iter([SourceThrottled("429"), SourceThrottled("429"), "rows"])

    def call():
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert with_backoff(call, Batching(backoff=Backoff(3, 2.0)), waits.append) == "rows" and waits == [2.0, 4.0]
    for error in (SourceUnavailable("dns"), UnknownSymbol("XYZ"), IngestError("bad file")):
        waits.clear()

        def fails(error=error):
            raise error

        with pytest.raises(type(error)):
            with_backoff(fails, Batching(backoff=Backoff(3, 2.0)), waits.append)
        assert waits == []  # the source itself asked an unreachable Yahoo again; the rest never help
    with pytest.raises(SourceThrottled):
        with_backoff(lambda: call_throttled(), Batching(backoff=Backoff(2, 1.0)), waits.append)
    assert waits == [1.0, 2.0]


def call_throttled():
    from nightcast.price_sources import SourceThrottled

    raise SourceThrottled("429")


def test_the_nightlys_default_batching_is_what_the_readme_says():
    """50 symbols a call, 2 calls at a time; a throttled call asked again after 2, 4 and 8 s, then given up."""
    from nightcast.plans import NightlyPlan
    from nightcast.price_batches import Backoff, Batching, with_backoff
    from nightcast.price_sources import SourceThrottled

    fetch = NightlyPlan().fetch
    batching = Batching(fetch.batch_size, fetch.concurrency, Backoff(fetch.retries, fetch.backoff_seconds))
    assert (batching.size, batching.concurrency, batching.backoff.delays()) == (50, 2, [2.0, 4.0, 8.0])
    slept: list[float] = []

    def throttled():
        raise SourceThrottled("rate limited")

    with pytest.raises(SourceThrottled):
        with_backoff(throttled, batching, sleep=slept.append)
    assert slept == [2.0, 4.0, 8.0]
