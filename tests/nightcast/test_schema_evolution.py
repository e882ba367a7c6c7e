"""A warehouse written by a version before a table gained columns (nightcast.schema.ADDED_LATER) still reads
through every table and view, the new columns as null, and its next night's write keeps both kinds of rows."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from nightcast import upkeep
from nightcast.schema import ADDED_LATER, TABLES
from nightcast.views import DERIVED_VIEWS
from nightcast.warehouse import Warehouse
from tests.nightcast.test_morning import NIGHTS, write_night


def drop_added_columns(wh: Warehouse) -> int:
    """Rewrite every file of the evolved tables without the columns added later, as an older version wrote
    them; returns how many files were rewritten."""
    rewritten = 0
    for table, added in ADDED_LATER.items():
        for path in (wh.root / table).rglob("*.parquet"):
            data = pq.read_table(path)
            pq.write_table(data.drop_columns([c for c in added if c in data.column_names]), path)
            rewritten += 1
    return rewritten


@pytest.fixture
def older(tmp_path) -> Warehouse:
    wh = Warehouse(tmp_path / "wh")
    for i, night in enumerate(NIGHTS[:2]):
        write_night(wh, "OLD", night, f"o{i}")
    upkeep.compact(wh, "OLD")  # the nights folded into the ticker's big file, as a season of nights leaves it
    assert drop_added_columns(wh) >= 1
    return wh


def test_every_table_and_view_of_an_older_warehouse_reads(older):
    for name in [*TABLES, *DERIVED_VIEWS]:
        older.query(f"select * from {name}")
    added = sorted(ADDED_LATER["metrics"])
    nulls = older.query(f"select count(*) n, count({added[0]}) known from metrics")
    assert nulls["n"][0] == 12 and nulls["known"][0] == 0


def test_the_next_night_writes_beside_the_older_rows(older):
    write_night(older, "OLD", NIGHTS[2], "o2")
    rows = older.query("select run_id, count(*) n, count(interval_score_80) known from metrics group by 1 order by 1")
    assert rows["run_id"].tolist() == ["o0", "o1", "o2"] and rows["n"].tolist() == [6, 6, 6]
    for name in [*TABLES, *DERIVED_VIEWS]:
        older.query(f"select * from {name}")
