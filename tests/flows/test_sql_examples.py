"""Every SQL example of README.md and docs/ runs against a warehouse after a short backfill, and the showcase
views have rows once forecast dates have passed."""

import re
from pathlib import Path

import duckdb
import pytest

from flows.backfill import backfill
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def examples() -> list[tuple[str, str]]:
    """(page, statement) for each statement of a ```sql block and each `nightcast query "..."` of the pages."""
    found = []
    for page in PAGES:
        text = page.read_text()
        for block in re.findall(r"```sql\n(.*?)```", text, flags=re.S):
            found += [(page.name, s.query) for s in duckdb.extract_statements(block)]
        found += [(page.name, sql) for sql in re.findall(r'nightcast query "([^"]+)"', text)]
    return found


EXAMPLES = examples()


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("examples")
    settings = Settings(ticker="GOOG", candidates=["naive", "drift"], warehouse=str(root / "wh"))
    assert all(o.status == "completed" for o in backfill(settings=settings, days=8))
    return Warehouse(root / "wh")


def test_the_pages_hold_sql_examples():
    assert len(EXAMPLES) >= 15 and {page for page, _ in EXAMPLES} >= {"README.md", "registry.md", "warehouse.md"}


@pytest.mark.parametrize(("page", "sql"), EXAMPLES, ids=[f"{p}:{i}" for i, (p, _) in enumerate(EXAMPLES)])
def test_every_sql_example_runs(backfilled, page, sql):
    assert backfilled.query_rows(sql).columns


@pytest.mark.parametrize("view", ["latest_forecasts", "served_accuracy", "leaderboard", "forecast_accuracy"])
def test_the_showcase_views_fill_after_a_week_of_nights(backfilled, view):
    assert backfilled.query_rows(f"select count(*) from {view}").rows[0][0] > 0


def test_status_and_alerts_read_a_backfilled_warehouse(backfilled, capsys):
    """`nightcast status` on what the pipeline itself wrote: the last night completed, current as of its day."""
    from cli import main

    last = backfilled.query_rows("select max(as_of) from decisions").rows[0][0]
    code = main(["status", "--warehouse", str(backfilled.root), "--as-of", str(last), "--format", "csv"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and lines[1].startswith(f"GOOG,{last},completed,0,")
    kinds = {row[0] for row in backfilled.query_rows("select kind from alerts").rows}
    assert not kinds & {"failed night", "stale"}
