"""The small groups of settings the stages read (#27). A stage in tasks/ takes the group it needs, never the whole
Settings: the flows (and the command line's pre-flight) build each group once from a run's Settings with its
`from_settings` and pass it down. No group holds the ticker: it travels once, with the ticker's own inputs (its
RunInfo, its TickerInputs), and a stage that needs it (an exchange's calendar) is handed it.

TrainOptions   how one RNN fit runs (epochs, batch, seed, learning rate, early stopping)
Fitting        how every candidate is fitted: the RNN's window, its TrainOptions from scratch and as a fine-tune
BacktestPlan   the rolling-origin folds of a cold-start backtest
EvidencePolicy which realized forecasts are evidence, and how they shape the bands and pick the champion
ForecastPlan   a night's forecasting: the candidates, the horizon, the calendar, the refit rhythm and the above
RevisionPolicy how fetched closes meet stored ones
Limits         the price suite's judgment-call thresholds
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import Any, Literal

import pandas as pd

from nightcast.calendars import calendar_for
from nightcast.candidates import DEFAULT_CANDIDATES
from nightcast.settings import Settings

DEFAULTS = Settings.model_fields
"""The groups' defaults are the settings' own: one definition."""


def _default(name: str) -> Any:
    return DEFAULTS[name].default


@dataclass(frozen=True)
class TrainOptions:
    """How an RNN is fitted (tasks/training/train.py's train_model says what each option does); the defaults are the
    settings'. jit_compile and threads: the fast trainer's XLA compilation and TensorFlow threads per fit."""

    epochs: int = _default("epochs")
    batch_size: int = _default("batch_size")
    seed: int = _default("seed")
    learning_rate: float = _default("learning_rate")
    final_lr_fraction: float = _default("final_lr_fraction")
    validation_fraction: float = _default("validation_fraction")
    patience: int = _default("patience")
    jit_compile: bool = True
    threads: int = 1

    @classmethod
    def from_settings(cls, settings: Settings) -> TrainOptions:
        """A run's training options from scratch (settings.epochs; a fine-tune's: Fitting.options)."""
        return cls(
            epochs=settings.epochs,
            batch_size=settings.batch_size,
            seed=settings.seed,
            learning_rate=settings.learning_rate,
            final_lr_fraction=settings.final_lr_fraction,
            validation_fraction=settings.validation_fraction,
            patience=settings.patience,
        )

    def check(self) -> None:
        """Refuse options no fit can use (a ValueError naming them)."""
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(f"epochs and batch_size must be at least 1, got {self.epochs} and {self.batch_size}")
        if (
            not 0.0 <= self.validation_fraction < 1.0
            or self.patience < 0
            or self.learning_rate <= 0
            or not 0 < self.final_lr_fraction <= 1
        ):
            raise ValueError(
                "need 0 <= validation_fraction < 1, patience >= 0, learning_rate > 0 and 0 < final_lr_fraction <= 1"
            )


@dataclass(frozen=True)
class Fitting:
    """How every candidate is fitted: an RNN reads windows of time_step closes and trains with `train` from
    scratch, or for fine_tune_epochs (the same options otherwise) when it fine-tunes its previous version."""

    time_step: int = _default("time_step")
    train: TrainOptions = field(default_factory=TrainOptions)
    fine_tune_epochs: int = _default("fine_tune_epochs")

    @classmethod
    def from_settings(cls, settings: Settings) -> Fitting:
        """A run's fitting: its time_step, training options and fine_tune_epochs."""
        return cls(settings.time_step, TrainOptions.from_settings(settings), settings.fine_tune_epochs)

    def options(self, fine_tune: bool = False) -> TrainOptions:
        """The training options of one fit: from scratch, or a fine-tune (fine_tune_epochs)."""
        return replace(self.train, epochs=self.fine_tune_epochs) if fine_tune else self.train


@dataclass(frozen=True)
class BacktestPlan:
    """A cold-start backtest's rolling-origin folds: `folds` refits, `refit_every` trading days apart."""

    folds: int = _default("backtest_folds")
    refit_every: int = _default("backtest_refit_every")

    @classmethod
    def from_settings(cls, settings: Settings) -> BacktestPlan:
        """A run's backtest_folds and backtest_refit_every."""
        return cls(settings.backtest_folds, settings.backtest_refit_every)


@dataclass(frozen=True)
class EvidencePolicy:
    """The evidence rule: the last `window` forecast origins score the candidates and shape their bands, naive's
    errors over tail_memory origins floor the bands' tails (0: off), and a challenger needs min_forecasts shared
    forecasts and a MASE lower by more than `margin` to replace the champion."""

    window: int = _default("evidence_window")
    tail_memory: int = _default("tail_memory")
    margin: float = _default("champion_margin")
    min_forecasts: int = _default("min_forecasts")

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidencePolicy:
        """A run's evidence_window, tail_memory, champion_margin and min_forecasts."""
        return cls(settings.evidence_window, settings.tail_memory, settings.champion_margin, settings.min_forecasts)


@dataclass(frozen=True)
class ForecastPlan:
    """A night's forecasting, the same for every ticker: the candidates, horizons 1..horizon on the calendar
    (None: each ticker's exchange's), a fit from scratch every full_retrain_every_days, and how candidates are
    fitted, backtested and judged."""

    candidates: tuple[str, ...] = DEFAULT_CANDIDATES
    horizon: int = _default("horizon")
    calendar: str | None = None
    full_retrain_every_days: int = _default("full_retrain_every_days")
    fitting: Fitting = field(default_factory=Fitting)
    backtest: BacktestPlan = field(default_factory=BacktestPlan)
    evidence: EvidencePolicy = field(default_factory=EvidencePolicy)

    @classmethod
    def from_settings(cls, settings: Settings) -> ForecastPlan:
        """A run's forecasting plan (every setting a forecasting stage reads; not the ticker)."""
        return cls(
            candidates=tuple(settings.candidates),
            horizon=settings.horizon,
            calendar=settings.calendar,
            full_retrain_every_days=settings.full_retrain_every_days,
            fitting=Fitting.from_settings(settings),
            backtest=BacktestPlan.from_settings(settings),
            evidence=EvidencePolicy.from_settings(settings),
        )

    def exchange(self, ticker: str) -> str:
        """The trading calendar of a ticker's exchange (the plan's calendar when it names one)."""
        return calendar_for(ticker, self.calendar)


@dataclass(frozen=True)
class RevisionPolicy:
    """How fetched closes meet stored ones: a close that differs by more than tolerance (relative) is a revision,
    kept out or taken by rule; more than max_revised revisions at once is a rewritten history, refused."""

    rule: Literal["keep", "take"]
    tolerance: float
    max_revised: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RevisionPolicy:
        """A run's policy: its on_revision, revision_tolerance and max_revised_days."""
        return cls(settings.on_revision, settings.revision_tolerance, settings.max_revised_days)


@dataclass(frozen=True)
class Limits:
    """The suite's judgment-call thresholds (Settings.max_daily_move, max_gap_days) and the day that is today."""

    max_daily_move: float = _default("max_daily_move")
    max_gap_days: int = _default("max_gap_days")
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
        return pd.Timestamp(self.today).date() if self.today else datetime.now(UTC).date()
