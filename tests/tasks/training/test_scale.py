import numpy as np
import pytest
from sklearn.preprocessing import MinMaxScaler

from tasks.training.scale import ScalerParams, fit_scaler, inverse_transform, scale_split, transform


def test_fit_matches_sklearn_minmax():
    values = np.array([10.0, 12.0, 15.0, 20.0])
    params = fit_scaler(values)
    expected = MinMaxScaler().fit_transform(values.reshape(-1, 1)).ravel()
    np.testing.assert_allclose(transform(values, params), expected)
    assert (params.data_min, params.data_max) == (10.0, 20.0)


def test_inverse_undoes_transform_and_does_not_mutate():
    values = np.array([3.0, 7.5, 1.25, 9.0])
    before = values.copy()
    params = fit_scaler(values)
    np.testing.assert_allclose(inverse_transform(transform(values, params), params), values)
    np.testing.assert_array_equal(values, before)


def test_scaler_never_sees_test_data():
    train, test = np.array([1.0, 2.0, 3.0]), np.array([100.0, 200.0])
    scaled = scale_split(train, test)
    assert (scaled.params.data_min, scaled.params.data_max) == (1.0, 3.0)
    np.testing.assert_allclose(scaled.train, [0.0, 0.5, 1.0])
    np.testing.assert_allclose(scaled.test, [49.5, 99.5])  # outside [0, 1]: fit on train alone


def test_params_round_trip_through_json_file(tmp_path):
    params = fit_scaler(np.array([5.0, 6.5, 9.0]))
    (tmp_path / "scaler.json").write_text(params.to_json())
    loaded = ScalerParams.from_json((tmp_path / "scaler.json").read_text())
    assert loaded == params
    assert (tmp_path / "scaler.json").read_text().startswith("{")


@pytest.mark.parametrize("bad", [np.array([]), np.array([1.0, np.nan]), np.array([np.inf])])
def test_fit_rejects_empty_or_non_finite(bad):
    with pytest.raises(ValueError, match="empty or not finite"):
        fit_scaler(bad)
