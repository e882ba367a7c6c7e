"""The nightly plan: which tickers, with which shared settings, fetched how, run where."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from nightcast.settings import Settings
from nightcast.tickers import TICKER_SCHEMA_PATTERN, check_ticker

MAX_CHUNK = 25
"""Most tickers a chunk holds by default. A worker keeps its chunk's histories, fits and backtest folds until
the chunk ends, so memory grows with the chunk (peak 2.9 GB at 20 tickers in chunks of 5, 4.1 GB at 100 in
chunks of 25: BENCHMARKS.md); a larger universe gets more chunks, one task run each, not larger ones."""


class RunnerSettings(BaseModel):
    """How the nightly flow runs its tickers: local threads, or Dask (a local cluster or an existing one)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["processes", "threads", "dask"] = Field(
        "processes",
        description="processes: a local process pool; threads: threads in the flow's process; "
        "dask: a Dask cluster via prefect-dask.",
    )
    workers: int = Field(
        2, ge=1, le=256, description="Processes or threads, or the worker processes of a local Dask cluster."
    )
    dask_address: str | None = Field(
        None, description="Address of an existing Dask scheduler (tcp://host:8786); empty: start a local cluster."
    )
    chunk_tickers: int = Field(
        0,
        ge=0,
        le=10_000,
        description="Tickers per chunk, the unit of parallel work (each candidate's fits of a chunk run in one "
        "computation); 0: the tickers split evenly into twice as many chunks as workers, of at most 25 tickers "
        "(more chunks beyond 50 tickers a worker).",
    )

    def chunk_size(self, tickers: int) -> int:
        """Tickers per chunk for a night of that many tickers."""
        return self.chunk_tickers or max(1, min(MAX_CHUNK, -(-tickers // (2 * self.workers))))

    @model_validator(mode="after")
    def _check_address(self) -> RunnerSettings:
        if self.dask_address and self.kind != "dask":
            raise ValueError("dask_address is only used with kind 'dask'")
        if self.dask_address and not re.fullmatch(r"(tcp|tls|inproc|ucx)://[\w.\-\[\]:/]+", self.dask_address):
            raise ValueError(f"dask_address {self.dask_address!r} is not a Dask address like tcp://host:8786")
        return self


class FetchSettings(BaseModel):
    """Batched downloads for the nightly: several symbols per call, a few calls at once, backoff on throttling."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    batch_size: int = Field(50, ge=1, le=500, description="Symbols per download call.")
    concurrency: int = Field(2, ge=1, le=16, description="Download calls at once.")
    retries: int = Field(3, ge=0, le=10, description="Retries of a call that fails or returns nothing (throttling).")
    backoff_seconds: float = Field(
        2.0, ge=0.0, le=600.0, description="Wait before the first retry, doubled before each next one."
    )


Ticker = Annotated[
    str, AfterValidator(check_ticker), WithJsonSchema({"type": "string", "pattern": TICKER_SCHEMA_PATTERN})
]


class NightlyPlan(BaseModel):
    """The nightly retraining of several tickers: which ones, with which settings, on which runner."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tickers: list[Ticker] = Field(
        default_factory=lambda: ["GOOG", "^GSPC"],
        min_length=1,
        max_length=1000,
        description="Tickers to retrain tonight; each gets its own run.",
    )
    settings: Settings = Field(
        default_factory=Settings, description="Settings shared by every ticker (their ticker field is replaced)."
    )
    runner: RunnerSettings = Field(default_factory=RunnerSettings, description="Where the tickers' runs execute.")
    fetch: FetchSettings = Field(
        default_factory=FetchSettings, description="How a network source is asked for many tickers."
    )

    @model_validator(mode="after")
    def _check_plan(self) -> NightlyPlan:
        if len(set(self.tickers)) != len(self.tickers):
            raise ValueError(f"tickers are repeated: {', '.join(self.tickers)}")
        if self.settings.source == "file" and not Path(self.settings.path or "").is_dir():
            raise ValueError(
                "the nightly plan's file source needs a folder of <TICKER>.csv or <TICKER>.parquet files as its "
                f"path, not {self.settings.path!r}"
            )
        return self

    def settings_for(self, ticker: str) -> Settings:
        """One ticker's settings."""
        return self.settings.for_ticker(ticker)
