"""The thresholds of the morning's checks, in one place: the `alerts` view (nightcast/views.py) reads them from
the `alert_thresholds` view built here, `nightcast status` judges staleness by the same stale_sessions, and
docs/reference/settings.md lists them (scripts/gen_docs.py).

A plain frozen dataclass rather than a pydantic model: the views are defined on every query connection, and
`nightcast query` must start without importing pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields


def _rule(default: float, low: float, high: float, meaning: str) -> float:
    return field(default=default, metadata={"low": low, "high": high, "meaning": meaning})


@dataclass(frozen=True)
class AlertRules:
    """How far a ticker may drift before the alerts view and `nightcast status` say so."""

    stale_sessions: int = _rule(  # type: ignore[assignment]
        1,
        0,
        250,
        "Sessions a ticker's latest served night may lag before it is stale: in `alerts`, nights the other "
        "tickers of the warehouse ran after it; in `nightcast status` (and its exit code), sessions of the "
        "ticker's exchange closed since.",
    )
    min_forecasts: int = _rule(  # type: ignore[assignment]
        20,
        1,
        100_000,
        "Fewest realized forecasts of the served candidate (summed over horizons, in its latest night's "
        "metrics) before its accuracy or coverage can raise an alert.",
    )
    naive_margin: float = _rule(
        0.0,
        0.0,
        1.0,
        "The served candidate is worse than naive at a horizon when its MASE exceeds naive's by more than this share.",
    )
    coverage_80_low: float = _rule(0.70, 0.0, 1.0, "Lowest acceptable share of actuals inside the 80% intervals.")
    coverage_80_high: float = _rule(0.90, 0.0, 1.0, "Highest acceptable share of actuals inside the 80% intervals.")
    coverage_95_low: float = _rule(0.88, 0.0, 1.0, "Lowest acceptable share of actuals inside the 95% intervals.")
    coverage_95_high: float = _rule(0.99, 0.0, 1.0, "Highest acceptable share of actuals inside the 95% intervals.")
    revision_days: int = _rule(  # type: ignore[assignment]
        7,
        0,
        3650,
        "A price revision stays an alert for this many days after it was detected, counted back from the "
        "ticker's latest run (not from today: a replayed history alerts the same way).",
    )

    def __post_init__(self) -> None:
        for rule in fields(self):
            value = getattr(self, rule.name)
            if not rule.metadata["low"] <= value <= rule.metadata["high"]:
                raise ValueError(f"{rule.name} must be in [{rule.metadata['low']}, {rule.metadata['high']}]")
        if self.coverage_80_low > self.coverage_80_high or self.coverage_95_low > self.coverage_95_high:
            raise ValueError("a coverage band's low end must not be above its high end")


ALERT_RULES = AlertRules()
"""The thresholds in force: change a default above to change the alerts view and status."""


def thresholds_sql(rules: AlertRules = ALERT_RULES) -> str:
    """The one-row SELECT of the alert_thresholds view: every threshold as a column of that name."""
    columns = (f"{float(getattr(rules, r.name))!r}::{_sql_type(r.type)} AS {r.name}" for r in fields(rules))
    return "SELECT " + ", ".join(columns)


def _sql_type(kind: object) -> str:
    return "INTEGER" if kind in (int, "int") else "DOUBLE"
