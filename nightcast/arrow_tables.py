"""Rows in a table's Arrow schema: frames converted on the way in, stored files conformed on the way out."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from nightcast.schema import TABLES

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd


def to_arrow(table: str, frame: pd.DataFrame) -> pa.Table:
    """Convert a frame to the table's Arrow schema (dates to date32, timestamps to UTC)."""
    import pandas as pd

    schema = TABLES[table]
    columns = {}
    for f in schema:
        values = frame[f.name] if f.name in frame else pd.Series([None] * len(frame), dtype="object")
        if pa.types.is_date32(f.type):
            values = pd.to_datetime(values).dt.date
        elif pa.types.is_timestamp(f.type):
            values = pd.to_datetime(values, utc=True)
        columns[f.name] = pa.array(values, type=f.type, from_pandas=True)
    return pa.table(columns, schema=schema)


def aligned(data: pa.Table, table: str) -> pa.Table:
    """A stored file's rows in the table's current schema (columns it lacks are null)."""
    schema = TABLES[table]
    return pa.table(
        [data[f.name].cast(f.type) if f.name in data.column_names else pa.nulls(len(data), f.type) for f in schema],
        schema=schema,
    )
