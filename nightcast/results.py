"""A query's rows as they come out of DuckDB: streamed in batches, so that a result of any size crosses the
process in bounded memory, with a row limit and a wall-clock limit.

DuckDB's Python API returns a streaming result: `fetchmany` materializes the next rows only. `Rows` walks it
BATCH_ROWS at a time (a few MB of Python tuples whatever the result's size), stops after max_rows and says
whether there were more; `streamed` interrupts the query (execution and fetching alike) after its timeout.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import duckdb

from nightcast.errors import ExpectedFailure

BATCH_ROWS = 10_000
"""Rows fetched from DuckDB at a time."""


class QueryStopped(ExpectedFailure, ValueError):
    """A query ran past its time limit and was interrupted."""


class Answer(NamedTuple):
    """A query's columns and its first rows; truncated when it had more than it was allowed to return."""

    columns: list[str]
    rows: list[tuple]
    truncated: bool = False


class Rows:
    """A streaming result's rows, read once by iterating; `truncated` tells, after, whether rows past max_rows
    (0: no limit) were left unread."""

    def __init__(self, result: duckdb.DuckDBPyConnection, max_rows: int = 0):
        self.result = result
        self.columns: list[str] = [d[0] for d in result.description or []]
        self.types: list[str] = [str(d[1]) for d in result.description or []]
        """Each column's DuckDB type (BIGINT, VARCHAR, DECIMAL(4,1), ...)."""
        self.max_rows = max_rows
        self.truncated = False

    def __iter__(self) -> Iterator[tuple]:
        left = self.max_rows or -1
        while left != 0:
            batch = self.result.fetchmany(BATCH_ROWS if left < 0 else min(BATCH_ROWS, left))
            if not batch:
                return
            left -= len(batch) if left > 0 else 0
            yield from batch
        self.truncated = bool(self.result.fetchmany(1))


@contextmanager
def streamed(con: duckdb.DuckDBPyConnection, sql: str, max_rows: int = 0, timeout: float = 0) -> Iterator[Rows]:
    """sql's rows on con, to iterate inside the block; QueryStopped when it runs (or is read) past timeout
    seconds (0: never)."""
    timer = threading.Timer(timeout, con.interrupt) if timeout > 0 else None
    try:
        if timer is not None:
            timer.start()
        yield Rows(con.execute(sql), max_rows)
    except duckdb.InterruptException:
        raise QueryStopped(f"the query ran longer than {timeout:g} s and was stopped (raise --timeout)") from None
    finally:
        if timer is not None:
            timer.cancel()


def answer(con: duckdb.DuckDBPyConnection, sql: str, max_rows: int = 0, timeout: float = 0) -> Answer:
    """Run sql on con and fetch at most max_rows rows (0: all) into a list; see streamed."""
    with streamed(con, sql, max_rows, timeout) as rows:
        return Answer(rows.columns, list(rows), rows.truncated)
