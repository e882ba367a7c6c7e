"""The DuckDB benchmark's generated warehouse follows the stored schemas: `make bench --only duckdb` failed
for a while because its forecasts lacked columns added to the schema later, and nothing ran it."""

from __future__ import annotations

import duckdb
import pyarrow.parquet as pq

from bench.warehouse import LATEST_SQL, MONTHLY_SQL, generate
from nightcast.schema import TABLES


def test_the_generated_files_have_the_stored_schemas_and_answer_the_queries(tmp_path):
    rows = generate(tmp_path, tickers=3, days=40)
    assert rows == {"predictions": 120, "forecasts": 120}
    for table in ("predictions", "forecasts"):
        files = sorted((tmp_path / table).rglob("*.parquet"))
        assert len(files) == 3
        assert all(pq.read_schema(f).remove_metadata() == TABLES[table].remove_metadata() for f in files)
    with duckdb.connect() as con:
        for table in ("predictions", "forecasts"):
            con.execute(f"create view {table} as select * from read_parquet('{tmp_path / table}/*/*.parquet')")
        assert len(con.execute(LATEST_SQL).fetchall()) == 3
        assert len(con.execute(MONTHLY_SQL).fetchall()) == 3 * 2  # 40 business days from 2015-01-01 span 2 months
