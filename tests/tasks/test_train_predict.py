import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tasks.predict import forecast_path, next_business_day, predict_test_and_next
from tasks.scale import fit_scaler, transform
from tasks.train import build_model, load_model, save_model, train_model
from tasks.window import make_test_windows, make_windows


@pytest.fixture(scope="module")
def sine_windows():
    series = (np.sin(np.linspace(0, 12, 160)) + 2).astype("float32")
    return series, make_windows(series[:120], 10)


def test_model_is_the_tutorials():
    model = build_model(100)
    assert model.count_params() == 2101
    assert [type(layer).__name__ for layer in model.layers] == ["SimpleRNN", "SimpleRNN", "SimpleRNN", "Dense"]
    assert model.loss == "mean_squared_error"


def test_same_seed_same_model(sine_windows):
    _, w = sine_windows
    a = train_model(w.X, w.y, epochs=2, batch_size=16, seed=3)
    b = train_model(w.X, w.y, epochs=2, batch_size=16, seed=3)
    assert a.losses == b.losses and len(a.losses) == 2
    np.testing.assert_array_equal(a.model.predict(w.X[:4], verbose=0), b.model.predict(w.X[:4], verbose=0))


def test_training_logs_progress_without_flooding(sine_windows):
    _, w = sine_windows
    lines: list[str] = []
    train_model(w.X, w.y, epochs=20, batch_size=64, seed=1, log=lines.append)
    assert len(lines) == 10 and lines[-1].startswith("epoch 20/20 loss")


def test_model_round_trips_through_keras_file(tmp_path, sine_windows):
    _, w = sine_windows
    trained = train_model(w.X, w.y, epochs=1, batch_size=32, seed=0)
    save_model(trained.model, tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(w.X[:5], verbose=0), trained.model.predict(w.X[:5], verbose=0))
    with pytest.raises(ValueError, match=".keras"):
        save_model(trained.model, tmp_path / "model.h5")


def test_predictions_cover_every_test_day_in_price_units(sine_windows):
    series, _ = sine_windows
    prices = series.astype("float64") * 100
    params = fit_scaler(prices[:120])
    scaled = transform(prices, params)
    train_w = make_windows(scaled[:120], 10)
    test_w = make_test_windows(scaled[:120], scaled[120:], 10)
    trained = train_model(train_w.X, train_w.y, epochs=30, batch_size=16, seed=0)
    test = pd.DataFrame({"date": pd.bdate_range("2022-01-03", periods=40), "close": prices[120:]})
    p = predict_test_and_next(trained.model, test_w.X, test, scaled, params)
    assert len(p.predicted) == 40
    assert np.abs(p.predicted - prices[120:]).mean() < 0.5 * prices.std()  # price units, not [0, 1]
    assert p.as_of == dt.date(2022, 2, 25) and p.target_date == dt.date(2022, 2, 28)
    assert np.isfinite(p.forecast) and len(p.forecasts) == 1


class Echo:
    """A stand-in model whose forecast is the window's last value plus one (in scaled units)."""

    def predict(self, X, verbose=0, batch_size=None):
        return X[:, -1, :] + 1.0


def test_forecast_path_feeds_each_forecast_back_recursively():
    params = fit_scaler(np.array([0.0, 10.0]))  # scaled = price / 10
    dates, values = forecast_path(Echo(), np.array([0.1, 0.2, 0.3]), params, dt.date(2013, 3, 1), 4)
    assert dates == (dt.date(2013, 3, 4), dt.date(2013, 3, 5), dt.date(2013, 3, 6), dt.date(2013, 3, 7))
    np.testing.assert_allclose(values, [13.0, 23.0, 33.0, 43.0])
    with pytest.raises(ValueError, match="horizon must be at least 1"):
        forecast_path(Echo(), np.array([0.1]), params, dt.date(2013, 3, 1), 0)


def test_next_business_day_skips_the_weekend():
    assert next_business_day(dt.date(2013, 3, 1)) == dt.date(2013, 3, 4)
    assert next_business_day(dt.date(2013, 3, 4)) == dt.date(2013, 3, 5)


def test_train_rejects_empty_or_mismatched():
    with pytest.raises(ValueError, match="matching, non-empty"):
        train_model(np.zeros((0, 5, 1)), np.zeros(0), 1, 8, 0)
