"""Windowing 10,000 scaled closes with time_step 100: tasks.training.window vs the tutorial's Python loop."""

from __future__ import annotations

import timeit

import numpy as np

from bench.tutorial import tutorial_create_dataset


def measure(rows: int = 10_000, time_step: int = 100, repeat: int = 7) -> dict:
    """Best-of-`repeat` seconds per call for both, on the same (rows, 1) float64 array of scaled closes.

    The tutorial's loop drops the last window; nightcast's make_windows keeps it (and returns
    float32 windows shaped for Keras, as a read-only view of the series), so nightcast does slightly more work.
    """
    from tasks.training.window import make_windows

    series = np.random.default_rng(0).random((rows, 1))
    tutorial_X, _ = tutorial_create_dataset(series, time_step)
    ours = make_windows(series, time_step)
    if not np.allclose(ours.X[: len(tutorial_X), :, 0], tutorial_X, atol=1e-6):
        raise AssertionError("make_windows and the tutorial's loop disagree")
    number_ours, number_loop = 50, 3
    ours_s = (
        min(timeit.repeat(lambda: make_windows(series, time_step), number=number_ours, repeat=repeat)) / number_ours
    )
    loop_s = (
        min(timeit.repeat(lambda: tutorial_create_dataset(series, time_step), number=number_loop, repeat=repeat))
        / number_loop
    )
    return {"rows": rows, "time_step": time_step, "nightcast_s": ours_s, "tutorial_s": loop_s, "ratio": loop_s / ours_s}
