"""Validate stage: run the price expectation suite with Great Expectations in a fresh in-memory context and
report failures in plain words. It writes nothing: a run whose Data Docs are wanted returns its GX result too
(`validate_for_docs`), and nightcast.data_docs.write_site writes the pages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from nightcast.gx_contexts import LOCK, Validated, ephemeral
from nightcast.schema import REQUIRED_PRICE_COLUMNS
from nightcast.stage_options import Limits
from tasks.prices.expectations import EXAMPLES, ValidationBatch, build_suite, derive, gx_module
from tasks.prices.validation_report import ValidationFailed, ValidationReport
from tasks.prices.validation_text import EXISTS, columns_of, kwargs_json, outcome

if TYPE_CHECKING:
    import great_expectations as gx


def _checkpoint(context: Any, whole: Any, suite: gx.ExpectationSuite, result_format: dict[str, Any]) -> Any:
    """A checkpoint that validates the suite, with no actions: its keyed result is what Data Docs are written from."""
    gx = gx_module()
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="prices", data=whole, suite=context.suites.add(suite))
    )
    return context.checkpoints.add(
        gx.Checkpoint(name="prices", validation_definitions=[definition], result_format=result_format, actions=[])
    )


_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": EXAMPLES}


def _result_format(index_columns: list[str] | None) -> dict[str, Any]:
    """SUMMARY; COMPLETE naming each unexpected row by index_columns when given."""
    if not index_columns:
        return _RESULT_FORMAT
    return {**_RESULT_FORMAT, "result_format": "COMPLETE", "unexpected_index_column_names": index_columns}


def run_suite(
    frame: pd.DataFrame,
    suite: gx.ExpectationSuite,
    documented: bool = False,
    index_columns: list[str] | None = None,
) -> tuple[list[Any], Validated | None]:
    """Validate in a fresh in-memory context; documented, through a checkpoint whose result (returned as
    Validated) Data Docs can be written from. With index_columns, each failed result lists its unexpected rows
    by those columns (unexpected_index_list)."""
    result_format = _result_format(index_columns)
    with LOCK:  # GX keeps the active context in a process-wide global: one validation at a time
        context = ephemeral()
        whole = (
            context.data_sources.add_pandas("prices")
            .add_dataframe_asset("frame")
            .add_batch_definition_whole_dataframe("whole")
        )
        if not documented:
            result = whole.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format=result_format)
            return list(result.results), None
        checkpoint = _checkpoint(context, whole, suite, result_format)
        key, result = next(iter(checkpoint.run(batch_parameters={"dataframe": frame}).run_results.items()))
    return list(result.results), Validated(suite, key, result)


def _runnable(
    suite: gx.ExpectationSuite, frame: pd.DataFrame, batch: ValidationBatch
) -> tuple[gx.ExpectationSuite, dict[str, int]]:
    """The suite without expectations on missing or underived columns, and how many each source column skipped."""
    blocked = {column: column for column in REQUIRED_PRICE_COLUMNS if column not in frame.columns} | batch.unavailable
    runnable, skipped = [], dict.fromkeys(blocked.values(), 0)
    for expectation in suite.expectations:
        blame = dict.fromkeys(blocked[c] for c in columns_of(expectation.configuration.kwargs) if c in blocked)
        if blame and expectation.expectation_type != EXISTS:
            skipped.update({column: skipped[column] + 1 for column in blame})
        else:
            runnable.append(expectation)
    return gx_module().ExpectationSuite(name=suite.name, expectations=runnable), skipped


def _validate(
    frame: pd.DataFrame, min_rows: int, limits: Limits | None, documented: bool = False
) -> tuple[ValidationReport, Validated | None]:
    """Run the suite on a price frame (keeping GX's result for Data Docs when documented)."""
    batch = derive(frame, limits or Limits())
    suite, skipped = _runnable(build_suite(min_rows, batch.limits), frame, batch)
    order = {(e.expectation_type, kwargs_json(e.configuration.kwargs)): i for i, e in enumerate(suite.expectations)}
    results, validated = run_suite(batch.frame, suite, documented)
    results.sort(key=lambda r: order[r.expectation_config.type, kwargs_json(r.expectation_config.kwargs)])
    outcomes = tuple(outcome(result, skipped, batch) for result in results)
    return ValidationReport(success=all(outcome.success for outcome in outcomes), outcomes=outcomes), validated


def validate_prices(frame: pd.DataFrame, min_rows: int, limits: Limits | None = None) -> ValidationReport:
    """Run the suite on a price frame; bad data gives a failed report, never an exception."""
    return _validate(frame, min_rows, limits)[0]


def validate_for_docs(frame: pd.DataFrame, min_rows: int, limits: Limits | None) -> tuple[ValidationReport, Validated]:
    """One GX checkpoint run: the report, and the result its Data Docs pages are written from
    (nightcast.data_docs.write_site)."""
    report, validated = _validate(frame, min_rows, limits, documented=True)
    assert validated is not None
    return report, validated


def check_report(ticker: str, report: ValidationReport) -> None:
    """Raise ValidationFailed when any expectation failed."""
    if not report.success:
        raise ValidationFailed(ticker, report)
