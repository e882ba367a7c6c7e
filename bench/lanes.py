"""RNN fits stacked as the lanes of one computation (tasks/training/lanes.py), by stack width, as a night trains them:
two worker processes side by side, one thread each.

`python -m bench.lanes` trains MODELS models on synthetic GOOG-sized series (2,000 sessions: 1,900 windows of
100 closes) for a fine-tune night's 5 epochs, in stacks of W lanes for each W in WIDTHS, in two processes at
once (as the nightly's two workers do), and at W = 4 and 24 in one process alone; every program is compiled
before it is timed. tasks/training/train.MAX_LANES is chosen from these figures. Prints JSON, then one line per
width: `lanes: stacks of W, <s> s per model side by side[, <s> s alone]`.

`python -m bench.lanes W` is one process's part: it prints {"width": W, "per_model": seconds}.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

SESSIONS = 2_000
EPOCHS = 5
MODELS = 24
WIDTHS = (1, 4, 8, 16, 24)
ALONE = (4, 24)


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


def per_model(width: int) -> float:
    """Seconds per model for MODELS fine-tune fits in stacks of width lanes (one thread, compiled first)."""
    from nightcast.stage_options import TrainOptions
    from tasks.training import train

    train.MAX_LANES = width
    work = jobs(MODELS)
    train.train_models(work[:width], TrainOptions(epochs=1))  # compile this width's program
    started = time.perf_counter()
    train.train_models(work, TrainOptions(epochs=EPOCHS))
    return (time.perf_counter() - started) / MODELS


def run_children(width: int, count: int) -> list[float]:
    """count processes training in stacks of width at the same time; each one's seconds per model."""
    from bench import common

    children = [
        subprocess.Popen(
            [common.PYTHON, "-m", "bench.lanes", str(width)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=common.child_env(),
            cwd=common.ROOT,
            text=True,
        )
        for _ in range(count)
    ]
    outputs = [child.communicate()[0] for child in children]
    return [json.loads(out.strip().splitlines()[-1])["per_model"] for out in outputs]


def measure() -> dict:
    """Seconds per model at each width, two processes side by side (their mean), and alone at ALONE."""
    out: dict = {"epochs": EPOCHS, "sessions": SESSIONS, "models": MODELS}
    for width in WIDTHS:
        out[f"side_by_side_{width}"] = float(np.mean(run_children(width, 2)))
        if width in ALONE:
            out[f"alone_{width}"] = run_children(width, 1)[0]
    return out


def lines(result: dict) -> list[str]:
    """One line per width."""
    return [
        f"lanes: stacks of {w}, {result[f'side_by_side_{w}']:.2f} s per model side by side"
        + (f", {result[f'alone_{w}']:.2f} s alone" if f"alone_{w}" in result else "")
        for w in WIDTHS
    ]


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps({"width": int(sys.argv[1]), "per_model": per_model(int(sys.argv[1]))}))
    else:
        result = measure()
        print(json.dumps(result))
        print("\n".join(lines(result)))
