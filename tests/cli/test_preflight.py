"""Pre-flight refuses only what the flow would refuse every time: a backfill whose every night fails, a nightly
whose every ticker fails. One night or one ticker that passes lets the flow run (it records each failure)."""

from __future__ import annotations

import pytest

from cli.common import CliError
from cli.preflight import failing_tickers, refuse_failing_backfill
from nightcast.settings import Settings
from tests.reliability.test_bad_input import yahoo_layout


def staged(tmp_path, frame) -> str:
    """The ticker's rows staged as the command line stages them (a Parquet file of the flow's columns)."""
    from nightcast.price_sources import FileSource

    frame.to_csv(tmp_path / "prices.csv", index=False)
    path = tmp_path / "staged.parquet"
    FileSource(tmp_path / "prices.csv").fetch("ACME", None, None).to_parquet(path)
    return str(path)


def settings(tmp_path, path) -> Settings:
    return Settings(source="file", path=str(path), ticker="ACME", warehouse=str(tmp_path / "wh"))


@pytest.mark.parametrize("bad_row", [12, 148])  # of 150 rows: the nights replayed are rows 147-149
def test_a_backfill_is_refused_when_every_night_fails_and_only_then(tmp_path, bad_row):
    """A bad row before the first replayed night fails all three nights; on the second night, the first passes."""
    path = staged(tmp_path, yahoo_layout(edits={(bad_row, "Close"): -5.0}))
    if bad_row == 12:
        with pytest.raises(CliError, match=r"not > 0\.0 .*\(as does every one of the 3 nights to replay\)"):
            refuse_failing_backfill(settings(tmp_path, path), path, 3)
    else:
        refuse_failing_backfill(settings(tmp_path, path), path, 3)  # the flow runs, and reports nights 2 and 3


def test_a_backfill_longer_than_the_history_is_left_to_the_flow(tmp_path):
    path = staged(tmp_path, yahoo_layout())
    refuse_failing_backfill(settings(tmp_path, path), path, 500)  # its replay_dates stage says why, in its words


def test_a_nightly_runs_when_one_ticker_passes_and_is_refused_when_none_does(tmp_path):
    folder = tmp_path / "prices"
    folder.mkdir()
    yahoo_layout(edits={(3, "Close"): -1.0}).to_csv(folder / "BAD.csv", index=False)
    yahoo_layout().to_csv(folder / "GOOD.csv", index=False)
    universe = Settings(source="file", path=str(folder), warehouse=str(tmp_path / "wh"))
    assert failing_tickers(universe, ["BAD", "GOOD"]) is None
    errors = failing_tickers(universe, ["BAD", "NONE"])
    assert errors is not None and list(errors) == ["BAD", "NONE"]
    assert "close has 1 value(s) not > 0.0" in errors["BAD"] and errors["NONE"].startswith("ingest failed: ")
    assert failing_tickers(universe.model_copy(update={"source": "sample"}), ["GOOG"]) is None
