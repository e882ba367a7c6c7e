import numpy as np
import pytest

from tasks.training.window import last_window, make_test_windows, make_windows


def tutorial_loop(dataset: np.ndarray, time_step: int):
    """The tutorial's intent, written as a loop (fixed: X filled, last window kept)."""
    X, y = [], []
    for i in range(len(dataset) - time_step):
        X.append(dataset[i : i + time_step])
        y.append(dataset[i + time_step])
    return np.array(X), np.array(y)


def test_windows_of_a_tiny_series_by_hand():
    w = make_windows(np.array([1, 2, 3, 4, 5, 6]), 3)
    assert w.X.shape == (3, 3, 1)
    np.testing.assert_array_equal(w.X[..., 0], [[1, 2, 3], [2, 3, 4], [3, 4, 5]])
    np.testing.assert_array_equal(w.y, [4, 5, 6])  # the last value is a target: no window dropped


def test_windows_match_the_loop_on_a_sine():
    series = np.sin(np.linspace(0, 20, 300)).astype("float32")
    w = make_windows(series, 25)
    X, y = tutorial_loop(series, 25)
    np.testing.assert_array_equal(w.X[..., 0], X)
    np.testing.assert_array_equal(w.y, y)
    assert len(w.y) == len(series) - 25


def test_test_windows_give_every_test_day_a_prediction():
    train, test = np.array([1.0, 2.0, 3.0, 4.0, 5.0]), np.array([10.0, 11.0, 12.0])
    w = make_test_windows(train, test, 3)
    np.testing.assert_array_equal(w.y, test)
    np.testing.assert_array_equal(w.X[..., 0], [[3, 4, 5], [4, 5, 10], [5, 10, 11]])


def test_last_window_is_the_tail():
    np.testing.assert_array_equal(last_window(np.arange(10), 4).ravel(), [6, 7, 8, 9])
    assert last_window(np.arange(10), 4).shape == (1, 4, 1)


def test_windows_reject_a_series_too_short():
    with pytest.raises(ValueError, match="at least time_step \\+ 1"):
        make_windows(np.arange(3), 3)


def test_windows_reject_non_positive_time_step():
    with pytest.raises(ValueError, match="time_step must be at least 1"):
        make_windows(np.arange(10), 0)


def test_test_windows_need_enough_context_and_a_test_period():
    with pytest.raises(ValueError, match="training values as context"):
        make_test_windows(np.arange(2), np.arange(3), 3)
    with pytest.raises(ValueError, match="test period is empty"):
        make_test_windows(np.arange(5), np.array([]), 3)
