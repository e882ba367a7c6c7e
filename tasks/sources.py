"""The price source a run's settings name, and the ingest stage's fetch through it."""

from __future__ import annotations

import pandas as pd

from nightcast.settings import Settings
from tasks.ingest import FileSource, IngestError, PriceSource, SampleSource, within_dates
from tasks.revisions import FetchWindow
from tasks.yahoo import YahooSource


def source_for(settings: Settings) -> PriceSource:
    """The price source the settings name."""
    if settings.source == "file":
        return FileSource(settings.path or "")
    return YahooSource() if settings.source == "yahoo" else SampleSource()


def ingest_prices(
    settings: Settings, source: PriceSource | None = None, window: FetchWindow | None = None
) -> pd.DataFrame:
    """Fetch settings' ticker within the window (default: settings' start..end) from the source; no rows at
    all -> IngestError."""
    start, end = (window.start, window.end) if window else (settings.start, settings.end)
    frame = within_dates((source or source_for(settings)).fetch(settings.ticker, start, end), start, end)
    if frame.empty:
        raise IngestError(
            f"no prices for {settings.ticker!r} between {start or 'the earliest date'} "
            f"and {end or 'the latest date'} from source {settings.source!r}"
        )
    return frame
