"""The Yahoo Finance client: curl_cffi loaded so that no other library can take its symbols, and every request's
outcome recorded so that a failed download is named by its cause (DNS, connection, timeout, TLS, proxy, rate
limit, unknown symbol) instead of yfinance's empty frame and log lines.

Why the loader: TensorFlow's libtensorflow_framework.so exports a libcurl of its own (and zlib, zstd, brotli),
and TensorFlow loads it with RTLD_GLOBAL. curl_cffi's _wrapper.abi3.so is libcurl-impersonate linked statically,
and it exports the same names without binding its own calls to them. Loaded after TensorFlow, the wrapper's calls
to curl_easy_setopt and friends go to TensorFlow's plain libcurl, which knows no impersonation options: every
request fails with "Impersonating chrome152 is not supported" before reaching the network. Loading the wrapper
with RTLD_DEEPBIND makes it prefer its own definitions whatever was loaded before; `check_client` proves the
loaded client can impersonate (one handle, no network) before every download.
"""

from __future__ import annotations

import ctypes
import functools
import importlib.machinery
import importlib.util
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

IMPERSONATE = "chrome"
"""The browser yfinance's own sessions impersonate."""
CONNECT_SECONDS = 4.0
"""Longest wait for a connection; yfinance's timeout (10 s) still bounds a slow answer."""
DOWN_SECONDS = 1.5
"""After a host fails to resolve or connect, further requests to it fail at once for this long (one outage costs
one timeout per call, not one per symbol); a retry after a longer wait tries the network again."""
UNREACHABLE = ("dns", "connect", "timeout", "tls", "proxy", "server")
CAUSES = {
    "dns": "cannot resolve Yahoo's host (no network, or DNS down)",
    "connect": "cannot connect to Yahoo",
    "timeout": "Yahoo did not answer in time",
    "tls": "the TLS handshake with Yahoo failed",
    "proxy": "the proxy failed",
    "server": "Yahoo answered with a server error",
    "rate_limit": "Yahoo's rate limit (HTTP 429, Too Many Requests)",
    "unknown_symbol": "Yahoo has no such symbol (HTTP 404)",
    "refused": "Yahoo refused the request",
    "client": "the HTTP client failed before reaching the network",
    "malformed": "Yahoo's answer could not be read",
}
_BY_CLASS = (
    ("YFRateLimitError", "rate_limit"),
    ("ImpersonateError", "client"),
    ("DNSError", "dns"),
    ("ProxyError", "proxy"),
    ("SSLError", "tls"),
    ("Timeout", "timeout"),
    ("ConnectionError", "connect"),
)
_BY_CURL_CODE = {5: "proxy", 6: "dns", 7: "connect", 28: "timeout", 35: "tls", 52: "connect", 56: "connect", 60: "tls"}
_CURL_TEXT = re.compile(r"curl: \((\d+)\) (.*?)(?: \(Domain name not found\))?(?:\. See https?:|$)")


class ClientBroken(RuntimeError):
    """curl_cffi's library in this process cannot impersonate a browser (loaded after another libcurl)."""


@dataclass(frozen=True)
class Failure:
    """Why a request or a symbol failed: a key of CAUSES and the client's own words, on one line."""

    cause: str
    detail: str = ""

    @property
    def unreachable(self) -> bool:
        """The network or Yahoo's servers failed (worth one quick retry), not the request itself."""
        return self.cause in UNREACHABLE

    def describe(self) -> str:
        """'cannot resolve Yahoo's host (no network, or DNS down): Could not resolve host: query2...'"""
        return f"{CAUSES[self.cause]}: {self.detail}" if self.detail else CAUSES[self.cause]


def failure_of(error: BaseException) -> Failure:
    """An exception from the client (curl_cffi or yfinance) as its cause."""
    names = {cls.__name__ for cls in type(error).__mro__}
    cause = next((cause for name, cause in _BY_CLASS if name in names), None)
    text = " ".join(str(error).split())
    found = _CURL_TEXT.search(text)
    code = int(getattr(error, "code", 0) or (found.group(1) if found else 0))
    cause = cause or _BY_CURL_CODE.get(code, "client")
    detail = found.group(2).strip() if found else text or type(error).__name__
    return Failure(cause, detail[:200])


def failure_of_status(status: int) -> Failure | None:
    """An HTTP answer as a failure (None when it is a success)."""
    if status < 400:
        return None
    if status == 429:
        return Failure("rate_limit")
    if status == 404:
        return Failure("unknown_symbol")
    return Failure("server" if status >= 500 else "refused", f"HTTP {status}")


def wrapper_path() -> Path | None:
    """curl_cffi's native library, found without importing curl_cffi (None when it is not installed)."""
    spec = importlib.util.find_spec("curl_cffi")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = (p for suffix in importlib.machinery.EXTENSION_SUFFIXES for p in folder.glob(f"_wrapper{suffix}"))
    return next(found, None)


def check_client() -> None:
    """Raise ClientBroken unless a curl_cffi handle in this process can impersonate IMPERSONATE (no network)."""
    from curl_cffi import Curl
    from curl_cffi.requests.utils import resolve_latest_browser_type

    target = resolve_latest_browser_type(IMPERSONATE)  # 'chrome' -> 'chrome152', as a session resolves it
    handle = Curl()
    try:
        code = handle.impersonate(target)
    finally:
        handle.close()
    if code:
        raise ClientBroken(
            f"the Yahoo client cannot impersonate {target} in this process (curl code {code}): curl_cffi "
            "was loaded after another libcurl (TensorFlow's) without nightcast's loader; load it through "
            "nightcast.yahoo_client.load_client() before anything imports curl_cffi or yfinance"
        )


@functools.cache
def load_client() -> None:
    """Load curl_cffi's library bound to its own symbols (RTLD_DEEPBIND, before Python imports it), then check
    it. Safe in any thread and in any import order; once per process."""
    path = wrapper_path()
    deepbind = getattr(os, "RTLD_DEEPBIND", 0)  # Linux; other systems bind each library to itself anyway
    if path is not None and deepbind and "curl_cffi._wrapper" not in sys.modules:
        ctypes.CDLL(str(path), mode=os.RTLD_NOW | os.RTLD_LOCAL | deepbind)
    check_client()


@functools.cache
def _prepare_yfinance() -> None:
    """Import yfinance after load_client and keep its own pandas deprecation warnings off the console (yfinance
    turns them on for itself when imported, so this filter goes in after it)."""
    load_client()
    import yfinance  # noqa: F401

    warnings.filterwarnings("ignore", module=r"yfinance(\.|$)")


def yfinance_download() -> Callable[..., Any]:
    """yfinance.download (looked up on every call, so that a stand-in put there is used)."""
    _prepare_yfinance()
    import yfinance

    return yfinance.download


def symbol_of(url: str) -> str | None:
    """The symbol a chart request asks for ('.../v8/finance/chart/%5EGSPC' -> '^GSPC'); None for other URLs."""
    parts = urlsplit(url).path.rstrip("/").split("/")
    return unquote(parts[-1]) if len(parts) >= 2 and parts[-2] == "chart" else None


class Outcomes:
    """What each request of a session met, by symbol (chart requests) and for the session as a whole."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_symbol: dict[str, Failure | None] = {}
        self._last: Failure | None = None
        self._down: dict[str, tuple[float, BaseException]] = {}

    def raise_if_down(self, host: str) -> None:
        """Fail at once when host failed to resolve or connect less than DOWN_SECONDS ago."""
        with self._lock:
            since, error = self._down.get(host, (0.0, None))
        if error is not None and time.monotonic() - since < DOWN_SECONDS:
            raise error

    def record(self, url: str, failure: Failure | None, error: BaseException | None = None) -> None:
        """One request's outcome (failure None: answered)."""
        symbol, host = symbol_of(url), urlsplit(url).hostname or ""
        with self._lock:
            if symbol is not None:
                self._by_symbol[symbol.upper()] = failure
            if failure is not None:
                self._last = failure
            if error is not None and failure is not None and failure.unreachable:
                self._down[host] = (time.monotonic(), error)

    def failure_for(self, symbol: str) -> Failure | None:
        """Why symbol got nothing: its own chart request's outcome (None: it was answered), else, when its chart
        was never asked for (the session's first requests failed), the session's last failure."""
        with self._lock:
            return self._by_symbol.get(symbol.upper(), self._last)


def new_session() -> Any:
    """A curl_cffi session impersonating IMPERSONATE (as yfinance's own) that records every request's outcome in
    its `outcomes`, fails fast on a host that just went down and caps the wait for a connection."""
    load_client()
    from curl_cffi import requests

    class RecordingSession(requests.Session):
        def __init__(self) -> None:
            super().__init__(impersonate=IMPERSONATE)
            self.outcomes = Outcomes()

        def request(self, method: Any, url: str, **kwargs: Any) -> Any:  # type: ignore[override]
            self.outcomes.raise_if_down(urlsplit(url).hostname or "")
            timeout = kwargs.get("timeout")
            if isinstance(timeout, int | float):
                kwargs["timeout"] = (min(CONNECT_SECONDS, float(timeout)), float(timeout))
            try:
                response = super().request(method, url, **kwargs)
            except Exception as error:
                self.outcomes.record(url, failure_of(error), error)
                raise
            self.outcomes.record(url, failure_of_status(response.status_code))
            return response

    return RecordingSession()
