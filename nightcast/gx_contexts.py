"""Great Expectations' in-memory contexts, shared by the validate stage (tasks/prices/validate.py, which only validates)
and the Data Docs writer (nightcast/data_docs.py, which writes a validation's site): GX imported quietly, one
context at a time (GX keeps the active context in a process-wide global), and the validation a site is written
from, as data."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

LOCK = threading.Lock()
"""Held while a context lives: one validation or one site write at a time."""


@dataclass(frozen=True)
class Validated:
    """One GX checkpoint run kept in memory, everything its Data Docs pages are rendered from: the suite it ran,
    the result's key (suite, run id, batch) and the result."""

    suite: Any
    key: Any
    result: Any


def gx_module() -> Any:
    """Import Great Expectations quietly (no analytics, no INFO chatter)."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    gx_logger = logging.getLogger("great_expectations")
    if gx_logger.level == logging.NOTSET:
        gx_logger.setLevel(logging.WARNING)
    import great_expectations

    return great_expectations


def ephemeral(sites: dict[str, Any] | None = None) -> Any:
    """A fresh in-memory GX context (no progress bars or analytics), with the given Data Docs sites (none: it
    writes nothing). Call it holding LOCK."""
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
        data_docs_sites=sites or {},
    )
    return gx_module().get_context(mode="ephemeral", project_config=config)
