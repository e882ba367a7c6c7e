"""A query's rows as text: an aligned table for people (cells escaped and capped in width), CSV or JSON for
programs (every value, in full)."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

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


def render(columns: list[str], rows: list[tuple], fmt: str) -> str:
    """Rows as an aligned table, CSV or JSON records (dates as ISO strings)."""
    if fmt == "json":
        names = _distinct(columns)
        records = [{c: _plain(v) for c, v in zip(names, r)} for r in rows]
        return json.dumps(records, indent=1, default=str, allow_nan=False)
    if fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if v is None else _text(v, exact=True) for v in r] for r in rows])
        return out.getvalue().rstrip("\n")
    if not rows:
        return f"(no rows; columns: {', '.join(map(_shown, columns))})"
    cells = [[_cell(v) for v in r] for r in rows]
    names = [_cell(c) for c in columns]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(names)]
    lines = [" ".join(c.rjust(w) for c, w in zip(names, widths))]
    lines += [" ".join(v.rjust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)
