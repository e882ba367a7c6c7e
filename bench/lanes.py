"""Many RNN fits as the lanes of one computation (tasks/training/lanes.py) against the same fits one after another.

`python -m bench.lanes` trains K models on synthetic GOOG-sized series (2,000 sessions: 1,900 windows of
100 closes) for a fine-tune night's 5 epochs, at K = 1, 4, 16 and 32, stacked and (at K = 4) one by one, in
one process on one thread (as a nightly worker trains); every program is compiled before it is timed.
Prints JSON, then one line per K: `lanes: K models, <s> s per model stacked[, <s> s alone]`.
"""

from __future__ import annotations

import json
import time

import numpy as np

SESSIONS = 2_000
EPOCHS = 5
LANE_COUNTS = (1, 4, 16, 32)


def jobs(count: int, seed: int = 0) -> list:
    """count GOOG-sized random walks as (X, y, None) training jobs, scaled as the pipeline scales them."""
    from tasks.training.window import make_windows

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        walk = np.cumsum(rng.normal(0.0005, 0.02, SESSIONS))
        scaled = ((walk - walk.min()) / (walk.max() - walk.min())).astype("float32")
        windows = make_windows(scaled, 100)
        out.append((windows.X, windows.y, None))
    return out


def seconds(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def measure() -> dict:
    """Seconds per model at each lane count, stacked, and one by one at 4."""
    from nightcast.stage_options import TrainOptions
    from tasks.training.train import train_model, train_models

    out: dict = {"epochs": EPOCHS, "sessions": SESSIONS}
    for count in LANE_COUNTS:
        work = jobs(count)
        train_models(work, TrainOptions(epochs=1))  # compile this lane count's program
        out[f"stacked_{count}"] = seconds(lambda w=work: train_models(w, TrainOptions(epochs=EPOCHS))) / count
        if count == 4:
            out["alone_4"] = (
                seconds(lambda w=work: [train_model(X, y, TrainOptions(epochs=EPOCHS)) for X, y, _ in w]) / count
            )
    return out


def lines(result: dict) -> list[str]:
    """One line per lane count."""
    return [
        f"lanes: {k} models, {result[f'stacked_{k}']:.2f} s per model stacked"
        + (f", {result['alone_4']:.2f} s alone" if k == 4 else "")
        for k in LANE_COUNTS
    ]


if __name__ == "__main__":
    result = measure()
    print(json.dumps(result))
    print("\n".join(lines(result)))
