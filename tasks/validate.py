"""Validate stage: run the price expectation suite with Great Expectations and report failures in plain words."""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import great_expectations as gx

REQUIRED_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume")
"""Columns the later stages read; a batch without any of them cannot be trained on."""

_LOCK = threading.Lock()
_EXAMPLES = 3


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


class ValidationFailed(ValueError):
    """A batch failed its expectation suite; the one-line message lists every failure."""

    def __init__(self, ticker: str, report: ValidationReport):
        failed = report.failures()
        reasons = "; ".join(outcome.observed for outcome in failed)
        super().__init__(f"validation failed for {ticker}: {len(failed)} of {len(report.outcomes)} "
                         f"expectations failed: {reasons}")
        self.ticker = ticker
        self.report = report

    def __reduce__(self) -> tuple[type, tuple[str, ValidationReport]]:
        """Pickle by the constructor's arguments (the message alone cannot rebuild it)."""
        return type(self), (self.ticker, self.report)


def _gx() -> Any:
    """Import Great Expectations quietly (no analytics, no INFO chatter)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    gx_logger = logging.getLogger("great_expectations")
    if gx_logger.level == logging.NOTSET:
        gx_logger.setLevel(logging.WARNING)
    import great_expectations

    return great_expectations


def build_suite(min_rows: int) -> gx.ExpectationSuite:
    """The price expectation suite, versioned with this code."""
    gx = _gx()
    e = gx.expectations
    return gx.ExpectationSuite(name="nightcast_prices", expectations=[
        *(e.ExpectColumnToExist(column=column) for column in REQUIRED_COLUMNS),
        e.ExpectColumnValuesToNotBeNull(column="close"),
        e.ExpectColumnValuesToBeBetween(column="close", min_value=0, strict_min=True),
        e.ExpectColumnPairValuesAToBeGreaterThanB(column_A="high", column_B="low", or_equal=True),
        e.ExpectColumnValuesToNotBeNull(column="date"),
        e.ExpectColumnValuesToBeUnique(column="date"),
        e.ExpectColumnValuesToBeIncreasing(column="date", strictly=True),
        e.ExpectTableRowCountToBeBetween(min_value=min_rows),
    ])


_EXISTS = "expect_column_to_exist"
_TEXT = {
    "expect_column_values_to_not_be_null": "{column} has {count} null value(s)",
    "expect_column_values_to_be_between": "{column} has {count} value(s) not > {min_value}",
    "expect_column_pair_values_a_to_be_greater_than_b": "{column_A} < {column_B} in {count} row(s) as ({column_A}, {column_B})",
    "expect_column_values_to_be_unique": "{column} has {count} duplicated value(s)",
    "expect_column_values_to_be_increasing": "{column} is not strictly increasing at {count} row(s)",
}


def _columns(kwargs: dict[str, Any]) -> tuple[str, ...]:
    """The columns an expectation reads, from its kwargs."""
    return tuple(kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs)


def _kwargs_json(kwargs: dict[str, Any]) -> str:
    """An expectation's kwargs as compact, sorted JSON without GX's batch_id."""
    return json.dumps({k: v for k, v in kwargs.items() if k != "batch_id"}, sort_keys=True, default=str,
                      separators=(",", ":"))


def _example(value: Any) -> str:
    """A short text for one unexpected value: plain numbers, dates without midnight, pairs in brackets."""
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_example(item) for item in value) + ")"
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    value = value.item() if hasattr(value, "item") else value
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _error(info: dict[str, Any] | None) -> str:
    """The distinct exception messages in GX's flat or per-metric exception_info."""
    info = info or {}
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    return "; ".join(dict.fromkeys(str(v.get("exception_message")) for v in entries if v.get("raised_exception")))


def _observed(kind: str, kwargs: dict[str, Any], result: dict[str, Any], success: bool) -> str:
    """Describe what an expectation saw, in the words a person would use."""
    if kind == _EXISTS:
        return f"column {kwargs['column']} present" if success else f"missing column {kwargs['column']}"
    if kind == "expect_table_row_count_to_be_between":
        rows, need = result.get("observed_value"), kwargs.get("min_value")
        return f"{rows} rows (need at least {need})" if success else \
            f"only {rows} rows, need at least {need} (time_step + a test split)"
    count = result.get("unexpected_count") or 0
    text = _TEXT.get(kind, f"{kind}: {{count}} unexpected value(s)").format(count=count, **kwargs)
    shown = [_example(v) for v in (result.get("partial_unexpected_list") or [])[:_EXAMPLES]]
    return f"{text} (e.g. {', '.join(shown)})" if shown and not success else text


def _outcome(validation: Any, skipped: dict[str, int]) -> ExpectationOutcome:
    """Translate one GX ExpectationValidationResult into an ExpectationOutcome."""
    kind, kwargs = validation.expectation_config.type, validation.expectation_config.kwargs
    columns = _columns(kwargs)
    column = ">=".join(columns) if len(columns) == 2 else (columns[0] if columns else None)
    error = _error(validation.exception_info)
    success = bool(validation.success) and not error
    observed = _observed(kind, kwargs, validation.result or {}, success)
    if error:
        observed = f"could not check {kind} on {column or 'the table'}: {error}"
    elif kind == _EXISTS and skipped.get(column, 0):
        observed += f" ({skipped[column]} dependent expectation(s) skipped)"
    details = _kwargs_json(kwargs)
    return ExpectationOutcome(expectation=kind, column=column, success=success,
                              observed=observed, details=f"{details} error: {error}" if error else details)


def _run(frame: pd.DataFrame, suite: gx.ExpectationSuite) -> list[Any]:
    """Validate a shallow copy of the frame in a fresh in-memory context: no files, progress bars or analytics."""
    from great_expectations.data_context.types.base import (
        DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig)

    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                               analytics_enabled=False, progress_bars=ProgressBarsConfig(globally=False))
    with _LOCK:  # GX keeps the active context in a process-wide global: one validation at a time
        context = _gx().get_context(mode="ephemeral", project_config=config)
        batch = (context.data_sources.add_pandas("prices").add_dataframe_asset("frame")
                 .add_batch_definition_whole_dataframe("whole")
                 .get_batch(batch_parameters={"dataframe": frame.copy(deep=False)}))
        result = batch.validate(suite, result_format={"result_format": "SUMMARY",
                                                      "partial_unexpected_count": _EXAMPLES})
    return list(result.results)


def validate_prices(frame: pd.DataFrame, min_rows: int) -> ValidationReport:
    """Run the suite on a price frame; bad data gives a failed report, never an exception."""
    suite = build_suite(min_rows)
    missing = {column for column in REQUIRED_COLUMNS if column not in frame.columns}
    runnable, skipped = [], dict.fromkeys(missing, 0)
    for expectation in suite.expectations:
        lacking = missing.intersection(_columns(expectation.configuration.kwargs))
        if lacking and expectation.expectation_type != _EXISTS:
            skipped.update({column: skipped[column] + 1 for column in lacking})
        else:
            runnable.append(expectation)
    order = {(e.expectation_type, _kwargs_json(e.configuration.kwargs)): i for i, e in enumerate(runnable)}
    results = _run(frame, _gx().ExpectationSuite(name=suite.name, expectations=runnable))
    results.sort(key=lambda r: order[r.expectation_config.type, _kwargs_json(r.expectation_config.kwargs)])
    outcomes = tuple(_outcome(result, skipped) for result in results)
    return ValidationReport(success=all(outcome.success for outcome in outcomes), outcomes=outcomes)


def check_report(ticker: str, report: ValidationReport) -> None:
    """Raise ValidationFailed when any expectation failed."""
    if not report.success:
        raise ValidationFailed(ticker, report)
