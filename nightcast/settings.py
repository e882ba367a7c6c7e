"""The one typed settings model: the `retrain` flow's parameter, the CLI's options and the UI's form."""

from __future__ import annotations

import datetime as dt
import json
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nightcast.calendars import calendar_for
from nightcast.candidates import CANDIDATES, DEFAULT_CANDIDATES, check_candidates
from nightcast.settings_rules import (
    DEFAULT_TICKERS,
    TUTORIAL_RANGE,
    calendar_or_none,
    check_combination,
    split_names,
    ticker_or_empty,
    with_source_defaults,
)
from nightcast.tickers import TICKER_SCHEMA_PATTERN

__all__ = ["DEFAULT_TICKERS", "TUTORIAL_RANGE", "Settings"]


class Settings(BaseModel):
    """Everything one retraining run of one ticker needs; an inconsistent combination is refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ticker: str = Field(
        "",
        json_schema_extra={"pattern": TICKER_SCHEMA_PATTERN},
        description="Ticker to retrain (GOOG, ^GSPC, NFLX...). Empty: the source's default "
        "(sample: GOOG, yahoo: NFLX); required for a file source.",
    )
    source: Literal["sample", "yahoo", "file"] = Field(
        "sample",
        description="Where prices come from: bundled real prices (offline), Yahoo Finance "
        "via yfinance, or a CSV/Parquet file.",
    )
    path: str | None = Field(
        None,
        description="CSV or Parquet file to read, or a folder of <TICKER>.csv/.parquet files (the nightly's "
        "universe); only with source=file.",
    )
    start: dt.date | None = Field(None, description="First date to use (inclusive); empty: from the start.")
    end: dt.date | None = Field(None, description="Last date to use (inclusive); empty: up to the latest.")
    candidates: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CANDIDATES),
        description="Candidate models fitted every night on all data up to tonight; the one with the best "
        "out-of-sample MASE is served, the others shadow. naive always runs. Known: " + ", ".join(CANDIDATES) + ".",
    )
    time_step: int = Field(100, ge=1, le=1000, description="Days of closing prices in each RNN input window.")
    epochs: int = Field(80, ge=1, le=10_000, description="RNN training epochs of a full fit.")
    batch_size: int = Field(32, ge=1, le=65_536, description="RNN training batch size.")
    seed: int = Field(42, ge=0, le=2**31 - 1, description="Random seed; a fixed seed gives a reproducible run.")
    warehouse: str | None = Field(None, description="Warehouse folder; empty: $NIGHTCAST_WAREHOUSE, else ./warehouse.")
    horizon: int = Field(
        5,
        ge=1,
        le=60,
        description="Trading sessions to forecast after the last close (recursively: each forecast feeds the next).",
    )
    calendar: str | None = Field(
        None,
        description="Trading calendar of the ticker's exchange (an exchange_calendars name such as XNYS, "
        "XLON, 24/7); empty: from the symbol's suffix (.L XLON, .HK XHKG, =X 24/5, -USD 24/7, else XNYS).",
    )
    ingest_overlap: int = Field(
        5,
        ge=1,
        le=250,
        description="Stored sessions fetched again each night to catch late corrections: a ticker with stored "
        "prices is fetched from its overlap-th last stored date to end; its first night fetches the whole history.",
    )
    refetch: bool = Field(
        False,
        description="Fetch the whole history even when prices are stored (every stored close is compared).",
    )
    on_revision: Literal["keep", "take"] = Field(
        "keep",
        description="When the source changes a stored close (recorded in price_revisions either way): keep the "
        "stored close, or take the new one and train the RNN candidates from scratch.",
    )
    revision_tolerance: float = Field(
        0.0001,
        ge=0.0,
        le=0.1,
        description="Relative difference between a fetched and a stored close above which it is a revision.",
    )
    max_revised_days: int = Field(
        3,
        ge=0,
        le=100_000,
        description="Most stored closes one fetch may revise; more (a split, a re-based series) is refused with "
        "nothing stored.",
    )
    max_daily_move: float = Field(
        0.5,
        gt=0.0,
        le=10.0,
        description="Largest accepted day-over-day change of the close, as a fraction "
        "(0.5 = 50%); a bigger move fails validation.",
    )
    max_gap_days: int = Field(
        10,
        ge=1,
        le=3650,
        description="Longest accepted gap between consecutive dates, in calendar days; a longer gap fails validation.",
    )
    learning_rate: float = Field(
        0.001,
        gt=0.0,
        le=1.0,
        description="Adam's learning rate at the first epoch; it decays along a cosine "
        "to final_lr_fraction of itself by the last epoch.",
    )
    final_lr_fraction: float = Field(
        0.05,
        gt=0.0,
        le=1.0,
        description="Learning rate at the last epoch as a share of learning_rate (1: constant, as in the tutorial).",
    )
    validation_fraction: float = Field(
        0.0,
        ge=0.0,
        lt=0.5,
        description="Share of the training windows, the most recent ones, held out to "
        "stop early and keep the best epoch; 0: train on all, keep the last epoch.",
    )
    patience: int = Field(
        10,
        ge=0,
        le=10_000,
        description="Stop once the validation loss has not improved for this many epochs "
        "(0: train every epoch, still keep the best).",
    )
    full_retrain_every_days: int = Field(
        7,
        ge=0,
        le=3650,
        description="Train an RNN candidate from scratch when its last full fit saw data at "
        "least this many days older than tonight's; other nights fine-tune its previous version on all data up "
        "to tonight. 0: always from scratch.",
    )
    fine_tune_epochs: int = Field(
        5,
        ge=1,
        le=10_000,
        description="Epochs when fine-tuning an RNN candidate's previous version (its "
        "weights and scaler) on all windows up to tonight.",
    )
    evidence_window: int = Field(
        100,
        ge=5,
        le=5000,
        description="Most recent forecast origins (backtest or live) whose realized "
        "forecasts score the candidates and shape their intervals.",
    )
    tail_memory: int = Field(
        500,
        ge=0,
        le=5000,
        description="Origins of naive's own errors (they need no fit) whose quantiles are a floor under every "
        "candidate's 95% interval tails, so that a jump is remembered past evidence_window; 0: off "
        "(docs/forecasting.md).",
    )
    champion_margin: float = Field(
        0.02,
        ge=0.0,
        le=0.5,
        description="A challenger replaces the champion only if its MASE (averaged over "
        "horizons, on the forecasts both made) is lower by more than this share and it is no worse than naive at "
        "any horizon; a champion behind naive at some horizon by more than this share hands back to naive.",
    )
    min_forecasts: int = Field(
        20,
        ge=1,
        le=100_000,
        description="Fewest shared realized forecasts on which a challenger may replace the champion.",
    )
    backtest_folds: int = Field(
        5,
        ge=1,
        le=500,
        description="Rolling-origin folds of a candidate's cold-start backtest (and the default "
        "of nightcast backtest): the last folds x backtest_refit_every origins are forecast out of sample.",
    )
    backtest_refit_every: int = Field(
        20,
        ge=1,
        le=1000,
        description="Trading days between refits in a backtest; each fold forecasts horizons "
        "1..horizon from every origin in it.",
    )
    keep_runs: int = Field(
        30,
        ge=1,
        le=100_000,
        description="Model folders, plots and Data Docs pages of a ticker's last keep_runs "
        "runs are kept; older ones are deleted (their registry rows stay).",
    )
    train_fraction: float = Field(
        0.8,
        gt=0.0,
        lt=1.0,
        description="nightcast compare only: share of the history, oldest first, used for "
        "training in the tutorial's split.",
    )

    _check_ticker = field_validator("ticker", mode="before")(staticmethod(ticker_or_empty))
    _split_candidates = field_validator("candidates", mode="before")(staticmethod(split_names))
    _check_candidates = field_validator("candidates")(staticmethod(check_candidates))
    _check_calendar = field_validator("calendar")(staticmethod(calendar_or_none))
    # the source's defaults are filled in before validation: a frozen model is never changed once made
    _source_defaults = model_validator(mode="before")(staticmethod(with_source_defaults))

    @model_validator(mode="after")
    def _check_combination(self) -> Settings:
        check_combination(self.source, self.path, self.ticker, self.start, self.end)
        return self

    @property
    def fetches_whole_history(self) -> bool:
        """Whether tonight reads the source's whole history (refetch, or a file, which states all of it)
        rather than the overlap and the new days."""
        return self.refetch or self.source == "file"

    @property
    def exchange(self) -> str:
        """The trading calendar of the ticker's exchange."""
        return calendar_for(self.ticker, self.calendar)

    def to_json(self) -> str:
        """Settings as stable JSON, stored with every run."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)

    def for_ticker(self, ticker: str) -> Settings:
        """The same settings for another ticker, validated again."""
        return Settings(**{**self.model_dump(), "ticker": ticker})

    def until(self, day: dt.date) -> Settings:
        """The same settings seeing only data up to day (inclusive), validated again."""
        return Settings(**{**self.model_dump(), "end": day})
