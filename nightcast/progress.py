"""Progress of long work, reported to whoever listens: the command line draws bars and stage lines; a
Prefect worker or a test listens to nothing (the default), so reporting costs nothing there.

Stages report when they end, with their time; counted work (training epochs, replayed nights, backtest
folds, compared recipes) opens a bar, advances it and closes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Listener(Protocol):
    """What the command line implements to show progress."""

    def stage(self, name: str, seconds: float) -> None: ...

    def start(self, key: str, description: str, total: int) -> None: ...

    def advance(self, key: str, steps: int = 1) -> None: ...

    def finish(self, key: str) -> None: ...


class Silent:
    """The default listener: ignores everything."""

    def stage(self, name: str, seconds: float) -> None:
        pass

    def start(self, key: str, description: str, total: int) -> None:
        pass

    def advance(self, key: str, steps: int = 1) -> None:
        pass

    def finish(self, key: str) -> None:
        pass


_listener: Listener = Silent()


def listen(listener: Listener | None) -> None:
    """Send progress to listener from now on (None: back to silence)."""
    global _listener
    _listener = listener or Silent()


def current() -> Listener:
    """Whoever listens now."""
    return _listener


@contextmanager
def counted(key: str, description: str, total: int) -> Iterator[Listener]:
    """A bar for `total` steps of work, closed however the work ends."""
    _listener.start(key, description, total)
    try:
        yield _listener
    finally:
        _listener.finish(key)
