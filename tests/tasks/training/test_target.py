"""The target stage by hand: closes to log returns and back, and the failure cases."""

import numpy as np
import pytest

from tasks.training import target

CLOSES = np.array([100.0, 110.0, 99.0, 99.0])


def test_price_target_is_the_closes_themselves():
    np.testing.assert_array_equal(target.to_series(CLOSES, "price"), CLOSES)
    np.testing.assert_array_equal(target.holdout_series(CLOSES[:2], CLOSES[2:], "price"), [99.0, 99.0])
    np.testing.assert_array_equal(target.to_prices([1.0, 2.0], [np.nan, np.nan], "price"), [1.0, 2.0])
    np.testing.assert_array_equal(target.paths_to_prices([[5.0, 6.0]], [1.0], "price"), [[5.0, 6.0]])
    assert target.extra_rows("price") == 0


def test_log_returns_by_hand():
    returns = target.to_series(CLOSES, "log_return")
    np.testing.assert_allclose(returns, [np.log(1.1), np.log(0.9), 0.0])
    # the first test day's return is taken from the last training close
    np.testing.assert_allclose(target.holdout_series(CLOSES[:2], CLOSES[2:], "log_return"), [np.log(0.9), 0.0])
    assert target.extra_rows("log_return") == 1


def test_returns_turn_back_into_the_prices_they_came_from():
    returns = target.to_series(CLOSES, "log_return")
    np.testing.assert_allclose(target.to_prices(returns, CLOSES[:-1], "log_return"), CLOSES[1:])
    # compounding from the last close: a path of returns 10%, -10% from 100
    np.testing.assert_allclose(
        target.paths_to_prices([[np.log(1.1), np.log(0.9)]], [100.0], "log_return"), [[110.0, 99.0]]
    )
    # a zero return is the naive forecast
    np.testing.assert_allclose(target.to_prices([0.0, 0.0], [50.0, 60.0], "log_return"), [50.0, 60.0])


@pytest.mark.parametrize("bad", [[100.0, 0.0], [100.0, -5.0], [100.0, np.nan]])
def test_log_returns_refuse_non_positive_or_missing_closes(bad):
    with pytest.raises(ValueError, match="finite and positive"):
        target.to_series(np.array(bad), "log_return")


def test_unknown_target_and_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="unknown target 'returns': use one of price, log_return"):
        target.to_series(CLOSES, "returns")
    with pytest.raises(ValueError, match="3 predicted values for 2 previous closes"):
        target.to_prices([0.0, 0.0, 0.0], [1.0, 2.0], "log_return")
    with pytest.raises(ValueError, match="last 1 training close"):
        target.holdout_series(np.array([]), CLOSES, "log_return")
