"""The compare flow and `nightcast compare`: RNN recipes on the tutorial's split, the same test days, beside naive."""

import json

import numpy as np
import pytest

from cli import main
from flows.compare import compare
from nightcast.settings import Settings
from nightcast.warehouse import Warehouse


@pytest.fixture
def price_file(tmp_path, prices):
    path = tmp_path / "acme.csv"
    prices(140, ticker="ACME", seed=5).drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(
        path, index=False
    )
    return path


def settings(tmp_path, path, **extra):
    return Settings(
        **{
            "source": "file",
            "path": str(path),
            "ticker": "ACME",
            "time_step": 8,
            "epochs": 2,
            "warehouse": str(tmp_path / "wh"),
            **extra,
        }
    )


def test_every_recipe_is_scored_on_the_same_days_and_stored(tmp_path, price_file, prices):
    recipes = ["simple_rnn-price", "simple_rnn-log_return", "gru-price"]
    table = compare(settings=settings(tmp_path, price_file), recipes=recipes)
    assert table["candidate"].tolist() == recipes and table["model"].tolist() == ["simple_rnn", "simple_rnn", "gru"]
    closes = prices(140, ticker="ACME", seed=5)["close"].to_numpy()
    naive = np.sqrt(np.mean((closes[112:] - closes[111:-1]) ** 2))  # the last 28 days vs the day before
    assert table["naive_rmse"].tolist() == pytest.approx([naive] * 3)
    assert (table["n_test"] == 28).all() and table["test_start"].nunique() == 1
    assert table["n_train"].tolist() == [112 - 8, 111 - 8, 112 - 8]  # the first return needs a close
    np.testing.assert_allclose(table["skill"], 1 - table["rmse"] / table["naive_rmse"])
    wh = Warehouse(tmp_path / "wh")
    stored = wh.query("select candidate, rmse from comparisons")
    assert sorted(stored["rmse"].tolist()) == pytest.approx(sorted(table["rmse"].tolist()))
    run = wh.query("select status, settings from runs").iloc[0]
    assert run["status"] == "completed" and json.loads(run["settings"])["compare"] == {"recipes": recipes}


def test_too_short_a_series_for_returns_fails_validation_and_is_recorded(tmp_path, prices):
    path = tmp_path / "short.csv"
    prices(12, ticker="ACME").drop(columns=["ticker", "adj_close"]).rename(columns=str.title).to_csv(path, index=False)
    with pytest.raises(Exception, match="validate failed"):
        compare(settings=settings(tmp_path, path), recipes=["simple_rnn-log_return"])
    wh = Warehouse(tmp_path / "wh")
    assert wh.query("select status from runs")["status"].tolist() == ["failed"]
    assert wh.query("select count(*) n from comparisons")["n"][0] == 0


def test_nightcast_compare_prints_the_table_and_the_best_recipe(tmp_path, price_file, capsys):
    argv = [
        "compare",
        "--source",
        "file",
        "--path",
        str(price_file),
        "--tickers",
        "ACME",
        "--time-step",
        "8",
        "--epochs",
        "2",
        "--candidates",
        "simple_rnn-price,simple_rnn-log_return",
        "--warehouse",
        str(tmp_path / "wh"),
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("RNN recipes, 2 epochs, batch 32, seed 42, time_step 8; test = last 20%")
    rows = [line.split() for line in out if line.startswith("ACME ")]
    assert [r[1] for r in rows] == ["simple_rnn-price", "simple_rnn-log_return"]
    stored = Warehouse(tmp_path / "wh").query("select rmse, skill from comparisons order by candidate desc")
    assert [float(r[3]) for r in rows] == pytest.approx(stored["rmse"].round(3).tolist())
    best = stored["skill"].max()
    assert any(line.startswith("best for ACME: simple_rnn-") and f"skill {best:+.3f}" in line for line in out)
    assert out[-1].startswith('try: nightcast query "select ticker, candidate')


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--candidates", "simple_rnn-price,transformer"], "unknown candidate 'transformer'"),
        (["--candidates", "naive,ets"], "compare trains RNN candidates"),
        (["--tickers", "GOOG,../etc"], "ticker '../etc' is not a valid symbol"),
        (
            ["--source", "file", "--path", "x.csv", "--ticker", "A", "--tickers", "A,B"],
            "source 'file' holds one ticker",
        ),
    ],
)
def test_bad_options_are_one_line_errors(extra, message, capsys, tmp_path):
    assert main(["compare", "--warehouse", str(tmp_path / "wh"), *extra]) == 1
    stderr = capsys.readouterr().err
    assert "Traceback" not in stderr  # the one line is all of the failure (Prefect's own log lines aside)
    err = [line for line in stderr.splitlines() if line.startswith("nightcast:")]
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "wh").exists()  # refused before anything ran
