"""Registry rules, hand-checked: the served candidate by evidence, and each RNN line's training plan."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from nightcast import catalog
from nightcast.settings import Settings
from nightcast.stage_options import ForecastPlan
from tasks.forecasting import registry
from tasks.scoring import champion

CANDIDATES = ["naive", "drift", "ets"]


def evidence(errors: dict[str, float | tuple[float, ...]], origins: int = 30, horizons: int = 2) -> pd.DataFrame:
    """Realized rows where each candidate misses the actual close by a fixed amount, or one per horizon
    (scale 1; naive misses by 1 at every horizon)."""
    rows = []
    for o in range(origins):
        for h in range(1, horizons + 1):
            for name, miss in errors.items():
                miss = miss[h - 1] if isinstance(miss, tuple) else miss
                rows.append(
                    {
                        "candidate": name,
                        "as_of": pd.Timestamp("2020-01-01") + pd.Timedelta(days=o),
                        "horizon": h,
                        "actual": 100.0,
                        "forecast": 100.0 + miss,
                        "naive": 101.0,
                        "scale": 1.0,
                    }
                )
    return pd.DataFrame(rows)


def test_a_cold_start_serves_naive_when_nothing_beats_it_by_the_margin():
    decision = champion.choose_champion(evidence({"naive": 1.0, "drift": 0.99, "ets": 1.2}), CANDIDATES, None, 0.02, 20)
    assert decision.champion == "naive" and decision.action == "cold start"
    assert "nothing beats naive by more than 2%" in decision.reason and "closest: drift" in decision.reason


def test_a_challenger_that_beats_the_champion_by_the_margin_replaces_it():
    decision = champion.choose_champion(
        evidence({"naive": 1.0, "drift": 0.9, "ets": 0.95}), CANDIDATES, "naive", 0.02, 20
    )
    assert (decision.champion, decision.previous, decision.action) == ("drift", "naive", "replaced")
    d = decision.evidence
    assert (d.candidate, d.other, d.n) == ("drift", "naive", 60)
    assert (d.mase, d.other_mase, d.naive_mase) == pytest.approx((0.9, 1.0, 1.0))


def test_a_challenger_worse_than_naive_at_some_horizon_is_not_served_however_good_its_mean():
    rows = evidence({"naive": 1.0, "drift": (1.01, 0.5), "ets": (0.97, 0.97)})  # drift: mean 0.755, h1 1.01
    decision = champion.choose_champion(rows, CANDIDATES, None, 0.02, 20)
    assert decision.champion == "ets" and decision.evidence.worst == pytest.approx(0.97)


def test_a_champion_that_falls_behind_naive_at_a_horizon_by_more_than_the_margin_hands_back_to_naive():
    rows = evidence({"naive": 1.0, "drift": (1.03, 0.8)})
    decision = champion.choose_champion(rows, ["naive", "drift"], "drift", 0.02, 20)
    assert (decision.champion, decision.action) == ("naive", "naive fallback")
    kept = champion.choose_champion(
        evidence({"naive": 1.0, "drift": (1.01, 0.8)}), ["naive", "drift"], "drift", 0.02, 20
    )
    assert kept.champion == "drift"  # within the margin at its worst horizon: no flapping


def test_too_few_shared_forecasts_keep_the_champion():
    decision = champion.choose_champion(
        evidence({"naive": 1.0, "drift": 0.5}, origins=5), CANDIDATES, "naive", 0.02, 20
    )
    assert decision.champion == "naive" and decision.action == "kept"


def test_a_champion_within_the_margin_of_a_better_challenger_is_kept():
    decision = champion.choose_champion(
        evidence({"naive": 1.0, "drift": 0.90, "ets": 0.89}), CANDIDATES, "drift", 0.02, 20
    )
    assert decision.champion == "drift" and decision.action == "kept" and "closest: ets" in decision.reason


def test_a_champion_that_no_longer_beats_naive_falls_back_to_naive():
    decision = champion.choose_champion(
        evidence({"naive": 1.0, "drift": 1.01, "ets": 1.1}), CANDIDATES, "drift", 0.02, 20
    )
    assert (decision.champion, decision.action) == ("naive", "naive fallback")
    assert "drift no longer beats naive" in decision.reason


def test_a_champion_no_longer_in_the_settings_hands_over_to_naive_first():
    decision = champion.choose_champion(evidence({"naive": 1.0, "drift": 1.0}), ["naive", "drift"], "arima", 0.02, 20)
    assert decision.champion == "naive" and decision.previous == "arima"


def test_decision_rows_record_both_scores_and_naive():
    decision = champion.choose_champion(
        evidence({"naive": 1.0, "drift": 0.9, "ets": 1.1}), CANDIDATES, "naive", 0.02, 20
    )
    row = champion.decision_row(
        decision, "r1", "ACME", dt.date(2020, 3, 1), 0.02, 20, pd.Timestamp("2020-03-01", tz="UTC")
    ).iloc[0]
    assert (row["champion"], row["challenger"], row["previous"], row["n"]) == ("drift", "naive", "naive", 60)
    assert (row["champion_mase"], row["challenger_mase"], row["naive_mase"]) == pytest.approx((0.9, 1.0, 1.0))
    kept = champion.choose_champion(evidence({"naive": 1.0, "drift": 1.1}), ["naive", "drift"], "naive", 0.02, 20)
    row = champion.decision_row(kept, "r2", "ACME", dt.date(2020, 3, 2), 0.02, 20, pd.Timestamp.now(tz="UTC")).iloc[0]
    assert (row["champion"], row["challenger"]) == ("naive", "drift")
    assert (row["champion_mase"], row["challenger_mase"]) == pytest.approx((1.0, 1.1))
    alone = champion.choose_champion(evidence({"naive": 1.0}), ["naive"], None, 0.02, 20)
    row = champion.decision_row(alone, "r3", "ACME", dt.date(2020, 3, 3), 0.02, 20, pd.Timestamp.now(tz="UTC")).iloc[0]
    assert row["champion"] == "naive" and row["challenger"] is None and row["champion_mase"] == pytest.approx(1.0)


PREVIOUS = {
    "model_version": "simple_rnn-log_return-A",
    "path": "models/ticker=X/A/simple_rnn-log_return",
    "full_as_of": dt.date(2013, 2, 25),
}


@pytest.mark.parametrize(
    "previous, as_of, every, mode, reason",
    [
        (None, dt.date(2013, 3, 1), 7, "full", "no previous version"),
        (PREVIOUS, dt.date(2013, 2, 28), 7, "fine_tune", "fine-tuning simple_rnn-log_return-A"),
        (PREVIOUS, dt.date(2013, 3, 4), 7, "full", "full fit due: the last one saw data up to 2013-02-25, 7 days"),
        (PREVIOUS, dt.date(2013, 2, 26), 0, "full", "every night"),
    ],
)
def test_rnn_training_plan(previous, as_of, every, mode, reason):
    plan = registry.plan_rnn_training(previous, as_of, every)
    assert plan.mode == mode and reason in plan.reason
    if mode == "fine_tune":
        assert plan.parent_path == PREVIOUS["path"] and plan.full_as_of == dt.date(2013, 2, 25)


def test_cold_candidates_are_backtested_once_and_only_with_enough_history():
    plan = ForecastPlan.from_settings(
        Settings(
            candidates=["naive", "drift", "ets"],
            time_step=10,
            backtest_folds=2,
            backtest_refit_every=5,
            min_forecasts=20,
        )
    )
    realized = evidence({"naive": 1.0, "drift": 1.0}, origins=15)
    assert registry.cold_candidates(realized, {"ets"}, plan, 100) == []  # naive, drift have 30 each
    assert registry.cold_candidates(realized.iloc[:10], {"naive"}, plan, 100) == ["drift", "ets"]
    assert registry.cold_candidates(realized.iloc[:10], set(), plan, 12) == []  # 2 x 5 days + 3 rows needed
    assert np.isfinite(champion.choose_champion(realized, ["naive"], None, 0.0, 1).evidence.mase)


def test_stored_forecasts_of_a_window_hold_every_origin_the_evidence_of_that_window_uses(tmp_path):
    from nightcast.warehouse import Warehouse
    from tasks.scoring import evidence as evidence_stage

    wh = Warehouse(tmp_path / "wh")
    days = pd.bdate_range("2024-01-01", periods=40)
    prices = pd.DataFrame({"date": days, "close": 100 + np.arange(40.0)})
    for k, as_of in enumerate(days[:30]):  # one live night per day, two horizons
        rows = pd.DataFrame(
            {
                "run_id": f"r{k:03d}",
                "ticker": "GOOG",
                "as_of": as_of,
                "target_date": days[k + 1 : k + 3],
                "horizon": [1, 2],
                "forecast": [101.0 + k, 102.0 + k],
                "candidate": "naive",
            }
        )
        wh.write_run_table("forecasts", "GOOG", f"r{k:03d}", rows)
    backtest = pd.DataFrame(  # a backtest origin among the live ones, and an older one
        {
            "run_id": "b",
            "ticker": "GOOG",
            "candidate": "ets",
            "as_of": days[[19, 4]],
            "date": days[[20, 5]],
            "horizon": 1,
            "predicted": 1.0,
        }
    )
    wh.write_run_table("backtests", "GOOG", "b", backtest)
    as_of = days[25].date()
    everything, last = (catalog.stored_forecasts(wh, {"GOOG": as_of}, w).drop(columns="ticker") for w in (0, 7))
    assert len(everything) == 25 + 24 + 2  # horizon 1 of origins 0..24, horizon 2 of 0..23, two backtests
    assert sorted(set(pd.to_datetime(last["as_of"]))) == list(days[18:25])  # the last 7 origins
    facts = evidence_stage.price_facts(prices)
    whole, windowed = (evidence_stage.realized(f, facts, as_of, 7) for f in (everything, last))
    key = ["candidate", "as_of", "horizon"]
    pd.testing.assert_frame_equal(
        whole.sort_values(key).reset_index(drop=True), windowed.sort_values(key).reset_index(drop=True)
    )


def with_intervals(rows: pd.DataFrame, half_widths: dict[str, float]) -> pd.DataFrame:
    """rows with symmetric 80% and 95% intervals around each forecast (95% 1.5x wider)."""
    half = rows["candidate"].map(half_widths)
    return rows.assign(
        lower_80=rows["forecast"] - half,
        upper_80=rows["forecast"] + half,
        lower_95=rows["forecast"] - 1.5 * half,
        upper_95=rows["forecast"] + 1.5 * half,
    )


def test_a_candidate_whose_intervals_miss_badly_is_not_served_on_points_alone():
    """ets misses by 0.5 (half naive's error) but its intervals (half-width 0.05) leave every close outside:
    its interval score is 2.7 x naive's (4.6 vs 3 at 80%, 17.15 vs 4.5 at 95%). It is not chosen, and a
    champion whose intervals turn so bad falls back to naive."""
    rows = with_intervals(evidence({"naive": 1.0, "ets": 0.5}), {"naive": 1.5, "ets": 0.05})
    cold = champion.choose_champion(rows, ["naive", "ets"], None, 0.02, 20)
    assert cold.champion == "naive"
    assert champion.misses_badly(rows, "ets", 20) is not None and champion.misses_badly(rows, "naive", 20) is None
    held = champion.choose_champion(rows, ["naive", "ets"], "ets", 0.02, 20)
    assert held.champion == "naive" and held.action == "naive fallback" and "intervals miss badly" in held.reason
    fair = with_intervals(evidence({"naive": 1.0, "ets": 0.5}), {"naive": 1.5, "ets": 0.8})
    assert champion.choose_champion(fair, ["naive", "ets"], None, 0.02, 20).champion == "ets"
    unknown = evidence({"naive": 1.0, "ets": 0.5})  # backtest evidence: no intervals, the points decide
    assert champion.choose_champion(unknown, ["naive", "ets"], None, 0.02, 20).champion == "ets"


def slipping_lately(moves: list[float]) -> pd.DataFrame:
    """30 origins where ets beats naive on points (misses by 0.5 against 1) with fair bands, except the last 5
    origins, where its bands (half-width 0.05) leave every close outside; the closes at the origins move by
    +-0.1% a day around 101 (naive misses by about 1), then by `moves` (log) into the last origins."""
    rows = with_intervals(evidence({"naive": 1.0, "ets": 0.5}), {"naive": 1.5, "ets": 0.8})
    late = (rows["candidate"] == "ets") & (rows["as_of"] >= rows["as_of"].max() - pd.Timedelta(days=4))
    for level, factor in ((80, 1.0), (95, 1.5)):
        rows.loc[late, f"lower_{level}"] = rows.loc[late, "forecast"] - 0.05 * factor
        rows.loc[late, f"upper_{level}"] = rows.loc[late, "forecast"] + 0.05 * factor
    steps = [0.001 * (-1) ** i for i in range(30 - len(moves))] + moves
    closes = 101 * np.exp(np.cumsum([0.0, *steps[1:]]))
    origin = {day: close for day, close in zip(sorted(rows["as_of"].unique()), closes, strict=True)}
    return rows.assign(naive=rows["as_of"].map(origin))


def test_in_a_storm_the_recent_bands_decide_and_one_jump_is_no_storm():
    """Calm, the whole evidence window judges the bands (ets's are better over it: kept). When the last origins'
    daily moves are over 2 x their median (a storm: 3% a day after 0.1%), ets's bands of the last 3 origins,
    worse than naive's, send the ticker to naive, and ets is not chosen again while that holds. One jump of
    13% among calm days is no storm: the median move is unchanged, ets is kept."""
    calm = slipping_lately([])
    assert champion.Arena(calm).moves == pytest.approx(1.0)
    kept = champion.choose_champion(calm, ["naive", "ets"], "ets", 0.02, 20)
    assert kept.champion == "ets" and kept.action == "kept"
    stormy = slipping_lately([0.03, -0.03, 0.03, -0.03, 0.03])
    arena = champion.Arena(stormy)
    assert arena.moves == pytest.approx(30.0) and champion.slips_in_a_storm(arena, "naive") is None
    slip = champion.slips_in_a_storm(arena, "ets")
    assert slip is not None and slip.interval_ratio > 1.0 and slip.intervals == 3 * 2
    held = champion.choose_champion(stormy, ["naive", "ets"], "ets", 0.02, 20)
    assert held.champion == "naive" and held.action == "naive fallback"
    assert "in a storm (daily moves 30.00 x their median)" in held.reason and "last 3 origins" in held.reason
    assert champion.choose_champion(stormy, ["naive", "ets"], "naive", 0.02, 20).champion == "naive"
    jump = slipping_lately([0.13, 0.001, -0.001, 0.001, -0.001])
    assert champion.Arena(jump).moves == pytest.approx(1.0)
    assert champion.choose_champion(jump, ["naive", "ets"], "ets", 0.02, 20).champion == "ets"


def test_with_too_few_origins_or_no_bands_the_storm_check_stands_aside():
    short = evidence({"naive": 1.0, "ets": 0.5}, origins=9)
    assert champion.Arena(short.assign(naive=100 * np.exp(np.arange(len(short)) * 0.03))).moves == 1.0
    unknown = evidence({"naive": 1.0, "ets": 0.5})  # backtest evidence: no bands, the points decide
    steps = np.r_[np.full(25, 0.005), np.full(5, 0.03)]
    stormy = unknown.assign(
        naive=unknown["as_of"].rank(method="dense").astype(int).map(lambda i: 100 * np.exp(steps[: i - 1].sum()))
    )
    assert champion.Arena(stormy).moves > 2.0
    assert champion.choose_champion(stormy, ["naive", "ets"], None, 0.02, 20).champion == "ets"
