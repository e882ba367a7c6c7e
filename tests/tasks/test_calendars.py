"""Horizons are trading sessions of the ticker's exchange, holidays and unscheduled closures included."""

import datetime as dt

import pytest

from nightcast.calendars import (
    calendar_for,
    check_calendar,
    is_session,
    latest_closed_session,
    sessions_after,
    sessions_behind,
)

D = dt.date


def test_presidents_day_2013_is_skipped_and_later_horizons_land_on_sessions():
    assert sessions_after(D(2013, 2, 14), 5) == (
        D(2013, 2, 15),
        D(2013, 2, 19),
        D(2013, 2, 20),
        D(2013, 2, 21),
        D(2013, 2, 22),
    )


def test_hurricane_sandy_closed_the_nyse_on_2012_10_29_and_30():
    assert not is_session(D(2012, 10, 29)) and not is_session(D(2012, 10, 30))
    assert sessions_after(D(2012, 10, 26), 2) == (D(2012, 10, 31), D(2012, 11, 1))


def test_good_friday_and_thanksgiving():
    assert sessions_after(D(2013, 3, 27), 2) == (D(2013, 3, 28), D(2013, 4, 1))  # Good Friday 2013-03-29
    assert sessions_after(D(2012, 11, 21), 2) == (D(2012, 11, 23), D(2012, 11, 26))  # Thanksgiving 2012-11-22


def test_every_horizon_of_a_year_of_origins_is_a_session():
    for offset in range(0, 365, 3):
        day = D(2012, 1, 1) + dt.timedelta(days=offset)
        assert all(is_session(s) for s in sessions_after(day, 5))


def test_exchanges_by_suffix_and_override():
    assert [
        calendar_for(t)
        for t in ("GOOG", "^GSPC", "BRK-B", "0700.HK", "VOD.L", "SAP.DE", "7203.T", "SHOP.TO", "EURUSD=X", "BTC-USD")
    ] == ["XNYS", "XNYS", "XNYS", "XHKG", "XLON", "XETR", "XTKS", "XTSE", "24/5", "24/7"]
    assert calendar_for("GOOG", "XLON") == "XLON"
    assert sessions_after(D(2013, 3, 29), 2, "24/5") == (D(2013, 4, 1), D(2013, 4, 2))  # weekdays only
    assert sessions_after(D(2013, 3, 29), 2, "24/7") == (D(2013, 3, 30), D(2013, 3, 31))
    assert sessions_after(D(2013, 3, 29), 1, "XHKG") == (D(2013, 4, 2),)  # Easter Monday closes Hong Kong


def test_unknown_calendars_and_counts_are_refused():
    with pytest.raises(ValueError, match="unknown trading calendar 'MARS'"):
        check_calendar("MARS")
    with pytest.raises(ValueError, match="at least 1"):
        sessions_after(D(2013, 1, 2), 0)


def test_sessions_behind_counts_the_exchange_s_sessions_closed_since_a_night():
    friday = dt.date(2012, 10, 26)  # then Hurricane Sandy closed NYSE on Monday and Tuesday
    assert latest_closed_session("XNYS", dt.date(2012, 10, 30)) == friday
    assert sessions_behind(friday, latest_closed_session("XNYS", dt.date(2012, 10, 31)), "XNYS") == 1
    assert sessions_behind(friday, dt.date(2012, 10, 30), "24/7") == 4
    assert sessions_behind(friday, friday, "XNYS") == 0 and sessions_behind(friday, dt.date(2012, 1, 3), "XNYS") == 0
    assert latest_closed_session("XNYS") <= dt.date.today()  # now: today's session only once it has closed
