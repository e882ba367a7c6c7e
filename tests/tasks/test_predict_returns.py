"""Predictions in price units for the log_return target, with a stand-in model whose output is known."""

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tasks.predict import forecast_from_closes, predict_last_days, predict_test_and_next
from tasks.scale import fit_scaler, transform
from tasks.target import holdout_series, to_series
from tasks.window import make_test_windows

GROWTH = np.log(1.01)


class LastValue:
    """Predicts the last value of each window: tomorrow's return = today's return."""

    input_shape = (None, 3, 1)

    def predict_on_batch(self, X):
        return np.asarray(X)[:, -1, :]


@pytest.fixture
def closes():
    return 100.0 * 1.01 ** np.arange(12)  # +1% a day: every log return is ln(1.01)


def test_test_days_and_forecasts_come_back_in_prices(closes):
    train, test = closes[:8], closes[8:]
    scaler = fit_scaler(to_series(train, "log_return") + np.array([0, 0, 0, 0, 0, 0, 0.01]))  # non-degenerate
    scaled_train = transform(to_series(train, "log_return"), scaler)
    scaled_test = transform(holdout_series(train, test, "log_return"), scaler)
    windows = make_test_windows(scaled_train, scaled_test, 3)
    frame = pd.DataFrame({"date": pd.bdate_range("2024-01-01", periods=4), "close": test})
    result = predict_test_and_next(LastValue(), windows.X, frame, np.concatenate([scaled_train, scaled_test]),
                                   scaler, horizon=3, target="log_return", previous_close=train[-1])
    # each test day: yesterday's actual close grown by 1%, i.e. exactly the actual close
    np.testing.assert_allclose(result.predicted, test, rtol=1e-5)
    # the path compounds from the last close: 1%, 2.01%, 3.03%
    np.testing.assert_allclose(result.forecasts, closes[-1] * 1.01 ** np.arange(1, 4), rtol=1e-5)
    assert result.target_dates == (dt.date(2024, 1, 5), dt.date(2024, 1, 8), dt.date(2024, 1, 9))


def test_the_returns_target_needs_the_close_before_the_test_period(closes):
    frame = pd.DataFrame({"date": pd.bdate_range("2024-01-01", periods=2), "close": closes[:2]})
    with pytest.raises(ValueError, match="needs the close before the first test day"):
        predict_test_and_next(LastValue(), np.zeros((2, 3, 1)), frame, np.zeros(5), fit_scaler([0.0, 1.0]),
                              target="log_return")


def test_a_stored_returns_model_scores_and_forecasts_from_closes(closes):
    scaler = fit_scaler(np.array([0.0, 0.02]))
    last = predict_last_days(LastValue(), closes, scaler, 4, target="log_return")
    np.testing.assert_allclose(last, closes[-4:], rtol=1e-5)
    with pytest.raises(ValueError, match="need 8 closes"):  # 4 days + 3 window + 1 for the first return
        predict_last_days(LastValue(), closes[:7], scaler, 4, target="log_return")
    dates, path = forecast_from_closes(LastValue(), closes, scaler, dt.date(2024, 1, 5), 2, target="log_return")
    np.testing.assert_allclose(path, closes[-1] * np.exp(GROWTH * np.arange(1, 3)), rtol=1e-5)
