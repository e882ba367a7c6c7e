"""`nightcast nightly` in-process under the Prefect test harness: a folder of files is the universe, a line per
ticker, exit 1 when any failed, one error line for a bad plan."""

import pytest

from cli import main
from nightcast.warehouse import Warehouse


def write_folder(tmp_path, prices, bad=()):
    folder = tmp_path / "universe"
    folder.mkdir()
    for seed, ticker in enumerate(("AAA", "BBB", "CCC")):
        frame = prices(130, ticker=ticker, seed=seed).drop(columns=["ticker", "adj_close"])
        if ticker in bad:
            frame.loc[40, "close"] = -1.0
        frame.to_csv(folder / f"{ticker}.csv", index=False) if seed % 2 else frame.to_parquet(
            folder / f"{ticker}.parquet"
        )
    (folder / "notes.txt").write_text("not prices")
    return folder


def args(tmp_path, folder, *extra):
    return [
        "nightly",
        "--source",
        "file",
        "--path",
        str(folder),
        "--candidates",
        "naive,drift",
        "--runner",
        "threads",
        "--warehouse",
        str(tmp_path / "wh"),
        "--quiet",
        *extra,
    ]


def test_nightly_runs_every_file_of_the_folder_and_prints_a_line_per_ticker(tmp_path, prices, capsys):
    assert main(args(tmp_path, write_folder(tmp_path, prices))) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines[:3]] == [["AAA", "served"], ["BBB", "served"], ["CCC", "served"]]
    assert lines[-1].startswith("3 of 3 tickers completed for ")
    runs = Warehouse(tmp_path / "wh").query("select ticker, status from runs order by ticker")
    assert runs.to_dict("records") == [{"ticker": t, "status": "completed"} for t in ("AAA", "BBB", "CCC")]


def test_a_bad_ticker_is_named_with_its_reason_and_the_exit_code_is_1(tmp_path, prices, capsys):
    assert main(args(tmp_path, write_folder(tmp_path, prices, bad={"BBB"}), "--tickers", "BBB,CCC")) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("BBB  FAILED validate failed: validation failed for BBB") and "not > 0" in lines[0]
    assert lines[1].startswith("CCC  served ") and lines[-1].startswith("1 of 2 tickers completed")
    assert Warehouse(tmp_path / "wh").query("select distinct ticker from prices")["ticker"].tolist() == ["CCC"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--tickers", "AAA,AAA"], "tickers are repeated"),
        (["--runner", "threads", "--dask-address", "tcp://127.0.0.1:8786"], "dask_address is only used"),
        (["--epochs", "0"], "invalid settings: epochs"),
    ],
)
def test_a_bad_plan_is_one_error_line(tmp_path, prices, capsys, extra, message):
    assert main(args(tmp_path, write_folder(tmp_path, prices), *extra)) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("nightcast: error: ") and message in err[0]
    assert not (tmp_path / "wh").exists()


def test_an_empty_folder_and_yahoo_without_tickers_are_one_error_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["nightly", "--source", "file", "--path", str(tmp_path / "empty")]) == 1
    assert main(["nightly", "--source", "yahoo"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"nightcast: error: no <TICKER>.csv or <TICKER>.parquet file in {tmp_path / 'empty'}",
        "nightcast: error: nightly --source yahoo needs --tickers A,B,...",
    ]
