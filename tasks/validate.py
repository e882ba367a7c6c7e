"""Validate stage: run the price expectation suite with Great Expectations (in a fresh in-memory context,
writing Data Docs when asked, made readable offline) and report failures in plain words."""

from __future__ import annotations

import pathlib
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import pandas as pd

from nightcast.data_docs import make_offline
from nightcast.schema import REQUIRED_PRICE_COLUMNS
from tasks.expectations import EXAMPLES, Batch, Limits, build_suite, derive, gx_module
from tasks.validation_report import ValidationFailed, ValidationReport
from tasks.validation_text import EXISTS, columns_of, kwargs_json, outcome

if TYPE_CHECKING:
    import great_expectations as gx

_LOCK = threading.Lock()
_SITE = "nightcast"


def _context(folder: pathlib.Path | None) -> Any:
    """A fresh in-memory GX context (no progress bars or analytics), with a Data Docs site in folder if given."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    sites = (
        {}
        if folder is None
        else {
            _SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        }
    )
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites,
    )
    return gx_module().get_context(mode="ephemeral", project_config=config)


def _checkpoint(context: Any, whole: Any, suite: gx.ExpectationSuite, result_format: dict[str, Any]) -> Any:
    """A checkpoint that validates the suite and updates the Data Docs site."""
    gx = gx_module()
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="prices", data=whole, suite=context.suites.add(suite))
    )
    return context.checkpoints.add(
        gx.Checkpoint(
            name="prices",
            validation_definitions=[definition],
            result_format=result_format,
            actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[_SITE])],
        )
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
    folder: pathlib.Path | None = None,
    index_columns: list[str] | None = None,
) -> tuple[list[Any], pathlib.Path | None]:
    """Validate in a fresh context; with a folder, through a checkpoint that writes Data Docs there. With
    index_columns, each failed result lists its unexpected rows by those columns (unexpected_index_list). The site's
    pages load only local files (GX's CDN assets are copied into it)."""
    result_format = _result_format(index_columns)
    with _LOCK:  # GX keeps the active context in a process-wide global: one validation at a time
        context = _context(folder)
        whole = (
            context.data_sources.add_pandas("prices")
            .add_dataframe_asset("frame")
            .add_batch_definition_whole_dataframe("whole")
        )
        if folder is None:
            result = whole.get_batch(batch_parameters={"dataframe": frame}).validate(suite, result_format=result_format)
            return list(result.results), None
        checkpoint = _checkpoint(context, whole, suite, result_format)
        key, result = next(iter(checkpoint.run(batch_parameters={"dataframe": frame}).run_results.items()))
        url = context.get_docs_sites_urls(resource_identifier=key, site_name=_SITE)[0]["site_url"]
        make_offline(folder)
    return list(result.results), pathlib.Path(url2pathname(urlparse(url).path))


def _runnable(
    suite: gx.ExpectationSuite, frame: pd.DataFrame, batch: Batch
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
    frame: pd.DataFrame, min_rows: int, limits: Limits | None, folder: pathlib.Path | None = None
) -> tuple[ValidationReport, pathlib.Path | None]:
    """Run the suite on a price frame (and write Data Docs when given a folder)."""
    batch = derive(frame, limits or Limits())
    suite, skipped = _runnable(build_suite(min_rows, batch.limits), frame, batch)
    order = {(e.expectation_type, kwargs_json(e.configuration.kwargs)): i for i, e in enumerate(suite.expectations)}
    results, page = run_suite(batch.frame, suite, folder)
    results.sort(key=lambda r: order[r.expectation_config.type, kwargs_json(r.expectation_config.kwargs)])
    outcomes = tuple(outcome(result, skipped, batch) for result in results)
    return ValidationReport(success=all(outcome.success for outcome in outcomes), outcomes=outcomes), page


def validate_prices(frame: pd.DataFrame, min_rows: int, limits: Limits | None = None) -> ValidationReport:
    """Run the suite on a price frame; bad data gives a failed report, never an exception; writes no files."""
    return _validate(frame, min_rows, limits)[0]


def validate_and_document(
    frame: pd.DataFrame, min_rows: int, limits: Limits | None, folder: pathlib.Path
) -> tuple[ValidationReport, pathlib.Path]:
    """One GX checkpoint run: the report, and the GX Data Docs site written under folder (returns its page)."""
    report, page = _validate(frame, min_rows, limits, pathlib.Path(folder).resolve())
    assert page is not None
    return report, page


def build_data_docs(frame: pd.DataFrame, min_rows: int, limits: Limits | None, folder: pathlib.Path) -> pathlib.Path:
    """Validate through GX and write its Data Docs site under folder; returns the validation result page."""
    return validate_and_document(frame, min_rows, limits, folder)[1]


def check_report(ticker: str, report: ValidationReport) -> None:
    """Raise ValidationFailed when any expectation failed."""
    if not report.success:
        raise ValidationFailed(ticker, report)
