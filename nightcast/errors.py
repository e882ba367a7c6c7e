"""Failures that are expected outcomes (bad data, a bad setting, an unreachable source, a refused query).

An expected failure ends a command with one clear line and no traceback on the console; the Prefect
run still records it in full. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class ExpectedFailure(Exception):
    """Base of every failure that is a normal outcome of bad input, not a bug."""


class InputError(ExpectedFailure, ValueError):
    """The data or the options cannot do what was asked (too few rows for the windows, unknown target...)."""


def is_expected(error: BaseException | None) -> bool:
    """Whether error is an expected failure, or a wrapper (such as a failed stage) whose cause is one."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, ExpectedFailure):
            return True
        error, seen = getattr(error, "cause", None), seen + 1
    return False
