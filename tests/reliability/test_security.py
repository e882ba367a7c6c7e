"""Stored state holds no pickle, models load in safe mode, and the query path changes nothing."""

import zipfile
from pathlib import Path

import numpy as np
import pytest

from flows.model_files import load_model
from nightcast.quiet_import import load_keras
from nightcast.warehouse import QueryRefused, Warehouse
from tests.reliability.test_crash_and_concurrency import finish, start

PICKLE_OPCODES = {b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"}


def is_pickle(data: bytes) -> bool:
    """Whether bytes start like a pickle (protocol 2-5), or are a Prefect result record whose serializer is pickle."""
    return data[:2] in PICKLE_OPCODES or b'"pickle"' in data or b"cloudpickle" in data


def test_no_pickle_anywhere_in_a_run_s_stored_state(tmp_path, prices):
    """The warehouse, the Prefect home of the process that ran the flow, and every member of each .keras zip."""
    frame = prices(140, ticker="ACME").drop(columns=["ticker", "adj_close"]).rename(columns=str.title)
    frame.to_csv(tmp_path / "a.csv", index=False)
    settings = {
        "source": "file",
        "path": str(tmp_path / "a.csv"),
        "ticker": "ACME",
        "time_step": 10,
        "epochs": 1,
        "warehouse": str(tmp_path / "wh"),
    }
    code, _, err = finish(start("none", settings, tmp_path))  # a process of its own, PREFECT_HOME tmp_path/ph
    assert code == 0, err[-2000:]
    files = [p for p in (tmp_path / "wh").rglob("*") if p.is_file()]
    state = [p for p in files if "data_docs" not in p.parts]  # data_docs: GX's HTML site and its static assets
    assert {p.suffix for p in state} <= {".parquet", ".keras", ".json", ".png", ".lock", ".duckdb"}
    duck = [p for p in state if p.suffix == ".duckdb"]  # views for other DuckDB clients (nightcast/duckdb_file.py)
    assert [p.relative_to(tmp_path / "wh") for p in duck] == [Path("nightcast.duckdb")]
    assert duck[0].read_bytes()[8:12] == b"DUCK"
    assert not [p for p in files if p.suffix in {".pkl", ".pickle", ".joblib", ".h5"}]
    assert not [p for p in files if is_pickle(p.read_bytes())]
    models = [p for p in files if p.suffix == ".keras"]
    assert [p.name for p in models] == ["model.keras"]
    with zipfile.ZipFile(models[0]) as archive:
        assert set(archive.namelist()) == {"config.json", "metadata.json", "model.weights.h5"}
        assert not [name for name in archive.namelist() if is_pickle(archive.read(name))]
    home = [p for p in (tmp_path / "ph").rglob("*") if p.is_file()]
    assert not [p for p in home if is_pickle(p.read_bytes())], home
    assert not [p for p in home if "storage" in p.relative_to(tmp_path / "ph").parts], "Prefect persisted results"


def test_models_load_in_safe_mode_only(tmp_path):
    keras = load_keras()
    unsafe = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Lambda(lambda x: x * 2)])
    unsafe.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="(?i)unsafe|safe_mode"):
        load_model(tmp_path / "lambda.keras")


@pytest.mark.parametrize(
    "sql",
    [
        "drop view prices",
        "delete from prices",
        "copy prices to 'x.parquet'",
        "attach 'x.db' as x",
        "install httpfs",
        "load httpfs",
        "create or replace view prices as select 1 as x",
    ],
)
def test_writes_through_query_are_refused_and_change_nothing(tmp_path, prices, monkeypatch, sql):
    """Relative paths resolve against the working folder, so that is watched too (not only the warehouse)."""
    wh = Warehouse(tmp_path / "wh")
    wh.merge_prices(prices(5, ticker="GOOG"), "GOOG", "sample", np.datetime64("2024-01-01"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    before = {str(p): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(QueryRefused, match="only read-only queries"):
        wh.query(sql)
    assert {str(p): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
    assert not list(work.iterdir())
    assert len(wh.query("select * from prices")) == 5
