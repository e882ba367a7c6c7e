"""Windowing 10,000 scaled closes with time_step 100: tasks.window vs the tutorial's Python loop."""

from __future__ import annotations

import timeit

import numpy as np

from bench.tutorial import tutorial_create_dataset


def measure(rows: int = 10_000, time_step: int = 100, repeat: int = 7) -> dict:
    """Best-of-`repeat` seconds per call for both, on the same (rows, 1) float64 array of scaled closes.

    The tutorial's loop drops the last window; nightcast's make_windows keeps it (and returns
    contiguous float32 arrays shaped for Keras), so nightcast does slightly more work.
    """
    from tasks.window import make_windows

    series = np.random.default_rng(0).random((rows, 1))
    tutorial_X, _ = tutorial_create_dataset(series, time_step)
    ours = make_windows(series, time_step)
    if not np.allclose(ours.X[:len(tutorial_X), :, 0], tutorial_X, atol=1e-6):
        raise AssertionError("make_windows and the tutorial's loop disagree")
    number_ours, number_loop = 50, 3
    ours_s = min(timeit.repeat(lambda: make_windows(series, time_step), number=number_ours, repeat=repeat)) / number_ours
    loop_s = min(timeit.repeat(lambda: tutorial_create_dataset(series, time_step), number=number_loop,
                               repeat=repeat)) / number_loop
    view_s = min(timeit.repeat(lambda: zero_copy_windows(series, time_step), number=number_ours,
                               repeat=repeat)) / number_ours
    view = zero_copy_windows(series, time_step)
    if not (np.array_equal(view.X, ours.X) and np.array_equal(view.y, ours.y)):
        raise AssertionError("the zero-copy windows differ from make_windows")
    return {"rows": rows, "time_step": time_step, "nightcast_s": ours_s, "tutorial_s": loop_s,
            "ratio": loop_s / ours_s, "view_s": view_s, "view_ratio": loop_s / view_s}


def zero_copy_windows(series: np.ndarray, time_step: int):
    """make_windows without its copy: X is a read-only strided view of the float32 series (proposed)."""
    from numpy.lib.stride_tricks import sliding_window_view

    from tasks.window import Windows

    values = np.asarray(series, dtype="float32").reshape(-1)
    return Windows(X=sliding_window_view(values[:-1], time_step)[..., np.newaxis], y=values[time_step:].copy())
