"""Validate stage over a panel: one Great Expectations run over every ticker's history at once (one Data Docs page
a night), then each ticker the panel flagged validated alone, so its report names its own failures and only it
is quarantined. It writes nothing: it returns the GX results the flow writes Data Docs from.

The panel suite is the per-ticker suite with its whole-batch expectations made per ticker: dates unique per
(ticker, date), strictly increasing as a positive `date_step` (days since the ticker's previous row), at least
min_rows rows as `sessions` (the ticker's row count on each of its rows). GX names the rows that failed by their
`ticker` column, which is how a failure finds its ticker."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from nightcast.gx_contexts import Validated
from nightcast.schema import REQUIRED_PRICE_COLUMNS
from nightcast.stage_options import Limits
from tasks.prices.expectations import DERIVED_COLUMNS, ValidationBatch, build_suite, derive, gx_module
from tasks.prices.validate import run_suite, validate_for_docs
from tasks.prices.validation_report import ValidationReport
from tasks.prices.validation_text import outcome

if TYPE_CHECKING:
    import great_expectations as gx

PER_TICKER = (
    "expect_column_values_to_be_unique",
    "expect_column_values_to_be_increasing",
    "expect_table_row_count_to_be_between",
)
"""Whole-batch expectations of the per-ticker suite that the panel suite replaces by per-ticker forms."""


def panel_suite(min_rows: int, limits: Limits) -> gx.ExpectationSuite:
    """The per-ticker suite with its whole-batch expectations checked per ticker."""
    gx = gx_module()
    e = gx.expectations
    kept = [x for x in build_suite(min_rows, limits).expectations if x.expectation_type not in PER_TICKER]
    return gx.ExpectationSuite(
        name="nightcast_prices_panel",
        expectations=[
            *kept,
            e.ExpectCompoundColumnsToBeUnique(column_list=["ticker", "date"]),
            e.ExpectColumnValuesToBeBetween(
                column="date_step",
                min_value=0,
                strict_min=True,
                description="dates strictly increasing per ticker: date_step (days since its previous row) > 0",
            ),
            e.ExpectColumnValuesToBeBetween(
                column="sessions",
                min_value=min_rows,
                description=f"every ticker has at least min_rows={min_rows} rows (its row count on each row)",
            ),
        ],
    )


def _panelable(batch: ValidationBatch, frame: pd.DataFrame) -> bool:
    """A ticker whose every column and derived column exists: others are validated alone."""
    return not batch.unavailable and all(column in frame.columns for column in REQUIRED_PRICE_COLUMNS)


def _steps(days: np.ndarray) -> np.ndarray:
    """Days since the previous row, in file order (NaN for the first row and around NaT)."""
    steps = np.full(len(days), np.nan)
    if len(days) > 1:
        known = ~(np.isnat(days[1:]) | np.isnat(days[:-1]))
        steps[1:][known] = (days[1:][known] - days[:-1][known]).astype("float64")
    return steps


def panel_batch(batches: dict[str, ValidationBatch], limits: Limits) -> ValidationBatch:
    """Every ticker's derived batch stacked as one long frame, with ticker, date_step and sessions columns."""
    columns = [*REQUIRED_PRICE_COLUMNS, *DERIVED_COLUMNS]
    parts = [
        b.frame[columns].assign(
            date=b.days.astype("datetime64[ns]"), ticker=ticker, date_step=_steps(b.days), sessions=len(b.frame)
        )
        for ticker, b in batches.items()
    ]
    frame = pd.concat(parts, ignore_index=True)
    days = np.concatenate([b.days for b in batches.values()])
    first = next(iter(batches.values()))
    return ValidationBatch(frame, days, limits, first.today, {})


def _flagged(results: list[Any], tickers: set[str]) -> set[str]:
    """The tickers of the rows GX found unexpected; every ticker when a failure names no rows."""
    flagged: set[str] = set()
    for result in results:
        if result.success and not (result.exception_info or {}).get("raised_exception"):
            continue
        rows = (result.result or {}).get("unexpected_index_list")
        if not rows:
            return set(tickers)
        flagged |= {row["ticker"] for row in rows}
    return flagged


def _panel_report(results: list[Any], batch: ValidationBatch, count: int) -> ValidationReport:
    """The panel's outcomes, each saying it was the panel's."""
    outcomes = tuple(
        dataclasses.replace(o, observed=f"panel of {count} tickers: {o.observed}")
        for o in (outcome(r, {}, batch) for r in results)
    )
    return ValidationReport(success=all(o.success for o in outcomes), outcomes=outcomes)


def _check(
    batches: dict[str, ValidationBatch], min_rows: int, limits: Limits
) -> tuple[ValidationReport, set[str], Validated | None]:
    """One GX run over the stacked batches: the panel's report, the tickers it flagged, its GX result."""
    batch = panel_batch(batches, limits)
    results, validated = run_suite(batch.frame, panel_suite(min_rows, limits), True, index_columns=["ticker"])
    return _panel_report(results, batch, len(batches)), _flagged(results, set(batches)), validated


@dataclasses.dataclass(frozen=True)
class PanelChecked:
    """Every ticker's report; the panel's runs in order (their Data Docs go in the panel's site, the last one's
    page is every panel ticker's), and the runs of the tickers validated alone (each in its own site)."""

    reports: dict[str, ValidationReport]
    panel: tuple[Validated, ...]
    alone: dict[str, Validated]


def validate_panel(frames: dict[str, pd.DataFrame], min_rows: int, limits: Limits) -> PanelChecked:
    """Every ticker's report: the panel's for the tickers that passed it, their own for the tickers the panel
    flagged or could not stack."""
    batches = {ticker: derive(frame, limits) for ticker, frame in frames.items()}
    panel = {t: b for t, b in batches.items() if _panelable(b, frames[t])}
    alone, runs, report = set(frames) - set(panel), [], None
    if panel:
        report, flagged, validated = _check(panel, min_rows, limits)
        runs.append(validated)
        alone |= flagged
        if flagged and len(flagged) < len(panel):  # the page and report of the tickers that passed
            report, again, validated = _check({t: b for t, b in panel.items() if t not in flagged}, min_rows, limits)
            runs.append(validated)
            alone |= again
    reports: dict[str, ValidationReport] = {}
    own: dict[str, Validated] = {}
    for ticker in frames:
        if ticker in alone:
            reports[ticker], own[ticker] = validate_for_docs(frames[ticker], min_rows, limits)
        else:
            assert report is not None
            reports[ticker] = report
    return PanelChecked(reports, tuple(v for v in runs if v is not None), own)
