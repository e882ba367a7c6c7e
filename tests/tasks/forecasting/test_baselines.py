"""Statistical candidates: what each forecasts, from fitted parameters kept fixed, never reading ahead."""

import json

import numpy as np
import pytest

from nightcast.errors import InputError
from tasks.forecasting.baselines import FITS, StatFit, forecast_origins


@pytest.fixture(scope="module")
def closes():
    rng = np.random.default_rng(3)
    return 100 * np.exp(np.cumsum(rng.normal(0.0005, 0.01, 400)))


def test_naive_repeats_the_last_close_and_drift_compounds_the_mean_return(closes):
    fit, forecast = FITS["naive"]
    np.testing.assert_array_equal(forecast(fit(closes), closes, 3), [closes[-1]] * 3)
    fit, forecast = FITS["drift"]
    drift = fit(closes).params[0]
    assert drift == pytest.approx(np.log(closes[-1] / closes[0]) / (len(closes) - 1))
    np.testing.assert_allclose(forecast(fit(closes), closes, 2), closes[-1] * np.exp(drift * np.array([1, 2])))


@pytest.mark.parametrize("name", ["ets", "arima"])
def test_library_models_forecast_close_to_a_random_walk_and_ignore_later_closes(closes, name):
    fit, forecast = FITS[name]
    fitted = fit(closes[:300])
    path = forecast(fitted, closes[:350], 5)
    assert path.shape == (5,) and np.all(np.abs(path / closes[349] - 1) < 0.05)
    changed = closes.copy()
    changed[350:] *= 5
    np.testing.assert_array_equal(forecast(fitted, changed[:350], 5), path)
    assert json.loads(json.dumps(list(fitted.params))) == list(fitted.params)  # plain floats


def test_bad_closes_are_refused():
    for bad in (np.array([1.0, 2.0]), np.array([1.0, -1.0, 2.0, 3.0]), np.array([1.0, np.nan, 2.0, 3.0])):
        with pytest.raises(InputError):
            FITS["ets"][0](bad)
    assert StatFit("naive").params == ()


@pytest.mark.parametrize("name", ["naive", "drift", "ets", "arima"])
def test_forecasts_from_many_origins_equal_each_origin_alone_and_never_read_ahead(closes, name):
    """ARIMA forecasts every origin from one filter pass (forecast_origins): the same paths as a model and a
    filter per origin, and a close after an origin never moves that origin's forecasts."""
    fit, forecast = FITS[name]
    fitted = fit(closes[:300])
    origins = np.arange(299, 399)  # the last origin is the last row: its horizons are all beyond the data
    paths = forecast_origins(name, fitted, closes, origins, 5)
    assert paths.shape == (100, 5) and np.isfinite(paths).all()
    alone = np.stack([forecast(fitted, closes[: o + 1], 5) for o in origins])
    np.testing.assert_allclose(paths, alone, rtol=1e-10)
    changed = closes.copy()
    changed[350:] *= 1.5
    np.testing.assert_allclose(forecast_origins(name, fitted, changed, origins, 5)[:51], paths[:51], rtol=1e-10)
    assert not np.allclose(forecast_origins(name, fitted, changed, origins, 5)[51:], paths[51:])
    assert forecast_origins(name, fitted, closes, origins[:0], 5).shape == (0, 5)
