"""A query reads the warehouse and nothing else: not through a symbolic link inside it, and not a folder that
is not a warehouse (/, the home folder)."""

import os
from pathlib import Path

import pandas as pd
import pytest

from nightcast.cli import main
from nightcast.warehouse import Warehouse


@pytest.fixture
def wh(tmp_path, prices):
    warehouse = Warehouse(tmp_path / "wh")
    warehouse.merge_prices(prices(5, ticker="GOOG"), "GOOG", "sample", pd.Timestamp("2024-01-01", tz="UTC"))
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "secret.txt").write_text("the secret\n")
    os.symlink(secret / "secret.txt", warehouse.root / "link")
    os.symlink("/", warehouse.root / "root")
    os.symlink(secret, warehouse.root / "prices" / "ticker=EVIL")
    return warehouse


@pytest.mark.parametrize(
    "sql",
    [
        "select * from read_text('nightcast://{wh}/link')",
        "select * from read_blob('nightcast://{wh}/link')",
        "select * from read_text('nightcast://{wh}/prices/ticker=EVIL/secret.txt')",
        "select * from glob('nightcast://{wh}/root/*')",
        "select * from read_csv('nightcast://{wh}/root/etc/passwd')",
    ],
)
def test_a_link_leading_out_of_the_warehouse_is_refused(wh, capsys, sql):
    assert main(["query", sql.format(wh=wh.root), "--warehouse", str(wh.root)]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "lies outside the warehouse" in err and "the secret" not in out + err


def test_a_listing_leaves_the_links_out_and_the_tables_still_read(wh, capsys):
    sql = f"select file from glob('nightcast://{wh.root}/*')"
    assert main(["query", sql, "--format", "csv", "--warehouse", str(wh.root)]) == 0
    listed = {Path(line.strip()).name for line in capsys.readouterr().out.splitlines()[1:]}
    assert "prices" in listed and not listed & {"link", "root"}
    assert main(["query", "select count(*) as n from prices where ticker = 'GOOG'", "--warehouse", str(wh.root)]) == 0
    assert capsys.readouterr().out.split() == ["n", "5"]


@pytest.mark.parametrize("folder", ["/", "~"])
def test_a_folder_that_is_not_a_warehouse_is_not_served(capsys, folder):
    assert main(["query", "select * from glob('nightcast:///*')", "--warehouse", folder]) == 1
    err = capsys.readouterr().err
    assert err.startswith("nightcast: error: ") and "is not a nightcast warehouse" in err
