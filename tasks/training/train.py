"""Train stage: the tutorial's stacked SimpleRNN, trained fast, seeded and saved as a .keras file.

The model is exactly the tutorial's (three SimpleRNN(20) layers and Dense(1), 2,101 parameters, adam +
mean squared error) and it is what gets saved and predicts. Only the way it is fitted differs from
`model.fit`, because with 2,101 parameters almost all of a Keras fit's time is overhead
(BENCHMARKS.md has the measurements):

* one XLA-compiled train step (`jit_compile`) computes the mean squared error and its exact gradients
  with a hand-written backward pass through time and applies Adam (Keras' update rule and defaults)
  to all 2,101 weights held as one flat vector; it is compiled once per process and shape, so a
  worker that trains ticker after ticker compiles it once;
* the three layers run as one wavefront: at step k, layer 1 reads day k, layer 2 day k-1 and layer 3
  day k-2, so the 3 x time_step sequential cell updates of a stacked RNN become time_step + 2
  updates of one [batch, 60] x [60, 60] product (and as many in the backward pass);
* Adam's learning rate (the tutorial's 0.001, batch 32) decays along a cosine to 5% by the last
  epoch, which steadies the final weights (larger batches were faster per epoch but less accurate);
* optional early stopping on a validation slice carved from the END of the training windows (never
  the test period), keeping the weights of the best validation epoch; off by default because holding
  out the most recent training days cost accuracy on ^GSPC (BENCHMARKS.md);
* one thread per fit, so that several fits (tickers) share a machine's cores without contention;
* many fits (a chunk's tickers) can train as the lanes of one computation (`train_models`, tasks/training/lanes.py),
  each exactly the fit it would get alone; on a CPU this is as fast as fitting them one by one (the fit is
  compute-bound there, BENCHMARKS.md), on a device with parallel width to spare it is the way to fill it.

The tutorial's own fit (Keras defaults: model.fit, batch 32, constant learning rate) is kept as the
reference in bench/tutorial.py, so that the speed-up and the accuracy are always measured side by side.

TensorFlow/Keras are imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from nightcast.quiet_import import load_keras, load_tensorflow
from nightcast.stage_options import Fitting, TrainOptions
from tasks.training.adam import CHUNK_STEPS, AdamState, compiled_steps
from tasks.training.lanes import Job, train_stack
from tasks.training.models import TrainedModel, build_model, fit_keras
from tasks.training.wavefront import rnn_weights

if TYPE_CHECKING:  # pragma: no cover
    import keras

MAX_LANES = 4
"""Most models one compiled step trains at once (more lanes are trained in several stacks of near-equal size).
Wider stacks are slower per model on CPUs: with two workers training side by side, 0.33-0.36 s a model (5 epochs,
1,900 windows) up to 4 lanes, 0.36-0.44 s at 8, 0.45-0.49 s at 16 and 24 (`python -m bench.lanes`, BENCHMARKS.md)."""


def stacks(count: int, width: int) -> list[range]:
    """count jobs split into the fewest stacks of at most width, their sizes differing by at most one (so a
    chunk compiles at most two lane counts)."""
    parts = -(-count // width)
    size, extra = divmod(count, parts) if parts else (0, 0)
    bounds = [0]
    for i in range(parts):
        bounds.append(bounds[-1] + size + (i < extra))
    return [range(a, b) for a, b in itertools.pairwise(bounds)]


def configure_threads(threads: int) -> bool:
    """Ask TensorFlow for `threads` intra- and inter-op threads (0: its default, all cores).

    Thread pools can only be sized before TensorFlow runs its first operation; later calls change
    nothing and return False.
    """
    load_keras()
    tf = load_tensorflow()

    if threads <= 0:
        return False
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # the runtime is already initialized in this process
        return False
    return True


def train_models(
    jobs: list[Job], options: TrainOptions, log: Callable[[str], None] | None = None
) -> list[TrainedModel]:
    """Fit one model per job, all in one computation (tasks/training/lanes.py): each gets the fit train_model would
    give it alone, to float rounding. Lanes are grouped in near-equal stacks of at most MAX_LANES; each new lane count
    compiles its program once per process."""
    options.check()
    for X, y, _ in jobs:
        if len(X) == 0 or len(X) != len(y):
            raise ValueError(f"need matching, non-empty X and y, got {len(X)} and {len(y)} rows")
    load_keras()
    configure_threads(options.threads)
    fitted: list[TrainedModel] = []
    for part in stacks(len(jobs), MAX_LANES):
        fitted += train_stack(jobs[part.start : part.stop], options, log)
    return fitted


def train_model(
    X: np.ndarray,
    y: np.ndarray,
    options: TrainOptions | None = None,
    log: Callable[[str], None] | None = None,
    initial_weights: list[np.ndarray] | None = None,
) -> TrainedModel:
    """Fit the model on training windows only; the same seed gives the same weights.

    initial_weights (e.g. a champion's `get_weights()`) start the fit from a trained model instead of
    Keras' initialization: a fine-tune. options (None: the settings' defaults, TrainOptions()):

    At most `epochs` epochs of shuffled mini-batches of `batch_size` (the last one partial, as in
    Keras). Adam's learning rate starts at `learning_rate` and decays along a cosine to
    `final_lr_fraction` of it by the last epoch (1.0: constant). The last `validation_fraction` of the
    windows (the end of the training period) is held out: the fit stops once its loss has not improved
    for `patience` epochs (0: never stops early) and keeps the weights of its best epoch.
    `validation_fraction=0` trains on every window and keeps the last epoch's weights.
    """
    return train_models([(X, y, initial_weights)], options or TrainOptions(), log)[0]


def preload(
    time_step: int | None = None,
    batch_size: int = TrainOptions.batch_size,
    jit_compile: bool = TrainOptions.jit_compile,
    threads: int = TrainOptions.threads,
    lanes: int = 1,
) -> float:
    """Import TensorFlow and, given a time_step, compile the train steps for it (and `lanes` models at once)
    ahead of the fit.

    Meant for a background thread of a process that is about to train (e.g. while Prefect starts its
    server), so that neither the import nor the compilation is waited for later. Returns the seconds
    it took. Thread pools are sized here (see configure_threads) because this is TensorFlow's first use.
    """
    started = time.perf_counter()
    load_keras()
    configure_threads(threads)
    if time_step:
        tf = load_tensorflow()

        model = build_model(time_step)
        weights = rnn_weights(model)
        run_steps, _ = compiled_steps(tuple(tuple(v.shape) for v in weights), jit_compile)
        theta = tf.constant(np.concatenate([v.numpy().reshape(-1) for v in weights])[None].repeat(lanes, 0))
        zeros = np.zeros((CHUNK_STEPS, lanes, batch_size), "float32")
        xs = np.zeros((CHUNK_STEPS, lanes, batch_size, time_step, 1), "float32")
        run_steps(
            AdamState(theta, theta, theta, tf.zeros([lanes])),
            np.zeros((CHUNK_STEPS, lanes), "float32"),
            (xs, zeros, zeros),
        )
    return time.perf_counter() - started


def train_with_options(
    X: np.ndarray,
    y: np.ndarray,
    fitting: Fitting,
    kind: str = "simple_rnn",
    log: Callable[[str], None] | None = None,
    start_from: keras.Model | None = None,
) -> TrainedModel:
    """Train a stack of `kind` with the run's training options (fitting): the tutorial's simple_rnn with the
    fast trainer, lstm and gru with Keras' fit.

    With start_from (the candidate's previous version, of the same kind), fine-tune it for
    fitting.fine_tune_epochs instead of training its epochs from scratch.
    """
    if kind == "simple_rnn":
        return train_many_with_options([(X, y, start_from)], fitting, log=log)[0]
    options = fitting.options(fine_tune=start_from is not None)
    return fit_keras(X, y, kind, options, log, None if start_from is None else start_from.get_weights())


def train_many_with_options(
    jobs: list[tuple[np.ndarray, np.ndarray, keras.Model | None]],
    fitting: Fitting,
    kind: str = "simple_rnn",
    log: Callable[[str], None] | None = None,
) -> list[TrainedModel]:
    """train_with_options for many models (X, y, start_from) at once: the simple_rnn ones as lanes of one
    computation per group of equal epochs (fine-tunes, fits from scratch), the others one after another."""
    if kind != "simple_rnn":
        return [train_with_options(X, y, fitting, kind, log, start) for X, y, start in jobs]
    out: dict[int, TrainedModel] = {}
    for tuned in (False, True):
        which = [i for i, job in enumerate(jobs) if (job[2] is not None) == tuned]
        group: list[Job] = []
        for i in which:
            X, y, start = jobs[i]
            group.append((X, y, None if start is None else start.get_weights()))
        if group:
            fitted = train_models(group, fitting.options(fine_tune=tuned), log)
            out.update(zip(which, fitted, strict=True))
    return [out[i] for i in range(len(jobs))]
