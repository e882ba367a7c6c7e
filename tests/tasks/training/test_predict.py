"""RNN predictions in price units: one step from actual closes, and recursive paths from many origins."""

import numpy as np
import pytest

from tasks.training.predict import forecast_from_origins, forecast_paths, one_step_prices, origin_windows
from tasks.training.scale import fit_scaler
from tasks.training.target import paths_to_prices, to_series


class Echo:
    """A stand-in model whose forecast is the window's last value plus one (in scaled units)."""

    input_shape = (None, 3, 1)

    def predict_on_batch(self, X):
        return X[:, -1, :] + 1.0


def test_paths_feed_each_forecast_back_for_every_window_at_once():
    params = fit_scaler(np.array([0.0, 10.0]))  # scaled = price / 10
    windows = np.array([[0.1, 0.2, 0.3], [0.5, 0.6, 0.7]])[..., None]
    paths = forecast_paths(Echo(), windows, params, 3)
    np.testing.assert_allclose(paths, [[13.0, 23.0, 33.0], [17.0, 27.0, 37.0]])
    with pytest.raises(ValueError, match="horizon must be at least 1"):
        forecast_paths(Echo(), windows, params, 0)


def test_origin_windows_read_only_closes_up_to_each_origin():
    closes = np.arange(1.0, 21.0)
    params = fit_scaler(closes)
    windows = origin_windows(closes, np.array([5, 9]), 3, params, "price")
    np.testing.assert_allclose(
        windows[:, :, 0] / params.scale - params.offset / params.scale, [[4.0, 5.0, 6.0], [8.0, 9.0, 10.0]], atol=1e-4
    )
    returns = origin_windows(closes, np.array([5]), 3, fit_scaler(to_series(closes, "log_return")), "log_return")
    assert returns.shape == (1, 3, 1)  # the returns of closes 3..6: ln(4/3), ln(5/4), ln(6/5)
    with pytest.raises(ValueError, match="closes up to each"):
        origin_windows(closes, np.array([1]), 3, params, "price")


def test_garbling_after_the_origin_changes_nothing_before_it():
    rng = np.random.default_rng(0)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, 60)))
    changed = closes.copy()
    changed[41:] *= 3
    params = fit_scaler(to_series(closes[:40], "log_return"))
    a = forecast_from_origins(EchoReturns(), closes, np.array([30, 40]), params, "log_return", 4)
    b = forecast_from_origins(EchoReturns(), changed, np.array([30, 40]), params, "log_return", 4)
    np.testing.assert_array_equal(a, b)


class EchoReturns(Echo):
    def predict_on_batch(self, X):
        return X[:, -1, :]


def test_returns_compound_from_each_origin_close():
    values = np.log(np.array([[1.1, 1.1], [0.5, 2.0]]))
    np.testing.assert_allclose(
        paths_to_prices(values, np.array([100.0, 10.0]), "log_return"), [[110.0, 121.0], [5.0, 10.0]]
    )
    np.testing.assert_array_equal(paths_to_prices(values, np.array([1.0, 1.0]), "price"), values)


def test_one_step_returns_apply_to_the_close_before():
    params = fit_scaler(np.array([0.0, 1.0]))

    class Zero:
        def predict_on_batch(self, X):
            return np.zeros((len(X), 1))

    prices = one_step_prices(Zero(), np.zeros((2, 3, 1)), params, "log_return", np.array([10.0, 20.0]))
    np.testing.assert_allclose(prices, [10.0, 20.0])  # a zero return is the naive forecast
