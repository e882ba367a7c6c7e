"""The served path's bands, replayed night by night through the real night (tasks/forecasting/replay.py: backtests,
evidence, fits, intervals and the champion rule, without a warehouse) on a panel of synthetic regimes, 40 and 60 nights,
with naive and drift as the candidates: where drift beats naive it is served, so the bands checked are a fitted
candidate's as well as naive's (#25). Averaged over seeds, at every horizon: the served 80% band covers 70-90%, the
95% band 88-99%, and the served interval score is at most 1.02x naive's conformal one on the same nights. Into a
storm, drift's calm-sized bands score worse than naive's until the champion rule sees it on the recent origins
(tasks/scoring/champion.slips_in_a_storm); without that check the ratio reached 1.05 at horizon 4 (16 seeds)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nightcast.settings import Settings
from nightcast.stage_options import ForecastPlan
from tasks.forecasting.replay import replay_served, sessions
from tasks.scoring.calibration import calibration
from tests.tasks.scoring.test_calibration import assert_in_bands, quarterly_jumps, volatility_jump, walk

SEEDS = range(3)
TREND_SEEDS = range(16)
"""Where drift is served (the trends), one window's interval-score ratio moves by +-5% from seed to seed (the
champion switches on a few nights' evidence), so those regimes are pooled over 16 windows."""
NIGHTS = 40
CLOSES = 700


def trend_with_jumps(seed: int) -> np.ndarray:
    """A steady rise (a third of a daily sigma of 0.8% a day) with a +6.2% jump every 63 sessions."""
    jumps = np.zeros(CLOSES)
    jumps[30::63] = 0.062
    return walk(np.full(CLOSES, 0.008), seed, drift=0.3, jumps=jumps)


STORM_NIGHT = 15
"""The night of the replayed window from which trend_into_storm's closes move 3% a day."""


def trend_into_storm(seed: int) -> np.ndarray:
    """The same rise, then 3% a day from 15 nights into the replayed window."""
    first_night = CLOSES - NIGHTS - 5  # the 40-night window's first night (its last targets, 5 ahead, end the series)
    return walk(np.where(np.arange(CLOSES) < first_night + STORM_NIGHT, 0.008, 0.03), seed, drift=0.3)


REGIMES = {
    "volatility_jump": volatility_jump,
    "quarterly_jumps": quarterly_jumps,
    "trend_with_jumps": trend_with_jumps,
    "trend_into_storm": trend_into_storm,
}
TRENDS = ("trend_with_jumps", "trend_into_storm")


def replay(nights: int) -> pd.DataFrame:
    """Every regime and seed as one ticker of a panel, replayed together over the last `nights` nights: each
    candidate's forecasts with bands, the served flag and the actual close, with each row's regime."""
    dates = sessions(CLOSES)
    panel = {
        f"{name}.{seed}": pd.DataFrame({"date": dates, "close": regime(seed)})
        for name, regime in REGIMES.items()
        for seed in (TREND_SEEDS if name in TRENDS else SEEDS)
    }
    rows = replay_served(panel, nights, ForecastPlan.from_settings(Settings(candidates=["naive", "drift"])))
    return rows.assign(regime=rows["ticker"].str.split(".").str[0])


@pytest.fixture(scope="module")
def replayed() -> pd.DataFrame:
    """The 40-night replay."""
    return replay(NIGHTS)


@pytest.fixture(scope="module")
def replayed_60() -> pd.DataFrame:
    """The same regimes over 60 nights (the storm 35 nights into the window)."""
    return replay(60)


WINDOWS = ["replayed", "replayed_60"]


def test_each_night_serves_one_path_of_every_horizon(replayed):
    served = replayed[replayed["served"]]
    assert len(served) == ((len(REGIMES) - len(TRENDS)) * len(SEEDS) + len(TRENDS) * len(TREND_SEEDS)) * NIGHTS * 5
    assert served.groupby(["ticker", "as_of"])["horizon"].apply(lambda h: sorted(h) == [1, 2, 3, 4, 5]).all()
    assert set(replayed["candidate"]) == {"naive", "drift"}


def test_drift_is_served_where_it_beats_naive(replayed):
    """Not a test of naive alone: drift wins most nights of the calm trends, naive every night without one; into
    the storm, naive takes over from drift on nights when drift's recent bands score worse than naive's."""
    served = replayed[replayed["served"] & (replayed["horizon"] == 1)]
    served = served.assign(
        drift=served["candidate"] == "drift",
        storm=served.groupby("ticker")["as_of"].rank(method="first") > STORM_NIGHT,
    )
    share = served.groupby("regime")["drift"].mean()
    calm = served[~served["storm"]].groupby("regime")["drift"].mean()
    stormy = served[served["storm"] & (served["regime"] == "trend_into_storm")]["drift"].mean()
    assert (calm[list(TRENDS)] >= 0.5).all(), calm
    assert share["trend_with_jumps"] >= 0.5 and stormy < calm["trend_into_storm"], (share, stormy)
    assert (share.drop(list(TRENDS)) == 0).all(), share


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("regime", list(REGIMES))
def test_the_served_bands_hold_at_every_horizon(request, window, regime):
    replayed = request.getfixturevalue(window)
    served = calibration(replayed[replayed["served"] & (replayed["regime"] == regime)])  # every seed, every night
    assert_in_bands(served["coverage_80"].to_numpy(), served["coverage_95"].to_numpy())


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("regime", list(REGIMES))
def test_the_served_interval_score_is_within_two_percent_of_naives(request, window, regime):
    replayed = request.getfixturevalue(window)
    mine = replayed[(replayed["regime"] == regime)]
    scores = ["interval_score_80", "interval_score_95"]
    ratio = calibration(mine[mine["served"]])[scores] / calibration(mine[mine["candidate"] == "naive"])[scores]
    assert (ratio.to_numpy() <= 1.02).all(), ratio
