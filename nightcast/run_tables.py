"""How one run's rows join a ticker's rows of a table, so that a night rewrites a bounded file however many
nights are stored.

A ticker's folder of a table holds two files: `<table>.parquet`, every run up to the last fold, and
`<table>.recent.parquet`, the runs since (at most RECENT_RUNS). A run's write rewrites the recent file
alone; the write that would put more than RECENT_RUNS runs in it folds them into the big file instead (one
rewrite of the history every RECENT_RUNS + 1 nights), and so does a rerun of a run already folded.

A fold renames the new big file over the old one, then renames an empty recent file over the recent one
(never deleting it, so that a reader that listed it still finds it): for an instant (or, after a crash
there, until the next write) a run's rows are in both. Readers therefore skip a recent row whose run is in
the big file (nightcast/readonly_files.py `tiered_scan`), and the next write drops them. Files of the
layout before one file per ticker (one per run) are read and folded like recent ones, then deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from nightcast import files
from nightcast.arrow_tables import aligned, to_arrow

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

RECENT_RUNS = 32
"""Runs a ticker's recent file holds before they are folded into its big file."""
RECENT_SUFFIX = ".recent.parquet"


def _read(paths: list[Path], table: str) -> pa.Table | None:
    import pyarrow.parquet as pq

    parts = [aligned(pq.read_table(p), table) for p in paths if p.exists()]
    return pa.concat_tables(parts) if parts else None


def _without(rows: pa.Table, runs: pa.Array) -> pa.Table:
    """rows but those of the given runs."""
    import pyarrow.compute as pc

    return rows.filter(pc.invert(pc.is_in(rows["run_id"], value_set=runs)))


def _runs_of(path: Path, runs: pa.Array) -> pa.Array:
    """The runs a big file holds, as far as the given runs need to know: none when every one of them sorts
    after the file's largest run id (run ids sort by time, so a new night's do), read from the file's
    statistics without reading a row; else every run in the file's run_id column."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    if not path.exists():
        return pa.array([], pa.string())
    meta = pq.read_metadata(path)
    column = meta.schema.names.index("run_id")
    stats = [meta.row_group(i).column(column).statistics for i in range(meta.num_row_groups)]
    if all(s is not None and s.has_min_max for s in stats) and len(runs):
        largest = max((s.max for s in stats), default=None)
        if largest is None or pc.min(runs).as_py() > largest:
            return pa.array([], pa.string())
    return pq.read_table(path, columns=["run_id"])["run_id"].unique()


def stored_rows(table: str, big: Path, others: list[Path]) -> pa.Table | None:
    """Every stored row of a ticker's table: the big file's, and those of the recent (or per-run) files whose
    run the big file does not hold."""
    stored, rest = _read([big], table), _read(others, table)
    if stored is None or rest is None or "run_id" not in stored.column_names:
        return rest if stored is None else stored if rest is None else pa.concat_tables([stored, rest])
    return pa.concat_tables([stored, _without(rest, stored["run_id"].unique())])


def merge_run(table: str, new: pa.Table, big: Path, recent: Path, legacy: list[Path]) -> Path:
    """Store new (one run's rows, replacing that run's stored rows) in the recent file, or fold everything
    into the big file when the recent file would hold more than RECENT_RUNS runs or the run was folded
    already; returns the file written. The caller holds the ticker's lock for the table."""
    import pyarrow.compute as pc

    pending = _read([recent, *legacy], table)
    runs = new["run_id"].unique()
    folded = _runs_of(big, runs if pending is None else pa.concat_arrays([runs, pending["run_id"].unique()]))
    if pending is not None:  # without rows of a fold that died before emptying the recent file
        pending = _without(_without(pending, folded), runs)
    rows = new if pending is None else pa.concat_tables([pending, new])
    if pc.any(pc.is_in(runs, value_set=folded)).as_py() or len(rows["run_id"].unique()) > RECENT_RUNS:
        history = _read([big], table)
        files.write_atomic(rows if history is None else pa.concat_tables([_without(history, runs), rows]), big)
        _empty(recent, rows.schema)
        written = big
    else:
        files.write_atomic(rows, recent)
        written = recent
    for path in legacy:
        path.unlink(missing_ok=True)
    return written


def _empty(recent: Path, schema: pa.Schema) -> None:
    """Leave an empty recent file (if there was one): its runs are in the big file now."""
    if recent.exists():
        files.write_atomic(schema.empty_table(), recent)


def fold(table: str, big: Path, recent: Path, legacy: list[Path]) -> int:
    """Fold the recent and per-run files into the big file; returns how many files held rows to fold."""
    import pyarrow.parquet as pq

    pending = ([recent] if recent.exists() and pq.read_metadata(recent).num_rows else []) + legacy
    rows = stored_rows(table, big, [recent, *legacy])
    if pending and rows is not None:
        files.write_atomic(rows, big)
        _empty(recent, rows.schema)
        for path in legacy:
            path.unlink(missing_ok=True)
    return len(pending)


def replace_newest(
    table: str, new: pa.Table, shared: Path, legacy: Mapping[str, list[Path]] | None = None
) -> dict[str, bool]:
    """Replace each ticker's rows of a shared table (every ticker's newest night, in one file) by its rows of
    new unless a newer as_of is stored for it (then its newest stored night stays); a ticker's files from
    before the table was shared (legacy) are folded in and deleted. One rewrite of the file for every ticker
    of new. Returns, per ticker, whether its rows were replaced. The caller holds the table's lock."""
    import pyarrow.compute as pc

    stored = _read([shared], table)
    stored = new.schema.empty_table() if stored is None else stored
    legacy = dict(legacy or {})
    tickers = list(dict.fromkeys(new["ticker"].to_pylist()))
    replaced: dict[str, bool] = {}
    keep = [stored.filter(pc.invert(pc.is_in(stored["ticker"], value_set=pa.array(tickers, pa.string()))))]
    for ticker in tickers:
        old = [stored.filter(pc.equal(stored["ticker"], ticker)), *filter(None, [_read(legacy.get(ticker, []), table)])]
        mine, tonight = pa.concat_tables(old), new.filter(pc.equal(new["ticker"], ticker))
        newer = bool(len(mine)) and pc.max(mine["as_of"]).as_py() > pc.max(tonight["as_of"]).as_py()
        keep.append(mine.filter(pc.equal(mine["as_of"], pc.max(mine["as_of"]))) if newer else tonight)
        replaced[ticker] = not newer
    if any(replaced.values()) or any(legacy.values()):
        files.write_atomic(pa.concat_tables(keep), shared)
    for paths in legacy.values():
        for old_file in paths:
            old_file.unlink(missing_ok=True)
    return replaced


def fold_newest(table: str, ticker: str, shared: Path, legacy: list[Path]) -> int:
    """Fold a ticker's files from before a table was shared into the shared file (their newest night, unless
    a newer one is stored there); returns how many were folded. The caller holds the table's lock."""
    import pyarrow.compute as pc

    rows = _read(legacy, table)
    if rows is not None:
        newest = rows.filter(pc.equal(rows["as_of"], pc.max(rows["as_of"])))
        replace_newest(table, newest, shared, {ticker: legacy})
    return len(legacy)


def merge_closes(stored: pa.Table | None, new: pd.DataFrame, replace: Iterable) -> tuple[pa.Table, int]:
    """A ticker's prices with the dates of new not yet stored added, date-ordered; a stored date in replace
    (a taken revision) takes new's row. Returns the rows and how many came from new."""
    import pandas as pd
    import pyarrow.compute as pc

    new = new.assign(date=pd.to_datetime(new["date"]).dt.date)
    swap = set(pd.to_datetime(pd.Series(list(replace), dtype="object")).dt.date)
    if stored is not None:
        new = new[~new["date"].isin(set(stored["date"].to_pylist()) - swap)]
        stored = stored.filter(pc.invert(pc.is_in(stored["date"], pa.array(sorted(swap), pa.date32()))))
    rows = to_arrow("prices", new)
    return (rows if stored is None else pa.concat_tables([stored, rows])).sort_by("date"), len(new)
