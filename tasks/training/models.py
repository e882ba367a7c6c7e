"""The model kinds (the tutorial's SimpleRNN stack, and LSTM and GRU stacks of the same width), their Keras fit
with the options every fit takes (nightcast.stage_options.TrainOptions), the fitted-model record, and the card that
says what a stored model predicts.

The tutorial's `simple_rnn` is trained by the fast trainer in tasks/training/train.py; `lstm` and `gru` are
trained here with Keras' own `fit` (the same Adam, cosine decay and early-stopping settings; Keras
does not XLA-compile its recurrent layers on TensorFlow, so these fits are several times slower).
TensorFlow/Keras are imported inside the functions so that importing this module is cheap.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from nightcast import progress
from nightcast.candidates import KINDS
from nightcast.quiet_import import load_keras, load_tensorflow
from nightcast.stage_options import TrainOptions

if TYPE_CHECKING:  # pragma: no cover
    import keras

UNITS = 20
LAYERS = 3


@dataclass
class TrainedModel:
    """A fitted model with the loss per epoch, the wall time of the fit and its early-stopping record."""

    model: keras.Model
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0
    val_losses: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    """The 1-based epoch whose weights were kept (None: no validation slice, the last epoch's weights)."""

    @property
    def epochs_run(self) -> int:
        """Epochs actually trained (fewer than asked when early stopping ended the fit)."""
        return len(self.losses)


_NOT_ARCHITECTURE = frozenset({"name", "seed", "shared_object_id", "compile_config"})
"""Config keys that differ between models of one architecture (layer names, initializer seeds, the compile
settings of an optimizer)."""


def architecture_of(config: object) -> str:
    """A model's config (Keras' get_config, or a .keras file's config.json) without the keys that differ
    between models of one architecture, as text: two models with equal texts differ only in their weights."""

    def strip(value: object) -> object:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in _NOT_ARCHITECTURE}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return json.dumps(strip(config), sort_keys=True)


_templates = threading.local()


def template(key: str, make: Callable[[], keras.Model]) -> keras.Model:
    """This thread's model for an architecture (a key from architecture_of), made once by make(): the model that
    predicts for every model of that architecture (tasks/training/predict.py) and that every stored model of it
    is loaded as a copy of (flows/model_files.py). Its weights are whatever was last set into it."""
    cache = _templates.__dict__.setdefault("by_architecture", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def build_model(
    time_step: int, units: int = UNITS, learning_rate: float = 0.001, kind: str = "simple_rnn", seed: int = 0
) -> keras.Model:
    """Three recurrent layers of `units` and Dense(1), adam + MSE; simple_rnn at 20 units has 2,101 parameters.

    Every initializer gets its own seed drawn from `seed`. Keras' unseeded initializers draw theirs from
    Python's global `random`, which any other thread (Prefect's workers, say) may advance between
    `set_random_seed` and the model's build: two fits with one seed then started from different weights.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown model {kind!r}: use one of {', '.join(KINDS)}")
    keras = load_keras()
    init = keras.initializers
    seeds = iter(int(s) for s in np.random.SeedSequence(seed).generate_state(2 * LAYERS + 1))
    layer = getattr(keras.layers, KINDS[kind])
    recurrent = [
        layer(
            units,
            return_sequences=i < LAYERS - 1,
            kernel_initializer=init.GlorotUniform(seed=next(seeds)),
            recurrent_initializer=init.Orthogonal(seed=next(seeds)),
        )
        for i in range(LAYERS)
    ]
    model = keras.Sequential(
        [
            keras.Input(shape=(time_step, 1)),
            *recurrent,
            keras.layers.Dense(1, kernel_initializer=init.GlorotUniform(seed=next(seeds))),
        ],
        name=kind,
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss="mean_squared_error")
    return model


def epoch_reporter(epochs: int, log: Callable[[str], None] | None) -> Callable[[int, float, float | None, bool], None]:
    """A function called after every epoch: it logs the loss about ten times per fit (never every epoch of a
    long fit) and advances the training bar of whoever listens to progress."""
    every = max(1, epochs // 10)
    listener = progress.current()
    listener.start("epochs", "training", epochs)

    def report(epoch: int, loss: float, val_loss: float | None, last: bool) -> None:
        listener.advance("epochs")
        if epoch + 1 == epochs or last:
            listener.finish("epochs")
        if log and ((epoch + 1) % every == 0 or epoch + 1 == epochs or last):
            extra = "" if val_loss is None else f" val_loss {val_loss:.6f}"
            log(f"epoch {epoch + 1}/{epochs} loss {loss:.6f}{extra}")

    return report


def start_fit(
    X: np.ndarray, y: np.ndarray, seed: int, validation_fraction: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """Seed Keras and make TensorFlow deterministic; X as (n, time_step, 1) and y as (n,) float32, and how
    many of the last windows the validation slice holds (0 when the fraction leaves none, or nothing to train)."""
    keras = load_keras()
    tf = load_tensorflow()

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    X = np.asarray(X, dtype="float32").reshape(len(X), -1, 1)
    y = np.asarray(y, dtype="float32").reshape(-1)
    n_val = int(len(X) * validation_fraction)
    return X, y, (n_val if 1 <= n_val < len(X) else 0)


def fit_keras(
    X: np.ndarray,
    y: np.ndarray,
    kind: str,
    options: TrainOptions,
    log: Callable[[str], None] | None = None,
    initial_weights: list | None = None,
) -> TrainedModel:
    """Keras' fit of an lstm or gru stack: Adam on a cosine decay, optional early stopping on the most
    recent training windows (Keras' validation_split takes the last ones, before shuffling); the options'
    jit_compile and threads are the fast trainer's and are not used here."""
    keras = load_keras()
    started = time.perf_counter()
    epochs, batch_size, seed = options.epochs, options.batch_size, options.seed
    X, y, n_val = start_fit(X, y, seed, options.validation_fraction)
    steps = epochs * -(-(len(X) - n_val) // min(batch_size, len(X) - n_val))
    model = build_model(X.shape[1], kind=kind, seed=seed)
    rate = keras.optimizers.schedules.CosineDecay(
        options.learning_rate, decay_steps=steps, alpha=options.final_lr_fraction
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=rate), loss="mean_squared_error")
    if initial_weights is not None:
        model.set_weights(initial_weights)
    report = epoch_reporter(epochs, log)
    callbacks = [
        keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: report(epoch, float(logs["loss"]), logs.get("val_loss"), False)
        )
    ]
    if n_val:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                patience=options.patience if options.patience > 0 else epochs + 1, restore_best_weights=True
            )
        )
    history = model.fit(
        X,
        y,
        epochs=epochs,
        batch_size=batch_size,
        shuffle=True,
        verbose=0,
        callbacks=callbacks,
        validation_split=n_val / len(X) if n_val else 0.0,
    )
    val_losses = [float(v) for v in history.history.get("val_loss", [])]
    best = int(np.argmin(val_losses)) + 1 if val_losses else None
    return TrainedModel(
        model=model,
        losses=[float(v) for v in history.history["loss"]],
        seconds=time.perf_counter() - started,
        val_losses=val_losses,
        best_epoch=best,
    )


@dataclass(frozen=True)
class ModelCard:
    """What a stored model is and predicts, written as model.json beside model.keras (flows/model_files.py)."""

    model: str = "simple_rnn"
    target: str = "price"
