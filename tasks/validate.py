"""Validate stage: run the price expectation suite with Great Expectations and report failures in plain words."""

from __future__ import annotations

import json
import logging
import os
import pathlib
import threading
import warnings
from dataclasses import asdict, dataclass
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse
from urllib.request import url2pathname

import numpy as np
import pandas as pd

from nightcast.errors import ExpectedFailure

if TYPE_CHECKING:
    import great_expectations as gx

    from nightcast.settings import Settings

REQUIRED_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close", "volume")
"""Columns the later stages read; a batch without any of them cannot be trained on."""

_LOCK = threading.Lock()
_EXAMPLES = 3
_SITE = "nightcast"

DERIVED_COLUMNS: tuple[str, ...] = ("days_after_today", "gap_days", "daily_move")
"""Columns computed from date (all three) and close (daily_move) on a copy of the batch before validation."""


@dataclass(frozen=True)
class Limits:
    """The suite's judgment-call thresholds (Settings.max_daily_move, max_gap_days) and the day that is today."""

    max_daily_move: float = 0.5
    max_gap_days: int = 10
    today: date | None = None

    def __post_init__(self) -> None:
        """Refuse limits that no batch could meet."""
        if not self.max_daily_move > 0 or self.max_gap_days < 1:
            raise ValueError(f"limits need max_daily_move > 0 and max_gap_days >= 1, got {self}")

    @classmethod
    def from_settings(cls, settings: Settings, today: date | None = None) -> Limits:
        """The limits a run's settings ask for."""
        return cls(max_daily_move=settings.max_daily_move, max_gap_days=settings.max_gap_days, today=today)

    def day(self) -> date:
        """The given today (as a date), else today's UTC date."""
        return pd.Timestamp(self.today).date() if self.today else datetime.now(timezone.utc).date()


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
        table = pd.DataFrame([asdict(o) for o in self.outcomes], columns=["success", "expectation", "observed",
                                                                          "details"]).astype({"success": "bool"})
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


def build_suite(min_rows: int, limits: Limits | None = None) -> gx.ExpectationSuite:
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
        *_derived_expectations(limits or Limits()),
    ])


def _derived_expectations(limits: Limits) -> list[gx.expectations.Expectation]:
    """Expectations on the derived columns; their descriptions name the setting (shown in Data Docs)."""
    between, gap, move = _gx().expectations.ExpectColumnValuesToBeBetween, limits.max_gap_days, limits.max_daily_move
    return [
        between(column="days_after_today", max_value=0,
                description="no date after today: days_after_today (calendar days from today, UTC) must be <= 0"),
        between(column="gap_days", max_value=gap,
                description=f"gap_days (calendar days since the previous date) must be <= max_gap_days={gap}"),
        between(column="daily_move", max_value=move,
                description=f"daily_move (|close / previous close - 1| in date order) must be <= "
                            f"max_daily_move={move}"),
    ]


_EXISTS = "expect_column_to_exist"
_TEXT = {
    "expect_column_values_to_not_be_null": "{column} has {count} null value(s)",
    "expect_column_values_to_be_between": "{column} has {count} value(s) not > {min_value}",
    "expect_column_pair_values_a_to_be_greater_than_b": "{column_A} < {column_B} in {count} row(s) as ({column_A}, {column_B})",
    "expect_column_values_to_be_unique": "{column} has {count} duplicated value(s)",
    "expect_column_values_to_be_increasing": "{column} is not strictly increasing at {count} row(s)",
}


@dataclass(frozen=True)
class _Batch:
    """The frame GX validates (a shallow copy plus derived columns) and what the messages need to know."""

    frame: pd.DataFrame
    days: np.ndarray  # each row's date as datetime64[D] (NaT where unknown)
    limits: Limits
    today: date
    unavailable: dict[str, str]  # derived column -> the source column that is missing or unusable


def _days(frame: pd.DataFrame) -> np.ndarray | None:
    """The date column as calendar days (datetime64[D]), or None when it is missing or not dates."""
    column = frame.get("date")
    if column is None or pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return None
    try:
        with warnings.catch_warnings():  # text dates of no single format: parsed one by one, quietly
            warnings.simplefilter("ignore", UserWarning)
            return pd.to_datetime(column, utc=True).dt.tz_convert(None).to_numpy().astype("datetime64[D]")
    except (ValueError, TypeError, OverflowError, AttributeError):
        return None


def _closes(frame: pd.DataFrame) -> np.ndarray | None:
    """Positive closes as floats (NaN elsewhere: bad closes have their own expectations), or None."""
    column = frame.get("close")
    if column is None or not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return None
    close = column.to_numpy(dtype="float64", na_value=np.nan)
    return np.where(close > 0, close, np.nan)


def _gaps(days: np.ndarray) -> np.ndarray:
    """Per row, calendar days since the previous distinct date (NaN for the first date and NaT)."""
    known = ~np.isnat(days)
    distinct = np.unique(days[known])
    steps = np.concatenate([[np.nan], np.diff(distinct).astype("float64")])
    gaps = np.full(len(days), np.nan)
    gaps[known] = steps[np.searchsorted(distinct, days[known])]
    return gaps


def _moves(days: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Per row, |close / previous close - 1| with rows in date order (NaN where either close is unknown)."""
    order = np.argsort(days, kind="stable")
    order = order[~np.isnat(days[order])]
    moves = np.full(len(days), np.nan)
    ordered = close[order]
    with np.errstate(all="ignore"):  # an infinite close gives NaN or inf, not a warning
        moves[order[1:]] = np.abs(ordered[1:] / ordered[:-1] - 1)
    return moves


def _derive(frame: pd.DataFrame, limits: Limits) -> _Batch:
    """A shallow copy of the frame with the derived columns whose sources exist and are usable."""
    today, days, close = limits.day(), _days(frame), _closes(frame)
    batch, unavailable = frame.copy(deep=False), {}
    if days is None:
        unavailable.update(dict.fromkeys(DERIVED_COLUMNS, "date"))
        days = np.full(len(frame), np.datetime64("NaT"), dtype="datetime64[D]")
    else:
        ahead = days - np.datetime64(today, "D")
        batch["days_after_today"] = np.where(np.isnat(ahead), np.nan, ahead.astype("int64"))
        batch["gap_days"] = _gaps(days)
    if close is None:
        unavailable.setdefault("daily_move", "close")
    elif "daily_move" not in unavailable:
        batch["daily_move"] = _moves(days, close)
    return _Batch(batch, days, limits, today, unavailable)


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


def _over(count: int, what: str) -> str:
    """' (and N other WHAT over it)' when more than one value broke a limit."""
    return f" (and {count - 1} other {what}(s) over it)" if count > 1 else ""


def _future_text(batch: _Batch, count: int, success: bool) -> str:
    """Dates after today, with the earliest few."""
    if success:
        return f"no dates after {batch.today}"
    ahead = np.unique(batch.days[batch.frame["days_after_today"].to_numpy() > 0])
    return f"{count} date(s) in the future (after {batch.today}), e.g. {', '.join(map(str, ahead[:_EXAMPLES]))}"


def _gap_text(batch: _Batch, count: int, success: bool) -> str:
    """The largest gap between consecutive dates, against max_gap_days."""
    gaps, limit = batch.frame["gap_days"].to_numpy(), batch.limits.max_gap_days
    if np.isnan(gaps).all():
        return "no consecutive dates to measure a gap"
    at = int(np.nanargmax(gaps))
    text = f"largest gap is {gaps[at]:.0f} days ({batch.days[at] - int(gaps[at])} .. {batch.days[at]})"
    if success:
        return f"{text}, within max_gap_days={limit}"
    return f"{text}, more than max_gap_days={limit}{_over(count, 'gap')}; raise max_gap_days to accept it"


def _move_text(batch: _Batch, count: int, success: bool) -> str:
    """The largest day-over-day move of the close (the first one over max_daily_move when failed)."""
    moves, limit = batch.frame["daily_move"].to_numpy(), batch.limits.max_daily_move
    if np.isnan(moves).all():
        return "no consecutive closes to measure a move"
    if success:
        at = int(np.nanargmax(moves))
        return f"largest move: close moved {moves[at]:.1%} on {batch.days[at]}, within max_daily_move={limit}"
    over = np.flatnonzero(moves > limit)
    at = int(over[np.argmin(batch.days[over])])
    return (f"close moved {moves[at]:.1%} on {batch.days[at]}, more than max_daily_move={limit}"
            f"{_over(count, 'day')}; raise max_daily_move to accept it")


_DERIVED_TEXT = {"days_after_today": _future_text, "gap_days": _gap_text, "daily_move": _move_text}


def _observed(kind: str, kwargs: dict[str, Any], result: dict[str, Any], success: bool, batch: _Batch) -> str:
    """Describe what an expectation saw, in the words a person would use."""
    if kind == _EXISTS:
        return f"column {kwargs['column']} present" if success else f"missing column {kwargs['column']}"
    if kind == "expect_table_row_count_to_be_between":
        rows, need = result.get("observed_value"), kwargs.get("min_value")
        return f"{rows} rows (need at least {need})" if success else \
            f"only {rows} rows, need at least {need} (a full window of time_step closes for every candidate)"
    count = result.get("unexpected_count") or 0
    if kwargs.get("column") in _DERIVED_TEXT:
        return _DERIVED_TEXT[kwargs["column"]](batch, count, success)
    text = _TEXT.get(kind, f"{kind}: {{count}} unexpected value(s)").format(count=count, **kwargs)
    shown = [_example(v) for v in (result.get("partial_unexpected_list") or [])[:_EXAMPLES]]
    return f"{text} (e.g. {', '.join(shown)})" if shown and not success else text


def _outcome(validation: Any, skipped: dict[str, int], batch: _Batch) -> ExpectationOutcome:
    """Translate one GX ExpectationValidationResult into an ExpectationOutcome."""
    kind, kwargs = validation.expectation_config.type, validation.expectation_config.kwargs
    columns = _columns(kwargs)
    column = ">=".join(columns) if len(columns) == 2 else (columns[0] if columns else None)
    error = _error(validation.exception_info)
    success = bool(validation.success) and not error
    if error:
        observed = f"could not check {kind} on {column or 'the table'}: {error}"
    else:
        observed = _observed(kind, kwargs, validation.result or {}, success, batch)
    if kind == _EXISTS and skipped.get(column, 0):
        why = ": its values are not usable" if success else ""
        observed += f" ({skipped[column]} dependent expectation(s) skipped{why})"
    details = _kwargs_json(kwargs)
    return ExpectationOutcome(expectation=kind, column=column, success=success,
                              observed=observed, details=f"{details} error: {error}" if error else details)


def _context(folder: pathlib.Path | None) -> Any:
    """A fresh in-memory GX context (no progress bars or analytics), with a Data Docs site in folder if given."""
    from great_expectations.data_context.types.base import (
        DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig)

    sites = {} if folder is None else {_SITE: {
        "class_name": "SiteBuilder", "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(folder)},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"}}}
    config = DataContextConfig(store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
                               analytics_enabled=False, progress_bars=ProgressBarsConfig(globally=False),
                               data_docs_sites=sites)
    return _gx().get_context(mode="ephemeral", project_config=config)


def _checkpoint(context: Any, whole: Any, suite: gx.ExpectationSuite) -> Any:
    """A checkpoint that validates the suite and updates the Data Docs site."""
    gx = _gx()
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="prices", data=whole, suite=context.suites.add(suite)))
    return context.checkpoints.add(gx.Checkpoint(
        name="prices", validation_definitions=[definition], result_format=_RESULT_FORMAT,
        actions=[gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=[_SITE])]))


_RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": _EXAMPLES}


def _run(frame: pd.DataFrame, suite: gx.ExpectationSuite,
         folder: pathlib.Path | None = None) -> tuple[list[Any], pathlib.Path | None]:
    """Validate in a fresh context; with a folder, through a checkpoint that writes Data Docs there."""
    with _LOCK:  # GX keeps the active context in a process-wide global: one validation at a time
        context = _context(folder)
        whole = (context.data_sources.add_pandas("prices").add_dataframe_asset("frame")
                 .add_batch_definition_whole_dataframe("whole"))
        if folder is None:
            result = whole.get_batch(batch_parameters={"dataframe": frame}).validate(
                suite, result_format=_RESULT_FORMAT)
            return list(result.results), None
        key, result = next(iter(_checkpoint(context, whole, suite).run(
            batch_parameters={"dataframe": frame}).run_results.items()))
        url = context.get_docs_sites_urls(resource_identifier=key, site_name=_SITE)[0]["site_url"]
    return list(result.results), pathlib.Path(url2pathname(urlparse(url).path))


def _runnable(suite: gx.ExpectationSuite, frame: pd.DataFrame,
              batch: _Batch) -> tuple[gx.ExpectationSuite, dict[str, int]]:
    """The suite without expectations on missing or underived columns, and how many each source column skipped."""
    blocked = {column: column for column in REQUIRED_COLUMNS if column not in frame.columns} | batch.unavailable
    runnable, skipped = [], dict.fromkeys(blocked.values(), 0)
    for expectation in suite.expectations:
        blame = dict.fromkeys(blocked[c] for c in _columns(expectation.configuration.kwargs) if c in blocked)
        if blame and expectation.expectation_type != _EXISTS:
            skipped.update({column: skipped[column] + 1 for column in blame})
        else:
            runnable.append(expectation)
    return _gx().ExpectationSuite(name=suite.name, expectations=runnable), skipped


def _validate(frame: pd.DataFrame, min_rows: int, limits: Limits | None,
              folder: pathlib.Path | None = None) -> tuple[ValidationReport, pathlib.Path | None]:
    """Run the suite on a price frame (and write Data Docs when given a folder)."""
    batch = _derive(frame, limits or Limits())
    suite, skipped = _runnable(build_suite(min_rows, batch.limits), frame, batch)
    order = {(e.expectation_type, _kwargs_json(e.configuration.kwargs)): i for i, e in enumerate(suite.expectations)}
    results, page = _run(batch.frame, suite, folder)
    results.sort(key=lambda r: order[r.expectation_config.type, _kwargs_json(r.expectation_config.kwargs)])
    outcomes = tuple(_outcome(result, skipped, batch) for result in results)
    return ValidationReport(success=all(outcome.success for outcome in outcomes), outcomes=outcomes), page


def validate_prices(frame: pd.DataFrame, min_rows: int, limits: Limits | None = None) -> ValidationReport:
    """Run the suite on a price frame; bad data gives a failed report, never an exception; writes no files."""
    return _validate(frame, min_rows, limits)[0]


def validate_and_document(frame: pd.DataFrame, min_rows: int, limits: Limits | None,
                          folder: pathlib.Path) -> tuple[ValidationReport, pathlib.Path]:
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
