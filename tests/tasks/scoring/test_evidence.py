"""Evidence: only forecasts realized by tonight count, scored against stored closes; normalized conformal bands."""

import numpy as np
import pandas as pd
import pytest

from tasks.scoring.evidence import daily_volatility, naive_scale, price_facts, realized
from tasks.scoring.intervals import Errors, adapted_alpha, errors_by_horizon, interval_quantiles, intervals
from tests.conftest import random_walk_prices


def forecast_frame(rows):
    return pd.DataFrame(rows, columns=["candidate", "as_of", "target_date", "horizon", "forecast"])


def test_volatility_and_scale_use_only_the_past():
    closes = np.array([100.0, 101.0, 99.0, 102.0, 150.0])
    sigma, scale = daily_volatility(closes), naive_scale(closes)
    np.testing.assert_allclose(daily_volatility(closes[:4]), sigma[:4])
    np.testing.assert_allclose(scale[1:], [1.0, 1.5, 2.0, (1 + 2 + 3 + 48) / 4])
    assert np.isnan(scale[0]) and np.isnan(sigma[0]) and sigma[4] > sigma[3]


def test_realized_keeps_targets_up_to_as_of_and_the_last_window_of_origins():
    prices = random_walk_prices(10)
    facts = price_facts(prices)
    d = pd.to_datetime(prices["date"])
    rows = forecast_frame([["a", d[o], d[o + 1], 1, 100.0] for o in range(8)] + [["a", d[8], d[9], 1, 100.0]])
    found = realized(rows, facts, d[8].date(), window=3)
    assert found["as_of"].tolist() == list(d[5:8])  # target after as_of dropped; the last 3 origins kept
    first = found.iloc[0]
    assert first["actual"] == prices["close"][6] and first["naive"] == prices["close"][5]
    assert first["scaled_error"] == pytest.approx(abs(100.0 - first["actual"]) / facts["scale"][5])
    assert first["z"] == pytest.approx(np.log(first["actual"] / 100.0) / facts["sigma"][5])


def test_quantiles_fall_back_to_the_normal_with_too_few_errors():
    assert interval_quantiles(np.array([0.1, 0.2]), 0.2) == pytest.approx((-1.2816, 1.2816), abs=1e-4)
    z = np.linspace(-2, 2, 101)
    lo, hi = interval_quantiles(z, 0.2)
    assert lo == pytest.approx(-1.6) and hi == pytest.approx(1.6)


def test_bands_widen_with_the_horizon_and_nest():
    z = {h: Errors(np.random.default_rng(h).normal(size=200), {80: 0.2, 95: 0.05}) for h in (1, 2, 3)}
    bounds = intervals(np.array([100.0, 100.0, 100.0]), z, sigma_now=0.02)
    assert np.all(bounds["lower_95"] < bounds["lower_80"]) and np.all(bounds["upper_80"] < bounds["upper_95"])
    assert np.all(np.diff(bounds["upper_95"] - bounds["lower_95"]) > 0)


def test_normalized_bands_cover_a_random_walk_as_promised():
    """Calm then stormy: z from the calm half still gives honest bands in the storm, thanks to sigma."""
    rng = np.random.default_rng(0)
    vol = np.r_[np.full(600, 0.005), np.full(600, 0.03)]
    closes = 100 * np.exp(np.cumsum(rng.normal(0, vol)))
    prices = pd.DataFrame({"date": pd.bdate_range("2000-01-03", periods=len(closes)), "close": closes})
    facts = price_facts(prices)
    d = facts["date"]
    rows = forecast_frame([["naive", d[o], d[o + 1], 1, closes[o]] for o in range(30, 1199)])
    ev = realized(rows, facts, d[1199].date(), window=0)
    calm, storm = ev[ev["as_of"] < d[600]], ev[ev["as_of"] >= d[620]]
    q80 = interval_quantiles(calm["z"].to_numpy(), 0.2)
    inside = (storm["z"] >= q80[0]) & (storm["z"] <= q80[1])
    assert 0.72 <= inside.mean() <= 0.88
    assert set(errors_by_horizon(ev, "naive")) == {1}


def test_misses_of_live_bands_widen_the_next_ones_and_hits_narrow_them():
    def live(inside: list[bool]) -> pd.DataFrame:
        actual = [100.0 if hit else 150.0 for hit in inside]
        return pd.DataFrame({"actual": actual, "lower_80": 90.0, "upper_80": 110.0})

    assert adapted_alpha(live([True] * 8 + [False] * 2), 80) == pytest.approx(0.2)  # on target: unchanged
    assert adapted_alpha(live([False] * 4), 80) == pytest.approx(0.2 + 0.05 * 4 * (0.2 - 1))  # wider
    assert adapted_alpha(live([True] * 10), 80) == pytest.approx(0.2 + 0.05 * 10 * 0.2)  # narrower
    assert adapted_alpha(live([False] * 40), 80) == 0.002  # never an infinite band
    assert adapted_alpha(pd.DataFrame({"actual": [1.0]}), 95) == pytest.approx(0.05)  # backtest rows: nominal
    wide, narrow = (interval_quantiles(np.linspace(-2, 2, 101), a) for a in (0.05, 0.2))
    assert wide[0] < narrow[0] and wide[1] > narrow[1]


def test_naive_z_reads_only_closes_up_to_tonight_and_at_most_memory_origins():
    from tasks.scoring.evidence import naive_z

    closes = 100 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.01, 300)))
    facts = price_facts(pd.DataFrame({"date": pd.bdate_range("2020-01-01", periods=300), "close": closes}))
    tonight = naive_z(facts[:200], horizon=5, memory=50)
    assert [len(tonight[h]) for h in range(1, 6)] == [50] * 5
    h = 3  # the last origin's target is tonight's close; later closes change nothing
    expected = np.log(closes[199] / closes[196]) / (facts["sigma"][196] * np.sqrt(h))
    assert tonight[h][-1] == pytest.approx(expected, rel=1e-12)
    assert len(naive_z(facts[:30], horizon=5, memory=500)[5]) == 24  # origins 1..24: no return before row 1


def test_a_tail_memory_widens_the_95_band_only_and_only_outwards():
    own = {h: Errors(np.random.default_rng(h).normal(0, 1, 100), {80: 0.2, 95: 0.05}) for h in (1, 2)}
    plain = intervals(np.array([100.0, 100.0]), own, 0.01)
    calm_tails = {h: np.zeros(200) for h in (1, 2)}  # narrower than the own errors: no change
    same = intervals(np.array([100.0, 100.0]), own, 0.01, calm_tails)
    assert all(np.array_equal(same[name], plain[name]) for name in plain)
    jumpy = {h: np.concatenate([np.zeros(180), np.full(10, 6.0), np.full(10, -6.0)]) for h in (1, 2)}
    wide = intervals(np.array([100.0, 100.0]), own, 0.01, jumpy)
    assert (wide["upper_95"] > plain["upper_95"]).all() and (wide["lower_95"] < plain["lower_95"]).all()
    np.testing.assert_array_equal(wide["upper_80"], plain["upper_80"])
    np.testing.assert_array_equal(wide["lower_80"], plain["lower_80"])
