import numpy as np
import pytest

from tasks.scoring.evaluate import evaluate_predictions, naive_forecast, score


def test_naive_forecast_is_yesterdays_close():
    np.testing.assert_array_equal(naive_forecast(9.0, np.array([10.0, 11.0, 12.0])), [9.0, 10.0, 11.0])


def test_scores_by_hand():
    s = score(np.array([100.0, 200.0]), np.array([110.0, 190.0]))
    assert s.rmse == pytest.approx(10.0)
    assert s.mae == pytest.approx(10.0)
    assert s.mape == pytest.approx((10 / 100 + 10 / 200) / 2 * 100)


def test_skill_compares_with_naive_on_the_same_days():
    actual = np.array([10.0, 12.0, 11.0, 13.0])
    naive = naive_forecast(9.0, actual)  # errors 1, 2, 1, 2
    predicted = actual + np.array([0.5, -0.5, 0.5, -0.5])
    ev = evaluate_predictions(actual, predicted, naive)
    assert ev.naive.rmse == pytest.approx(np.sqrt(2.5))
    assert ev.skill == pytest.approx(1 - 0.5 / np.sqrt(2.5))
    assert set(ev.as_row()) == {"rmse", "mae", "mape", "naive_rmse", "naive_mae", "naive_mape", "skill"}


def test_score_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="equal, non-empty"):
        score(np.array([1.0, 2.0]), np.array([1.0]))
