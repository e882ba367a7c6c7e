"""Scores per candidate and horizon, by hand; duels on shared forecasts only."""

import numpy as np
import pandas as pd
import pytest

from tasks.scoring.scores import duel, mean_mase, score_table


def rows():
    base = {"as_of": pd.Timestamp("2020-01-02"), "naive": 100.0, "scale": 2.0, "actual": 104.0}
    return pd.DataFrame(
        [
            {
                **base,
                "candidate": "a",
                "horizon": 1,
                "forecast": 103.0,
                "lower_80": 101.0,
                "upper_80": 105.0,
                "lower_95": 99.0,
                "upper_95": 107.0,
            },
            {
                **base,
                "candidate": "a",
                "horizon": 2,
                "forecast": 98.0,
                "lower_80": 96.0,
                "upper_80": 100.0,
                "lower_95": 94.0,
                "upper_95": 105.0,
            },
            {**base, "candidate": "b", "horizon": 1, "forecast": 100.0},
            {**base, "as_of": pd.Timestamp("2020-01-03"), "candidate": "b", "horizon": 1, "forecast": 90.0},
        ]
    )


def test_scores_by_hand():
    table = score_table(rows()).set_index(["candidate", "horizon"])
    a1 = table.loc[("a", 1)]
    assert a1["mae"] == 1.0 and a1["mase"] == 0.5 and a1["bias"] == -1.0 and a1["direction"] == 1.0
    assert a1["coverage_80"] == 1.0 and a1["width_80"] == 4.0 and a1["naive_mae"] == 4.0 and a1["naive_mase"] == 2.0
    a2 = table.loc[("a", 2)]
    assert a2["direction"] == 0.0 and a2["coverage_80"] == 0.0 and a2["coverage_95"] == 1.0
    b1 = table.loc[("b", 1)]
    assert b1["n"] == 2 and np.isnan(b1["coverage_80"])  # backtest forecasts carry no interval
    assert b1["rmse"] == pytest.approx(np.sqrt((16 + 196) / 2))


def test_duels_count_only_forecasts_both_made():
    d = duel(rows(), "a", "b")
    assert d.n == 1 and d.mase == 0.5 and d.other_mase == 2.0 and d.naive_mase == 2.0
    assert duel(rows(), "a", "nobody").n == 0
    assert mean_mase(rows()[rows()["candidate"] == "a"]) == pytest.approx((0.5 + 3.0) / 2)
    assert score_table(rows().iloc[:0]).empty


def test_interval_scores_by_hand_beside_naives_own():
    """Width plus 2 / alpha times the miss (alpha 0.2 at 80%, 0.05 at 95%); naive's score is that of naive's own
    interval at the same origin and horizon, and stays unknown where naive made none."""
    naive = {
        "as_of": pd.Timestamp("2020-01-02"),
        "naive": 100.0,
        "scale": 2.0,
        "actual": 104.0,
        "candidate": "naive",
        "horizon": 1,
        "forecast": 100.0,
        "lower_80": 98.0,
        "upper_80": 102.0,
        "lower_95": 96.0,
        "upper_95": 104.0,
    }
    table = score_table(pd.concat([rows(), pd.DataFrame([naive])], ignore_index=True)).set_index(
        ["candidate", "horizon"]
    )
    a1, a2, n1 = table.loc[("a", 1)], table.loc[("a", 2)], table.loc[("naive", 1)]
    assert a1["interval_score_80"] == 4.0 and a1["interval_score_95"] == 8.0  # inside: the width
    assert a2["interval_score_80"] == pytest.approx(4.0 + 10.0 * 4.0)  # 4 above the 80% interval
    assert a2["interval_score_95"] == 11.0
    assert n1["interval_score_80"] == pytest.approx(4.0 + 10.0 * 2.0) and n1["interval_score_95"] == 8.0
    assert a1["naive_interval_score_80"] == pytest.approx(24.0) and a1["naive_interval_score_95"] == 8.0
    assert np.isnan(a2["naive_interval_score_80"])  # naive made no horizon-2 interval here
    b1 = table.loc[("b", 1)]
    assert np.isnan(b1["interval_score_80"]) and b1["naive_interval_score_80"] == pytest.approx(24.0)
    assert score_table(rows())["naive_interval_score_80"].isna().all()  # no naive rows: nothing to compare with
