"""Stored state holds no pickle, models load in safe mode, and the query path changes nothing."""

import numpy as np
import pytest

from flows.retrain import retrain
from nightcast.settings import Settings
from nightcast.warehouse import QueryRefused, Warehouse
from tasks.train import _keras, load_model

PICKLE_OPCODES = {b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05"}


def test_no_pickle_anywhere_in_a_run_s_stored_state(tmp_path, prices):
    frame = prices(140, ticker="ACME").drop(columns=["ticker", "adj_close"]).rename(columns=str.title)
    frame.to_csv(tmp_path / "a.csv", index=False)
    retrain(settings=Settings(source="file", path=str(tmp_path / "a.csv"), ticker="ACME", time_step=10,
                              epochs=1, warehouse=str(tmp_path / "wh")))
    files = [p for p in (tmp_path / "wh").rglob("*") if p.is_file()]
    state = [p for p in files if "data_docs" not in p.parts]  # data_docs: GX's HTML site and its static assets
    assert {p.suffix for p in state} <= {".parquet", ".keras", ".json", ".png", ".lock"}
    assert not [p for p in files if p.suffix in {".pkl", ".pickle", ".joblib", ".h5"}]
    assert not [p for p in files if p.read_bytes()[:2] in PICKLE_OPCODES]
    assert [p.name for p in files if p.suffix == ".keras"] == ["model.keras"]


def test_models_load_in_safe_mode_only(tmp_path):
    keras = _keras()
    unsafe = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Lambda(lambda x: x * 2)])
    unsafe.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="(?i)unsafe|safe_mode"):
        load_model(tmp_path / "lambda.keras")


@pytest.mark.parametrize("sql", ["drop view prices", "delete from prices", "copy prices to 'x.parquet'",
                                 "attach 'x.db' as x", "install httpfs", "load httpfs",
                                 "create or replace view prices as select 1 as x"])
def test_writes_through_query_are_refused_and_change_nothing(tmp_path, prices, sql):
    wh = Warehouse(tmp_path / "wh")
    wh.merge_prices(prices(5, ticker="GOOG"), "GOOG", "sample", np.datetime64("2024-01-01"))
    before = {str(p): p.read_bytes() for p in wh.root.rglob("*") if p.is_file()}
    with pytest.raises(QueryRefused, match="only read-only queries"):
        wh.query(sql)
    assert {str(p): p.read_bytes() for p in wh.root.rglob("*") if p.is_file()} == before
    assert len(wh.query("select * from prices")) == 5
