"""Many SimpleRNN fits as one computation: each model is a lane of the fast trainer's batched products.

A lane is one model with its own windows, initial weights, shuffles, learning-rate schedule, Adam state and
early stopping: exactly the fit it would get alone (tasks/training/train.py's train_model is the one-lane case).
The lanes of a stack share each compiled step, so a chunk of tickers trains in one pass of
[lanes, batch, 60] x [lanes, 60, 60] products instead of ticker after ticker. A lane with fewer windows
takes fewer steps per epoch (its surplus batches have weight 0 and it takes no step on them); a lane that
stops early takes no more steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nightcast.quiet_import import load_tensorflow
from nightcast.stage_options import TrainOptions
from tasks.training.adam import (
    CHUNK_STEPS,
    AdamState,
    assign_flat,
    compiled_steps,
    learning_rates,
    padded,
    store_adam_state,
)
from tasks.training.models import TrainedModel, build_model, epoch_reporter, start_fit
from tasks.training.wavefront import rnn_weights


@dataclass
class Lane:
    """One model's fit within a stack: its training and validation windows and its record so far."""

    X: np.ndarray
    y: np.ndarray
    n_val: int
    rates: np.ndarray
    rng: np.random.Generator
    report: Callable[[int, float, float | None, bool], None]
    log: Callable[[str], None] | None = None
    losses: list[float] = field(default_factory=list)
    val_losses: list[float] = field(default_factory=list)
    best: tuple[float, Any, int | None] = (math.inf, None, None)
    waited: int = 0
    stopped: bool = False

    @property
    def n(self) -> int:
        """Training windows (the validation slice excluded)."""
        return len(self.X) - self.n_val

    def steps(self, batch: int) -> int:
        """Mini-batches per epoch."""
        return -(-self.n // batch)


def make_lane(
    X: np.ndarray,
    y: np.ndarray,
    n_val: int,
    batch: int,
    options: TrainOptions,
    report: Callable[[int, float, float | None, bool], None],
    log: Callable[[str], None] | None,
) -> Lane:
    """A lane over windows X, y whose last n_val windows are its validation slice, trained in batches of batch
    with the options' epochs, seed and learning rates, reporting its epochs to report and its early stop to log."""
    steps = -(-(len(X) - n_val) // batch)
    rates = learning_rates(options.learning_rate, options.final_lr_fraction, options.epochs * steps)
    return Lane(X, y, n_val, rates, np.random.default_rng(options.seed), report, log)


def epoch_batches(lanes: list[Lane], epoch: int, batch: int, calls: int) -> tuple[np.ndarray, ...]:
    """Every lane's shuffled batches of one epoch, stacked on the lane axis: xs [calls, CHUNK_STEPS, lanes,
    batch, T, 1], ys and ws [calls, CHUNK_STEPS, lanes, batch], rates [calls, CHUNK_STEPS, lanes]."""
    slots = calls * CHUNK_STEPS * batch
    shape = (calls, CHUNK_STEPS, batch)
    xs, ys, ws, rates = [], [], [], []
    for lane in lanes:
        X, y, w = padded(lane.X[: lane.n], lane.y[: lane.n], slots)
        order = np.concatenate([lane.rng.permutation(lane.n), np.arange(lane.n, slots)])
        steps = lane.steps(batch)
        lane_rates = np.zeros(calls * CHUNK_STEPS, "float32")
        if not lane.stopped:
            lane_rates[:steps] = lane.rates[epoch * steps : (epoch + 1) * steps]
        xs.append(X[order].reshape(shape + X.shape[1:]))
        ys.append(y[order].reshape(shape))
        ws.append(w[order].reshape(shape) * (0.0 if lane.stopped else 1.0))
        rates.append(lane_rates.reshape(calls, CHUNK_STEPS))
    return np.stack(xs, 2), np.stack(ys, 2), np.stack(ws, 2).astype("float32"), np.stack(rates, 2)


def validation_batches(lanes: list[Lane], batch: int, tf) -> list[tuple]:
    """Every lane's validation windows in batches stacked on the lane axis (weight 0 where a lane has fewer)."""
    chunks = max(-(-lane.n_val // batch) for lane in lanes)
    parts = [padded(lane.X[lane.n :], lane.y[lane.n :], chunks * batch) for lane in lanes]
    X, y, w = (np.stack([p[i] for p in parts]) for i in range(3))
    return [
        (tf.constant(X[:, i : i + batch]), tf.constant(y[:, i : i + batch]), tf.constant(w[:, i : i + batch]))
        for i in range(0, chunks * batch, batch)
    ]


def run_epochs(
    lanes: list[Lane], state: AdamState, epochs: int, batch: int, patience: int, programs, tf
) -> tuple[list, AdamState]:
    """Train every lane for up to `epochs` epochs from state (theta, m, v, t, each with a lane axis first).

    Returns the weights kept per lane (its best validation epoch's when it has a validation slice, else its
    last epoch's) and the final state."""
    run_steps, sse = programs
    calls = -(-max(lane.steps(batch) for lane in lanes) // CHUNK_STEPS)
    validated = [lane for lane in lanes if lane.n_val]
    val_batches = validation_batches(lanes, batch, tf) if validated else []
    for epoch in range(epochs):
        if all(lane.stopped for lane in lanes):
            break
        xs, ys, ws, rates = epoch_batches(lanes, epoch, batch, calls)
        chunk_losses = []
        for c in range(calls):
            state, losses = run_steps(state, rates[c], (xs[c], ys[c], ws[c]))
            chunk_losses.append(losses.numpy())
        step_losses = np.concatenate(chunk_losses)  # [calls * CHUNK_STEPS, lanes]
        counts = ws.sum(axis=3).reshape(-1, len(lanes))
        val_sse = sum(sse(state.theta, *b).numpy() for b in val_batches) if val_batches else None
        for i, lane in enumerate(lanes):
            if lane.stopped:
                continue
            lane.losses.append(float(np.dot(step_losses[:, i], counts[:, i]) / lane.n))
            val_loss = None if val_sse is None or not lane.n_val else float(val_sse[i]) / lane.n_val
            keep_going(lane, (epoch, epochs), val_loss, patience, state.theta[i])
    return [lane.best[1] if lane.best[1] is not None else state.theta[i] for i, lane in enumerate(lanes)], state


def keep_going(lane: Lane, at: tuple[int, int], val_loss: float | None, patience: int, theta) -> None:
    """Record a lane's epoch (at: the epoch and how many were asked): its validation loss, its best weights
    so far, whether it stops now."""
    epoch, epochs = at
    stop = False
    if val_loss is not None:
        lane.val_losses.append(val_loss)
        if val_loss < lane.best[0]:
            lane.best, lane.waited = (val_loss, theta, epoch + 1), 0
        else:
            lane.waited += 1
            stop = patience > 0 and lane.waited >= patience
    lane.report(epoch, lane.losses[-1], val_loss, stop)
    lane.stopped = stop
    if stop and lane.log:
        best_loss, _, best_epoch = lane.best
        lane.log(
            f"early stop after epoch {epoch + 1}/{epochs}: validation loss not improved for {patience} epochs; "
            f"keeping epoch {best_epoch} (val_loss {best_loss:.6f})"
        )


Job = tuple[np.ndarray, np.ndarray, "list[np.ndarray] | None"]
"""One model's fit: its windows X, targets y and initial weights (None: Keras' seeded initialization)."""


def train_stack(jobs: list[Job], options: TrainOptions, log: Callable[[str], None] | None) -> list[TrainedModel]:
    """The jobs' fits as the lanes of one stack (at most MAX_LANES). The stack is not padded to a fixed lane
    count: an idle lane costs a real one's compute every step, while a new lane count costs one compilation
    (~1.8 s here) per process."""
    tf = load_tensorflow()
    started = time.perf_counter()
    data = [start_fit(X, y, options.seed, options.validation_fraction) for X, y, _ in jobs]
    batch = min(options.batch_size, max(len(X) - n_val for X, _, n_val in data))
    models, lanes = [], []
    for i, ((X, y, n_val), (_, _, initial)) in enumerate(zip(data, jobs, strict=True)):
        model = build_model(X.shape[1], learning_rate=options.learning_rate, seed=options.seed)
        if initial is not None:
            model.set_weights(initial)
        models.append(model)
        report = epoch_reporter(options.epochs, log) if i == 0 else quiet_report
        lanes.append(make_lane(X, y, n_val, batch, options, report, log))
    weights = [rnn_weights(model) for model in models]
    programs = compiled_steps(tuple(tuple(v.shape) for v in weights[0]), options.jit_compile)
    theta = np.stack([np.concatenate([v.numpy().reshape(-1) for v in w]) for w in weights])
    state = AdamState(tf.constant(theta), tf.zeros_like(theta), tf.zeros_like(theta), tf.zeros([len(jobs)]))
    kept, state = run_epochs(lanes, state, options.epochs, batch, options.patience, programs, tf)
    seconds = (time.perf_counter() - started) / len(jobs)
    out = []
    for i, (model, lane) in enumerate(zip(models, lanes, strict=True)):
        assign_flat(weights[i], np.asarray(kept[i]))
        m, v, t = (np.asarray(part[i]) for part in (state.m, state.v, state.t))
        store_adam_state(model.optimizer, weights[i], m, v, int(t))
        out.append(TrainedModel(model, lane.losses, seconds, lane.val_losses, lane.best[2]))
    return out


def quiet_report(epoch: int, loss: float, val_loss: float | None, last: bool) -> None:
    """An epoch reporter that reports nothing (the lanes after a stack's first)."""
