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
* one thread per fit, so that several fits (tickers) share a machine's cores without contention.

The tutorial's own fit (Keras defaults: model.fit, batch 32, constant learning rate) is kept as the
reference in bench/tutorial.py, so that the speed-up and the accuracy are always measured side by side.

TensorFlow/Keras are imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from nightcast.quiet_import import load_keras, load_tensorflow
from nightcast.settings import Settings
from tasks.adam import CHUNK_STEPS, assign_flat, compiled_steps, learning_rates, padded, store_adam_state
from tasks.models import TrainedModel, build_model, epoch_reporter, fit_keras, start_fit
from tasks.wavefront import rnn_weights

if TYPE_CHECKING:  # pragma: no cover
    import keras

DEFAULTS = Settings.model_fields
"""The training options' defaults are the settings' own: one definition."""
DEFAULT_THREADS = 1
"""TensorFlow threads per fit: one, so that several fits (tickers) share a machine's cores."""


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


def train_model(
    X: np.ndarray,
    y: np.ndarray,
    epochs: int,
    batch_size: int = DEFAULTS["batch_size"].default,
    seed: int = DEFAULTS["seed"].default,
    log: Callable[[str], None] | None = None,
    *,
    learning_rate: float = DEFAULTS["learning_rate"].default,
    final_lr_fraction: float = DEFAULTS["final_lr_fraction"].default,
    validation_fraction: float = DEFAULTS["validation_fraction"].default,
    patience: int = DEFAULTS["patience"].default,
    jit_compile: bool = True,
    threads: int = DEFAULT_THREADS,
    initial_weights: list[np.ndarray] | None = None,
) -> TrainedModel:
    """Fit the model on training windows only; the same seed gives the same weights.

    initial_weights (e.g. a champion's `get_weights()`) start the fit from a trained model instead of
    Keras' initialization: a fine-tune.

    At most `epochs` epochs of shuffled mini-batches of `batch_size` (the last one partial, as in
    Keras). Adam's learning rate starts at `learning_rate` and decays along a cosine to
    `final_lr_fraction` of it by the last epoch (1.0: constant). The last `validation_fraction` of the
    windows (the end of the training period) is held out: the fit stops once its loss has not improved
    for `patience` epochs (0: never stops early) and keeps the weights of its best epoch.
    `validation_fraction=0` trains on every window and keeps the last epoch's weights.
    """
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"need matching, non-empty X and y, got {len(X)} and {len(y)} rows")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, got {epochs} and {batch_size}")
    if not 0.0 <= validation_fraction < 1.0 or patience < 0 or learning_rate <= 0 or not 0 < final_lr_fraction <= 1:
        raise ValueError(
            "need 0 <= validation_fraction < 1, patience >= 0, learning_rate > 0 and 0 < final_lr_fraction <= 1"
        )
    load_keras()
    configure_threads(threads)
    tf = load_tensorflow()

    started = time.perf_counter()
    X, y, n_val = start_fit(X, y, seed, validation_fraction)
    n = len(X) - n_val
    batch = min(batch_size, n)
    steps = -(-n // batch)
    rates = learning_rates(learning_rate, final_lr_fraction, epochs * steps)
    model = build_model(X.shape[1], learning_rate=learning_rate, seed=seed)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    weights = rnn_weights(model)
    shapes = tuple(tuple(v.shape) for v in weights)
    run_steps, sse = compiled_steps(shapes, jit_compile)
    theta = tf.constant(np.concatenate([v.numpy().reshape(-1) for v in weights]))
    m = v = tf.zeros_like(theta)
    t = tf.constant(0.0)

    # Every batch has one shape (so one compiled program serves every fit in this process): the last
    # training batch and the validation chunks are padded with weight-0 windows, and each epoch with
    # all-0 batches (skipped) up to a whole number of CHUNK_STEPS.
    calls = -(-steps // CHUNK_STEPS)
    slots = calls * CHUNK_STEPS * batch
    X_train, y_train, w_train = padded(X[:n], y[:n], slots)
    if n_val:
        chunks = -(-n_val // batch)
        X_val, y_val, w_val = padded(X[n:], y[n:], chunks * batch)
        val_batches = [
            (tf.constant(X_val[i : i + batch]), tf.constant(y_val[i : i + batch]), tf.constant(w_val[i : i + batch]))
            for i in range(0, chunks * batch, batch)
        ]

    rng = np.random.default_rng(seed)
    report = epoch_reporter(epochs, log)
    losses: list[float] = []
    val_losses: list[float] = []
    best_loss, best_theta, best_epoch, waited = math.inf, None, None, 0
    shape = (calls, CHUNK_STEPS, batch)
    for epoch in range(epochs):
        order = np.concatenate([rng.permutation(n), np.arange(n, slots)])
        xs = X_train[order].reshape(shape + X.shape[1:])
        ys, ws = y_train[order].reshape(shape), w_train[order].reshape(shape)
        epoch_rates = np.zeros(calls * CHUNK_STEPS, "float32")
        epoch_rates[:steps] = rates[epoch * steps : (epoch + 1) * steps]
        chunk_rates = epoch_rates.reshape(calls, CHUNK_STEPS)
        batch_losses = []
        for c in range(calls):
            theta, m, v, t, chunk_losses = run_steps(theta, m, v, t, chunk_rates[c], xs[c], ys[c], ws[c])
            batch_losses.append(chunk_losses)
        losses.append(float(np.dot(np.concatenate([b.numpy() for b in batch_losses]), ws.sum(axis=2).reshape(-1)) / n))
        val_loss = None
        stop = False
        if n_val:
            val_loss = float(sum(sse(theta, *b) for b in val_batches)) / n_val
            val_losses.append(val_loss)
            if val_loss < best_loss:
                best_loss, best_theta, best_epoch, waited = val_loss, theta, epoch + 1, 0
            else:
                waited += 1
                stop = patience > 0 and waited >= patience
        report(epoch, losses[-1], val_loss, stop)
        if stop:
            if log:
                log(
                    f"early stop after epoch {epoch + 1}/{epochs}: validation loss not improved for "
                    f"{patience} epochs; keeping epoch {best_epoch} (val_loss {best_loss:.6f})"
                )
            break
    assign_flat(weights, (best_theta if best_theta is not None else theta).numpy())
    store_adam_state(model.optimizer, weights, m.numpy(), v.numpy(), int(t.numpy()))
    seconds = time.perf_counter() - started
    return TrainedModel(model=model, losses=losses, seconds=seconds, val_losses=val_losses, best_epoch=best_epoch)


def preload(
    time_step: int | None = None,
    batch_size: int = DEFAULTS["batch_size"].default,
    jit_compile: bool = True,
    threads: int = DEFAULT_THREADS,
) -> float:
    """Import TensorFlow and, given a time_step, compile the train steps for it ahead of the fit.

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
        theta = tf.constant(np.concatenate([v.numpy().reshape(-1) for v in weights]))
        zeros = np.zeros((CHUNK_STEPS, batch_size), "float32")
        run_steps(
            theta,
            theta,
            theta,
            tf.constant(0.0),
            np.zeros(CHUNK_STEPS, "float32"),
            np.zeros((CHUNK_STEPS, batch_size, time_step, 1), "float32"),
            zeros,
            zeros,
        )
    return time.perf_counter() - started


def train_with_settings(
    X: np.ndarray,
    y: np.ndarray,
    settings: Settings,
    kind: str = "simple_rnn",
    log: Callable[[str], None] | None = None,
    start_from: keras.Model | None = None,
) -> TrainedModel:
    """Train a stack of `kind` with every training option taken from the run's Settings: the tutorial's
    simple_rnn with the fast trainer, lstm and gru with Keras' fit.

    With start_from (the candidate's previous version, of the same kind), fine-tune it for
    settings.fine_tune_epochs instead of training settings.epochs from scratch.
    """
    epochs = settings.fine_tune_epochs if start_from is not None else settings.epochs
    weights = None if start_from is None else start_from.get_weights()
    rate, final, held_out = settings.learning_rate, settings.final_lr_fraction, settings.validation_fraction
    options: dict[str, Any] = {
        "log": log,
        "learning_rate": rate,
        "final_lr_fraction": final,
        "validation_fraction": held_out,
        "patience": settings.patience,
        "initial_weights": weights,
    }
    if kind == "simple_rnn":
        return train_model(X, y, epochs, settings.batch_size, settings.seed, **options)
    return fit_keras(X, y, kind, epochs, settings.batch_size, settings.seed, **options)
