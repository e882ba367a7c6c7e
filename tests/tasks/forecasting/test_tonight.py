"""Tonight's served path: fitted on everything up to as_of and nothing after, dated by trading sessions."""

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from flows import model_files
from nightcast.calendars import is_session
from nightcast.candidates import candidate
from nightcast.settings import Settings
from nightcast.stage_options import ForecastPlan
from tasks.forecasting import forecasters, tonight
from tasks.scoring import champion, evidence
from tests.conftest import random_walk_prices

PLAN = ForecastPlan.from_settings(Settings(time_step=5, epochs=2, batch_size=16, horizon=4))


def night(prices: pd.DataFrame, as_of: dt.date, names: list[str]) -> pd.DataFrame:
    """What the flow computes for one night from a price table: fits, paths with bands, and the choice."""
    history = tonight.history_until(prices, as_of)
    facts = evidence.price_facts(history)
    closes = history["close"].to_numpy("float64")
    stored = pd.DataFrame(
        [
            {
                "candidate": n,
                "as_of": history["date"][o],
                "target_date": history["date"][o + 1],
                "horizon": 1,
                "forecast": closes[o] * (1.001 if n == "drift" else 1.0),
            }
            for n in names
            for o in range(len(closes) - 40, len(closes) - 1)
        ]
    )
    realized = evidence.realized(stored, facts, as_of, 100)
    paths = [
        tonight.forecast_candidate(forecasters.fit(candidate(n), closes, PLAN.fitting), "ACME", history, realized, PLAN)
        for n in names
    ]
    decision = champion.choose_champion(realized, names, None, 0.02, 20)
    return tonight.forecast_rows("r", "ACME", paths, decision.champion, {n: n for n in names})


def test_the_served_path_never_sees_a_row_after_as_of():
    prices = random_walk_prices(300, ticker="ACME", seed=9)
    as_of = prices["date"][249].date()
    changed = prices.copy()
    changed.loc[250:, "close"] = changed["close"].iloc[250:] * 7 + 1
    names = ["naive", "drift", "ets", "simple_rnn-log_return"]
    before, after = night(prices, as_of, names), night(changed, as_of, names)
    pd.testing.assert_frame_equal(before, after)
    assert before["served"].sum() == PLAN.horizon
    leaked = night(prices, prices["date"][260].date(), names)  # the check sees a later as_of at once
    assert not leaked["forecast"].equals(before["forecast"])


def test_paths_are_dated_by_sessions_and_carry_nested_bands_and_the_scale():
    prices = random_walk_prices(120, ticker="ACME", seed=1, start="2012-09-03")
    rows = night(prices, dt.date(2012, 10, 26), ["naive", "drift"])
    naive = rows[rows["candidate"] == "naive"]
    assert naive["target_date"].tolist() == [
        dt.date(2012, 10, 31),
        dt.date(2012, 11, 1),
        dt.date(2012, 11, 2),
        dt.date(2012, 11, 5),
    ]  # Sandy closed 10-29 and 10-30
    assert all(is_session(d) for d in rows["target_date"])
    assert (rows["lower_95"] < rows["lower_80"]).all() and (rows["upper_80"] < rows["upper_95"]).all()
    assert (rows["lower_80"] < rows["forecast"]).all() and (rows["forecast"] < rows["upper_80"]).all()
    closes = prices[pd.to_datetime(prices["date"]) <= "2012-10-26"]["close"].to_numpy()
    assert rows["scale"].iloc[0] == pytest.approx(np.abs(np.diff(closes)).mean())


def test_fitted_state_round_trips_without_pickle(tmp_path):
    closes = random_walk_prices(80, seed=2)["close"].to_numpy()
    rnn = forecasters.fit(candidate("simple_rnn-price"), closes, PLAN.fitting)
    model_files.save(rnn, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.keras", "scaler.json"]
    loaded = forecasters.Fitted(candidate("simple_rnn-price"), model_files.load_rnn(tmp_path), "full")
    origins = np.array([60, 79])
    np.testing.assert_allclose(
        forecasters.forecast(loaded, closes, origins, 3), forecasters.forecast(rnn, closes, origins, 3), rtol=1e-6
    )
    assert model_files.card_of(tmp_path).name == "simple_rnn-price"
    ets = forecasters.fit(candidate("ets"), closes, PLAN.fitting)
    model_files.save(ets, tmp_path / "ets" if (tmp_path / "ets").mkdir() is None else tmp_path)
    assert (tmp_path / "ets" / "params.json").read_text().startswith('{"kind": "ets", "params": [')


def test_a_tail_memory_setting_reaches_tonight_s_95_bands_and_sees_no_row_after_as_of():
    """tail_memory=200 (against 0, off) on a history with an old jump: drift's 95% band reaches further at the
    horizons whose quantile the jump reaches, never less far; its 80% band is the same, and changing the closes
    after as_of changes nothing."""
    prices = random_walk_prices(300, ticker="ACME", seed=4)
    prices.loc[120:, "close"] = prices["close"].iloc[120:] * 1.25  # a jump 180 sessions ago: past the evidence
    as_of = prices["date"][279].date()
    history = tonight.history_until(prices, as_of)
    closes = history["close"].to_numpy("float64")
    stored = pd.DataFrame(
        {"candidate": "drift", "as_of": history["date"][260:279].to_numpy(), "horizon": 1, "forecast": closes[260:279]}
    ).assign(target_date=history["date"][261:280].to_numpy())
    realized = evidence.realized(stored, evidence.price_facts(history), as_of, 100)
    fitted = forecasters.fit(candidate("drift"), closes, PLAN.fitting)
    plain = tonight.forecast_candidate(
        fitted, "ACME", history, realized, replace(PLAN, evidence=replace(PLAN.evidence, tail_memory=0))
    )
    remembering = replace(PLAN, evidence=replace(PLAN.evidence, tail_memory=200))
    wide = tonight.forecast_candidate(fitted, "ACME", history, realized, remembering)
    assert (wide["upper_95"] >= plain["upper_95"]).all() and (wide["lower_95"] <= plain["lower_95"]).all()
    assert (wide["upper_95"] > plain["upper_95"]).any()  # where the jump reaches the 97.5% quantile
    pd.testing.assert_series_equal(wide["upper_80"], plain["upper_80"])
    changed = prices.copy()
    changed.loc[280:, "close"] = changed["close"].iloc[280:] * 3
    later = tonight.history_until(changed, as_of)
    pd.testing.assert_frame_equal(wide, tonight.forecast_candidate(fitted, "ACME", later, realized, remembering))
