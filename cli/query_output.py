"""A query's rows as text: an aligned table for people (cells escaped and capped in width), CSV or JSON for
programs (every value, in full)."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

CELL_WIDTH = 60
"""Widest table cell; longer text ends in '…' (csv and json keep every character)."""


def _shown(text: str) -> str:
    """Text safe on a terminal: control, format (bidi overrides) and separator characters as escapes."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode() for ch in text)


def _text(value: object, exact: bool = False) -> str:
    """A value as text: floats to 6 significant digits for people, exactly (round-trip) when exact."""
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return repr(value) if exact else f"{value:.6g}"
    if isinstance(value, (dt.date, dt.datetime)) and value in _INFINITE:
        return _INFINITE[value]
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(_plain(value), default=str, ensure_ascii=False)
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime, dt.time)) else str(value)


def _cell(value: object) -> str:
    text = _shown(_text(value))
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


_INFINITE: dict[object, str] = {
    dt.date.max: "infinity",
    dt.date.min: "-infinity",
    dt.datetime.max: "infinity",
    dt.datetime.min: "-infinity",
}
"""How DuckDB's infinite dates and timestamps reach Python, and what they are."""


def _plain(value: Any) -> Any:
    """A value strict JSON can hold: dates as ISO text (infinite ones as such), NaN and infinities as null, a
    map's keys as text, nested lists and maps too."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return _INFINITE.get(value) or value.isoformat()
    if isinstance(value, dict):
        return {_text(key) if not isinstance(key, str) else key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return value.hex()
    return value


def _distinct(columns: list[str]) -> list[str]:
    """Column names made distinct for JSON records: a repeated name gets _2, _3, ..."""
    seen: dict[str, int] = {}
    names = []
    for name in columns:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return names


WRITE_ROWS = 10_000
"""Rows of CSV written to the output at once."""
PLAIN_TYPES = frozenset(
    {"BOOLEAN", "VARCHAR", "DOUBLE", "FLOAT", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"}
    | {"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT"}
)
"""DuckDB types whose Python values the csv module writes as _text(exact=True) does (None as an empty field)."""


def write_csv(columns: list[str], rows: Iterable[tuple], out: TextIO, types: Sequence[str] = ()) -> None:
    """Rows as CSV, written to out as they come (exact values: doubles round-trip). Columns of PLAIN_TYPES (all
    of them when types is given and every one is plain) go to the csv module as they are: 5x faster."""
    import csv
    import io
    from itertools import islice

    batch = io.StringIO()  # written to out a batch at a time: one large write instead of many small ones
    writer = csv.writer(batch, lineterminator="\n")
    writer.writerow(columns)
    other = [i for i in range(len(columns)) if len(types) != len(columns) or types[i] not in PLAIN_TYPES]

    def texts(row: tuple) -> list[object]:
        values = list(row)
        for i in other:
            values[i] = "" if values[i] is None else _text(values[i], exact=True)
        return values

    values = iter(map(texts, rows) if other else rows)
    while True:
        writer.writerows(islice(values, WRITE_ROWS))
        if not batch.tell():
            return
        out.write(batch.getvalue())
        batch.seek(0)
        batch.truncate()


def write_json(columns: list[str], rows: Iterable[tuple], out: TextIO, types: Sequence[str] = ()) -> None:
    """Rows as a strict JSON array of records, written to out as they come."""
    from itertools import islice

    names = _distinct(columns)
    records = (json.dumps({c: _plain(v) for c, v in zip(names, r)}, default=str, allow_nan=False) for r in rows)
    out.write("[")
    separator = "\n "
    while texts := list(islice(records, WRITE_ROWS)):  # a batch of records at a time: one large write
        out.write(separator + ",\n ".join(texts))
        separator = ",\n "
    out.write("\n]\n")


def write_table(columns: list[str], rows: Iterable[tuple], out: TextIO, types: Sequence[str] = ()) -> None:
    """Rows as an aligned table (every row is held: the widths depend on all of them)."""
    cells = [[_cell(v) for v in r] for r in rows]
    if not cells:
        out.write(f"(no rows; columns: {', '.join(map(_shown, columns))})\n")
        return
    names = [_cell(c) for c in columns]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(names)]
    lines = [" ".join(c.rjust(w) for c, w in zip(names, widths))]
    lines += [" ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    out.write("\n".join(lines) + "\n")


WRITERS = {"csv": write_csv, "json": write_json, "table": write_table}
"""Each output format's writer: csv and json stream, table holds its rows (its row limit: TABLE_ROWS)."""
TABLE_ROWS = 250_000
"""Most rows a table shows, whatever --max-rows: aligning columns needs every row in memory."""
