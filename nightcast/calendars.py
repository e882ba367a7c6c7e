"""Trading calendars: which exchange a ticker trades on, and its sessions after a day.

Horizon h of a forecast made as of day D is the h-th trading session of the ticker's exchange after D
(exchange_calendars: holidays, early closes and unscheduled closures such as Hurricane Sandy's
2012-10-29/30 included). The exchange comes from the symbol's suffix (Yahoo's conventions), unless a
setting names a calendar.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import exchange_calendars
    import pandas as pd

DEFAULT_CALENDAR = "XNYS"
SUFFIX_CALENDARS: dict[str, str] = {
    ".HK": "XHKG",
    ".L": "XLON",
    ".DE": "XETR",
    ".F": "XFRA",
    ".T": "XTKS",
    ".TO": "XTSE",
    ".V": "XTSX",
    ".PA": "XPAR",
    ".AS": "XAMS",
    ".BR": "XBRU",
    ".MI": "XMIL",
    ".MC": "XMAD",
    ".SW": "XSWX",
    ".ST": "XSTO",
    ".CO": "XCSE",
    ".OL": "XOSL",
    ".HE": "XHEL",
    ".AX": "XASX",
    ".NZ": "XNZE",
    ".SI": "XSES",
    ".KS": "XKRX",
    ".SS": "XSHG",
    ".SA": "BVMF",
    ".MX": "XMEX",
    ".JO": "XJSE",
    ".IR": "XDUB",
    ".LS": "XLIS",
    ".VI": "XWBO",
}
"""Yahoo symbol suffix -> exchange_calendars name, for the common exchanges outside the US."""
CURRENCY_CALENDAR = "24/5"  # EURUSD=X: currency pairs trade every weekday
CRYPTO_CALENDAR = "24/7"  # BTC-USD: crypto trades every day
EARLIEST = "1990-01-01"


def calendar_for(ticker: str, override: str | None = None) -> str:
    """The exchange_calendars name for a ticker: the override, else by its suffix (XNYS by default)."""
    if override:
        return override
    symbol = ticker.upper()
    if symbol.endswith("=X"):
        return CURRENCY_CALENDAR
    if symbol.endswith("-USD"):
        return CRYPTO_CALENDAR
    suffix = symbol[symbol.rfind(".") :] if "." in symbol else ""
    return SUFFIX_CALENDARS.get(suffix, DEFAULT_CALENDAR)


def check_calendar(name: str) -> str:
    """Refuse a calendar name exchange_calendars does not know, naming a few it does."""
    import exchange_calendars as xcals

    names = xcals.get_calendar_names(include_aliases=True)
    if name not in names:
        raise ValueError(
            f"unknown trading calendar {name!r}: use an exchange_calendars name such as XNYS, XLON, XHKG, 24/5 or 24/7"
        )
    return name


@lru_cache(maxsize=16)
def _calendar(name: str) -> exchange_calendars.ExchangeCalendar:
    import exchange_calendars as xcals

    check_calendar(name)
    try:
        return xcals.get_calendar(name, start=EARLIEST)
    except ValueError:  # a calendar that cannot reach back that far: its own earliest start
        return xcals.get_calendar(name)


def sessions_after(day: dt.date, count: int, calendar: str = DEFAULT_CALENDAR) -> tuple[dt.date, ...]:
    """The first `count` trading sessions strictly after day on the calendar."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    import pandas as pd

    cal = _calendar(calendar)
    after = pd.Timestamp(day) + pd.Timedelta(days=1)
    if after > cal.last_session:
        raise ValueError(
            f"{calendar} lists sessions only up to {cal.last_session.date()}; "
            f"update exchange_calendars to forecast after {day}"
        )
    first = cal.date_to_session(max(after, cal.first_session), direction="next")
    return tuple(s.date() for s in cal.sessions_window(first, count))


def is_session(day: dt.date, calendar: str = DEFAULT_CALENDAR) -> bool:
    """Whether the exchange trades on day."""
    import pandas as pd

    return bool(_calendar(calendar).is_session(pd.Timestamp(day)))


def latest_closed_session(calendar: str = DEFAULT_CALENDAR, day: dt.date | None = None) -> dt.date:
    """The calendar's latest session closed by the end of day, or by now when day is None (today taken in the
    exchange's time zone: today's session counts once it has closed)."""
    import pandas as pd

    cal = _calendar(calendar)
    if day is not None:
        return cal.date_to_session(_within(cal, pd.Timestamp(day)), direction="previous").date()
    now = pd.Timestamp.now(tz="UTC")
    today = _within(cal, now.tz_convert(cal.tz).normalize().tz_localize(None))
    session = cal.date_to_session(today, direction="previous")
    if cal.session_close(session) > now and session > cal.first_session:
        session = cal.previous_session(session)
    return session.date()


def sessions_behind(day: dt.date, until: dt.date, calendar: str = DEFAULT_CALENDAR) -> int:
    """How many of the calendar's sessions come after day, up to and including until (0 when day is not before)."""
    import pandas as pd

    if day >= until:
        return 0
    cal = _calendar(calendar)
    start, end = _within(cal, pd.Timestamp(day) + pd.Timedelta(days=1)), _within(cal, pd.Timestamp(until))
    return len(cal.sessions_in_range(start, end)) if start <= end else 0


def _within(cal: exchange_calendars.ExchangeCalendar, day: pd.Timestamp) -> pd.Timestamp:
    """day moved into the calendar's range of sessions (exchange_calendars refuses dates outside it)."""
    return min(max(day, cal.first_session), cal.last_session)
