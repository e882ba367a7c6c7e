"""A validation's outcome in plain words: what each expectation saw, and the error a failed batch raises."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import pandas as pd

from nightcast.errors import ExpectedFailure


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's result in plain words."""

    expectation: str
    column: str | None
    success: bool
    observed: str
    details: str


@dataclass(frozen=True)
class ValidationReport:
    """The outcome of every expectation that ran on one batch."""

    success: bool
    outcomes: tuple[ExpectationOutcome, ...]

    def failures(self) -> tuple[ExpectationOutcome, ...]:
        """The outcomes that failed, in suite order."""
        return tuple(outcome for outcome in self.outcomes if not outcome.success)

    def summary(self) -> str:
        """One human-readable line per failed expectation ("" when all passed)."""
        return "\n".join(outcome.observed for outcome in self.failures())

    def rows(self, run_id: str, ticker: str, checked_at: Any) -> pd.DataFrame:
        """One row per outcome, in suite order, for the validations table."""
        table = pd.DataFrame(
            [asdict(o) for o in self.outcomes], columns=["success", "expectation", "observed", "details"]
        ).astype({"success": "bool"})
        table.insert(0, "run_id", run_id)
        table.insert(1, "ticker", ticker)
        table["checked_at"] = pd.Timestamp(checked_at)
        return table

    def to_json(self) -> str:
        """The whole report as indented JSON (for a quarantine folder)."""
        return json.dumps(asdict(self), indent=2)


class ValidationFailed(ExpectedFailure, ValueError):
    """A batch failed its expectation suite; the one-line message lists every failure."""

    def __init__(self, ticker: str, report: ValidationReport):
        failed = report.failures()
        reasons = "; ".join(outcome.observed for outcome in failed)
        super().__init__(
            f"validation failed for {ticker}: {len(failed)} of {len(report.outcomes)} expectations failed: {reasons}"
        )
        self.ticker = ticker
        self.report = report

    def __reduce__(self) -> tuple[type, tuple[str, ValidationReport]]:
        """Pickle by the constructor's arguments (the message alone cannot rebuild it)."""
        return type(self), (self.ticker, self.report)
