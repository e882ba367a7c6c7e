"""The Yahoo source's failures, named by cause: the client's own exception classes and HTTP answers, the retry
policy by cause, and a host that went down failing fast. Data comes from stand-ins for yfinance.download; the
session handed to them is the real client's (its live behaviour: tests/reliability/test_yahoo_client.py)."""

from __future__ import annotations

from datetime import date

import pytest
from curl_cffi.requests import exceptions as curl_errors
from yfinance.exceptions import YFRateLimitError

from nightcast import yahoo_client
from nightcast.price_sources import IngestError, SourceThrottled, SourceUnavailable, UnknownSymbol
from nightcast.yahoo import YahooSource
from nightcast.yahoo_client import Failure, Outcomes, failure_of, failure_of_status, symbol_of
from tests.fake_yahoo import Failing, FakeYahoo

DNS = "Failed to perform, curl: (6) Could not resolve host: query2.finance.yahoo.com (Domain name not found). See "


@pytest.mark.parametrize(
    "error, cause, detail",
    [
        (curl_errors.DNSError(DNS + "https://curl.se/x", 6), "dns", "Could not resolve host: query2.finance.yahoo.com"),
        (curl_errors.ConnectionError("curl: (7) Failed to connect to h port 443", 7), "connect", "Failed to connect"),
        (curl_errors.ConnectTimeout("curl: (28) Connection timed out after 4001 ms", 28), "timeout", "timed out"),
        (curl_errors.ReadTimeout("curl: (28) Operation timed out", 28), "timeout", "Operation timed out"),
        (curl_errors.SSLError("curl: (35) TLS connect error", 35), "tls", "TLS connect error"),
        (curl_errors.ProxyError("curl: (5) Could not resolve proxy: p", 5), "proxy", "Could not resolve proxy"),
        (curl_errors.ImpersonateError("Impersonating chrome152 is not supported"), "client", "chrome152"),
        (YFRateLimitError(), "rate_limit", "Too Many Requests"),
        (curl_errors.RequestException("curl: (6) Could not resolve host: x", 6), "dns", "Could not resolve host"),
        (ValueError("bad\nthing"), "client", "bad thing"),
    ],
    ids=["dns", "refused", "connect-timeout", "read-timeout", "tls", "proxy", "impersonate", "429", "by-code", "bug"],
)
def test_each_client_error_is_named_by_its_cause(error, cause, detail):
    failure = failure_of(error)
    assert failure.cause == cause and detail in failure.detail and "\n" not in failure.detail
    assert failure.unreachable == (cause in ("dns", "connect", "timeout", "tls", "proxy"))


def test_http_answers_are_named():
    assert failure_of_status(200) is None and failure_of_status(302) is None
    assert failure_of_status(429).cause == "rate_limit" and failure_of_status(404).cause == "unknown_symbol"
    assert failure_of_status(503) == Failure("server", "HTTP 503") and failure_of_status(503).unreachable
    assert failure_of_status(401) == Failure("refused", "HTTP 401") and not failure_of_status(401).unreachable


def test_the_symbol_of_a_chart_request():
    assert symbol_of("https://query2.finance.yahoo.com/v8/finance/chart/%5EGSPC?range=max") == "^GSPC"
    assert symbol_of("https://query2.finance.yahoo.com/v8/finance/chart/BRK-B") == "BRK-B"
    assert symbol_of("https://fc.yahoo.com") is None
    assert symbol_of("https://query1.finance.yahoo.com/v1/test/getcrumb") is None


def test_a_symbol_is_explained_by_its_own_answer_else_by_the_sessions_last_failure():
    outcomes = Outcomes()
    chart = "https://query2.finance.yahoo.com/v8/finance/chart/"
    outcomes.record(chart + "AAA", None)
    outcomes.record(chart + "BBB", Failure("rate_limit"))
    outcomes.record("https://fc.yahoo.com", Failure("dns", "x"), curl_errors.DNSError("x", 6))
    assert outcomes.failure_for("AAA") is None  # answered: an empty frame is then not a network failure
    assert outcomes.failure_for("bbb").cause == "rate_limit"
    assert outcomes.failure_for("CCC").cause == "dns"  # never asked for: the session's last failure


def test_a_host_that_just_went_down_fails_at_once_then_is_tried_again(monkeypatch):
    clock = [100.0]
    monkeypatch.setattr(yahoo_client.time, "monotonic", lambda: clock[0])
    outcomes, error = Outcomes(), curl_errors.DNSError("curl: (6) Could not resolve host: h", 6)
    outcomes.record("https://h/v8/finance/chart/AAA", failure_of(error), error)
    with pytest.raises(curl_errors.DNSError):
        outcomes.raise_if_down("h")
    outcomes.raise_if_down("other")  # another host is not affected
    clock[0] += yahoo_client.DOWN_SECONDS
    outcomes.raise_if_down("h")  # long enough ago: the network is asked again


def test_an_unreachable_yahoo_is_asked_once_more_after_a_short_wait_then_named(monkeypatch):
    waits: list[float] = []
    fake = Failing(curl_errors.DNSError(DNS + "https://curl.se/x", 6))
    with pytest.raises(SourceUnavailable) as raised:
        YahooSource(fake, sleep=waits.append).fetch("NFLX", date(2022, 4, 1), None)
    message = str(raised.value)
    assert fake.calls == 2 and waits == [2.0] and not isinstance(raised.value, SourceThrottled)
    assert message.startswith("Yahoo Finance, 'NFLX' (2022-04-01..latest): cannot resolve Yahoo's host")
    assert "--source sample" in message and "\n" not in message


def test_a_rate_limit_is_a_throttled_error_left_to_the_caller_to_back_off():
    waits: list[float] = []
    fake = Failing(YFRateLimitError())
    with pytest.raises(SourceThrottled, match="rate limit") as raised:
        YahooSource(fake, sleep=waits.append).fetch("NFLX", None, None)
    assert fake.calls == 1 and waits == [] and "fetch.batch_size" in str(raised.value)


def test_an_unknown_symbol_is_not_retried_and_says_so():
    waits: list[float] = []
    with pytest.raises(UnknownSymbol, match=r"no prices for 'ZZZZ' \(earliest..latest\): the symbol is unknown"):
        YahooSource(FakeYahoo({}), sleep=waits.append).fetch("ZZZZ", None, None)
    assert waits == [] and not issubclass(UnknownSymbol, SourceUnavailable)


def test_a_client_error_is_an_ingest_error_that_is_not_retried():
    fake = Failing(curl_errors.ImpersonateError("Impersonating chrome152 is not supported"))
    with pytest.raises(IngestError, match="HTTP client failed before reaching the network") as raised:
        YahooSource(fake, sleep=lambda s: None).fetch("NFLX", None, None)
    assert fake.calls == 1 and not isinstance(raised.value, SourceUnavailable)


def test_a_batch_keeps_what_came_back_and_names_why_the_others_did_not(prices):
    fake = FakeYahoo({"AAA": prices(30, ticker="AAA")})
    source = YahooSource(fake, sleep=lambda s: None)
    fetched = source.fetch_many(["AAA", "ZZZZ"], None, None)
    assert list(fetched) == ["AAA"] and len(fetched["AAA"]) == 30
    assert source.failures == {"ZZZZ": None}  # answered empty: unknown, no network failure to blame


def test_a_batch_that_got_nothing_for_a_network_reason_raises_it():
    source = YahooSource(Failing(curl_errors.ConnectionError("curl: (7) Failed to connect", 7)), sleep=lambda s: 0)
    with pytest.raises(SourceUnavailable, match=r"2 symbol\(s\) from 'AAA': cannot connect to Yahoo"):
        source.fetch_many(["AAA", "BBB"], None, None)


def test_a_frame_of_dates_without_any_price_is_nothing_back(prices):
    fake = FakeYahoo({"AAA": prices(5, ticker="AAA")})

    def no_prices(symbols, **options):  # the symbol's columns and dates, every price empty
        return fake(symbols, **options) * float("nan")

    with pytest.raises(UnknownSymbol, match="'AAA'"):
        YahooSource(no_prices, sleep=lambda s: None).fetch("AAA", None, None)
