import pandas as pd
import pytest

from tasks.training.split import minimum_rows, split_series, train_size


def test_split_is_chronological_and_complete(prices):
    frame = prices(200)
    parts = split_series(frame, 0.8, time_step=10)
    assert len(parts.train) == 160 and len(parts.test) == 40
    assert parts.train["date"].is_monotonic_increasing and parts.test["date"].is_monotonic_increasing
    assert parts.train["date"].iloc[-1] < parts.test["date"].iloc[0]
    rejoined = pd.concat([parts.train, parts.test], ignore_index=True)
    pd.testing.assert_frame_equal(rejoined, frame)


def test_split_fraction_is_configurable(prices):
    parts = split_series(prices(100), 0.5, time_step=5)
    assert (len(parts.train), len(parts.test)) == (50, 50)


def test_train_size_floors():
    assert train_size(10, 0.65) == 6
    assert train_size(3042, 0.8) == 2433


def test_minimum_rows_gives_one_window_and_one_test_day():
    n = minimum_rows(100, 0.8)
    assert n == 127
    assert train_size(n, 0.8) == 101 and n - train_size(n, 0.8) >= 1
    assert train_size(n - 1, 0.8) <= 100


def test_split_rejects_too_few_rows(prices):
    with pytest.raises(ValueError, match="too few for time_step 100"):
        split_series(prices(120), 0.8, time_step=100)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5])
def test_split_rejects_fraction_outside_open_interval(prices, fraction):
    with pytest.raises(ValueError, match=r"train_fraction must be in \(0, 1\)"):
        split_series(prices(100), fraction, time_step=5)
