"""Compacting a warehouse of the per-run layout, and pruning old folders: nothing lost, bounded files."""

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from cli import main
from nightcast import upkeep
from nightcast.warehouse import Warehouse


def legacy_warehouse(root) -> Warehouse:
    """Per-run files in the schemas runs wrote before candidates and the one-file layout."""
    wh = Warehouse(root)
    for i, as_of in enumerate(["2013-02-27", "2013-02-28"]):
        run_id = f"2013022{i}T213000Z-aaaaa{i}"
        for table, data in {
            "runs": {"run_id": [run_id], "ticker": ["GOOG"], "status": ["completed"]},
            "forecasts": {
                "run_id": [run_id] * 2,
                "ticker": ["GOOG"] * 2,
                "as_of": [pd.Timestamp(as_of).date()] * 2,
                "target_date": [pd.Timestamp(as_of).date()] * 2,
                "horizon": [1, 2],
                "forecast": [800.0 + i, 801.0 + i],
                "model_version": [f"simple_rnn-{run_id}"] * 2,
            },
            "metrics": {"run_id": [run_id], "ticker": ["GOOG"], "model": ["simple_rnn"], "rmse": [12.3]},
            "predictions": {"run_id": [run_id], "ticker": ["GOOG"], "actual": [1.0], "predicted": [2.0]},
        }.items():
            folder = wh.root / table / "ticker=GOOG"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(pa.table(data), folder / f"{run_id}.parquet")
    return wh


def records(wh: Warehouse, table: str) -> list[tuple]:
    """Every row of a table with every value (missing ones as None), in a fixed order."""
    rows = wh.query(f"select * from {table}").astype(object)
    return sorted(tuple(None if pd.isna(v) else v for v in row) for row in rows.itertuples(index=False))


def test_a_per_run_warehouse_reads_as_it_is_and_compacts_to_one_file_per_table(tmp_path, capsys):
    wh = legacy_warehouse(tmp_path / "wh")
    tables = ("runs", "forecasts", "metrics", "predictions")
    before = {t: records(wh, t) for t in tables}
    assert {t: len(rows) for t, rows in before.items()} == {"runs": 2, "forecasts": 4, "metrics": 2, "predictions": 2}
    assert main(["compact", "--warehouse", str(wh.root)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("compacted 1 ticker(s)") and "8 recent or per-run file(s) folded" in out
    assert sorted(str(p.relative_to(wh.root)) for p in wh.root.glob("*/ticker=GOOG/*.parquet")) == [
        "forecasts/ticker=GOOG/forecasts.parquet",
        "metrics/ticker=GOOG/metrics.parquet",
        "predictions/ticker=GOOG/predictions.parquet",
        "runs/ticker=GOOG/runs.parquet",
    ]
    assert {t: records(wh, t) for t in tables} == before  # every row, every value: nothing lost or altered
    assert wh.shared_file("latest_forecasts").exists()  # one file for every ticker
    latest = wh.query("select as_of, forecast from latest_forecasts order by horizon")
    assert latest["forecast"].tolist() == [801.0, 802.0] and str(latest["as_of"][0])[:10] == "2013-02-28"
    assert upkeep.compact(wh, "GOOG") == 0  # idempotent


def test_prune_keeps_the_last_runs_folders_plots_and_pages(tmp_path):
    wh = Warehouse(tmp_path / "wh")
    for i in range(5):
        (wh.model_dir("GOOG", f"r{i}") / "naive").mkdir(parents=True)
        wh.write_bytes(wh.plot_path("GOOG", f"r{i}"), b"png")
        page = wh.data_docs_dir("GOOG") / "validations" / "suite" / "__none__" / f"2013010{i}T000000Z" / "p.html"
        page.parent.mkdir(parents=True)
        page.write_text("<html/>")
    (wh.partition("models", "GOOG") / ".r9.123.abc.tmp").mkdir()  # a writer's temporary folder is not a run
    assert upkeep.prune_ticker(wh, "GOOG", 2) == 9
    assert sorted(p.name for p in wh.partition("models", "GOOG").iterdir()) == [".r9.123.abc.tmp", "r3", "r4"]
    assert sorted(p.name for p in wh.partition("plots", "GOOG").iterdir()) == ["r3.png", "r4.png"]
    assert len(list((wh.data_docs_dir("GOOG") / "validations").glob("*/*/*"))) == 2


def test_compact_refuses_a_missing_warehouse_in_one_line(tmp_path, capsys):
    assert main(["compact", "--warehouse", str(tmp_path / "nowhere")]) == 1
    assert capsys.readouterr().err.startswith("nightcast: error: no warehouse at ")


def test_by_default_a_ticker_keeps_its_last_30_runs_models_and_plots(tmp_path):
    from nightcast.settings import Settings

    wh = Warehouse(tmp_path / "wh")
    for i in range(33):
        (wh.model_dir("GOOG", f"r{i:02d}") / "naive").mkdir(parents=True)
        wh.write_bytes(wh.plot_path("GOOG", f"r{i:02d}"), b"png")
    assert Settings().keep_runs == 30
    assert upkeep.prune_ticker(wh, "GOOG", Settings().keep_runs) == 6
    assert sorted(p.name for p in wh.partition("models", "GOOG").iterdir()) == [f"r{i:02d}" for i in range(3, 33)]
