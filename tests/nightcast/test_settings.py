import datetime as dt
import json

import pytest
from pydantic import ValidationError

from nightcast.candidates import DEFAULT_CANDIDATES
from nightcast.settings import Settings


def test_defaults_are_the_tutorials_method_on_the_bundled_sample():
    s = Settings()
    assert (s.ticker, s.source, s.train_fraction, s.time_step, s.epochs) == ("GOOG", "sample", 0.8, 100, 80)
    assert s.candidates == list(DEFAULT_CANDIDATES) and s.exchange == "XNYS"


def test_candidates_are_known_names_with_naive_always_first():
    assert Settings(candidates="ets, simple_rnn-price").candidates == ["naive", "ets", "simple_rnn-price"]
    assert Settings(candidates=["drift", "naive", "drift"]).candidates == ["naive", "drift"]
    with pytest.raises(ValidationError, match="unknown candidate 'prophet'"):
        Settings(candidates=["prophet"])


def test_the_calendar_follows_the_symbol_unless_set():
    assert Settings(ticker="VOD.L").exchange == "XLON" and Settings(ticker="VOD.L", calendar="XNYS").exchange == "XNYS"
    with pytest.raises(ValidationError, match="unknown trading calendar"):
        Settings(calendar="MOON")


def test_yahoo_defaults_to_the_tutorials_netflix_range():
    s = Settings(source="yahoo")
    assert (s.ticker, s.start, s.end) == ("NFLX", dt.date(2010, 4, 1), dt.date(2022, 4, 25))


@pytest.mark.parametrize("symbol", ["^GSPC", "BRK-B", "EURUSD=X", "0700.HK", "goog"])
def test_real_yahoo_symbols_are_accepted(symbol):
    assert Settings(ticker=symbol).ticker == symbol.upper()


@pytest.mark.parametrize("symbol", ["../../etc", "GO OG", "x'; drop table prices; --", "A/B", "A" * 20])
def test_unsafe_tickers_are_refused(symbol):
    with pytest.raises(ValidationError, match="not a valid symbol"):
        Settings(ticker=symbol)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"source": "file"}, "needs a path"),
        ({"source": "file", "path": "x.csv"}, "needs a ticker"),
        ({"path": "x.csv"}, "only used with source 'file'"),
        ({"start": "2020-02-01", "end": "2020-01-01"}, "is after end"),
        ({"train_fraction": 1.0}, "less than 1"),
        ({"train_fraction": 0}, "greater than 0"),
        ({"epochs": 0}, "greater than or equal to 1"),
        ({"time_step": 0}, "greater than or equal to 1"),
        ({"horizon": 0}, "greater than or equal to 1"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_inconsistent_settings_are_refused(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        Settings(**kwargs)


def test_settings_json_round_trips():
    s = Settings(ticker="^GSPC", epochs=3, start="2001-01-02")
    assert Settings(**json.loads(s.to_json())) == s


def test_json_schema_has_descriptions_and_bounds_for_the_ui():
    schema = Settings.model_json_schema()["properties"]
    assert schema["train_fraction"]["exclusiveMaximum"] == 1.0
    assert all(prop.get("description") for prop in schema.values())


def test_the_source_defaults_are_filled_in_before_validation_not_into_a_made_model():
    """The defaults a source brings (yahoo: NFLX over the tutorial's range) are part of the input that is
    validated; the frozen model is never changed once made, and the caller's input is left as it was."""
    raw = {"source": "yahoo"}
    settings = Settings.model_validate(raw)
    assert raw == {"source": "yahoo"} and (settings.ticker, settings.start) == ("NFLX", dt.date(2010, 4, 1))
    with pytest.raises(ValidationError, match="frozen"):
        settings.ticker = "GOOG"
    assert settings.for_ticker("GOOG").ticker == "GOOG" and settings.ticker == "NFLX"


def test_a_night_splits_into_twice_as_many_chunks_as_workers_of_at_most_max_chunk_tickers():
    from nightcast.plans import MAX_CHUNK, RunnerSettings

    two = RunnerSettings(workers=2)
    assert [two.chunk_size(n) for n in (1, 8, 100)] == [1, 2, 25]
    assert two.chunk_size(500) == MAX_CHUNK == 25  # 20 chunks, not 4 of 125: a worker's memory stays bounded
    assert RunnerSettings(workers=16).chunk_size(5000) == 25 and RunnerSettings(workers=16).chunk_size(320) == 10
    assert RunnerSettings(workers=2, chunk_tickers=200).chunk_size(500) == 200  # an explicit size is kept
