"""Train stage: the tutorial's stacked SimpleRNN, seeded and saved as a .keras file.

TensorFlow/Keras are imported inside the functions so that importing this module stays cheap.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import keras

UNITS = 20
LAYERS = 3


@dataclass
class TrainedModel:
    """A fitted model with the loss per epoch and the wall time of the fit."""

    model: "keras.Model"
    losses: list[float] = field(default_factory=list)
    seconds: float = 0.0


def _keras():
    """Import Keras on the TensorFlow backend, quietly."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    return keras


def build_model(time_step: int, units: int = UNITS) -> "keras.Model":
    """Three SimpleRNN(units) layers and Dense(1): 2,101 parameters at units=20, adam + MSE."""
    keras = _keras()
    model = keras.Sequential([
        keras.Input(shape=(time_step, 1)),
        keras.layers.SimpleRNN(units, return_sequences=True),
        keras.layers.SimpleRNN(units, return_sequences=True),
        keras.layers.SimpleRNN(units),
        keras.layers.Dense(1),
    ], name="simple_rnn")
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def _progress_callback(epochs: int, log: Callable[[str], None]):
    """A Keras callback that logs the loss about ten times per fit, never every epoch of a long fit."""
    keras = _keras()
    every = max(1, epochs // 10)

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if (epoch + 1) % every == 0 or epoch + 1 == epochs:
                log(f"epoch {epoch + 1}/{epochs} loss {float((logs or {}).get('loss', float('nan'))):.6f}")

    return EpochLog()


def train_model(X: np.ndarray, y: np.ndarray, epochs: int, batch_size: int, seed: int,
                log: Callable[[str], None] | None = None) -> TrainedModel:
    """Fit the model on training windows only; the same seed gives the same weights."""
    if len(X) == 0 or len(X) != len(y):
        raise ValueError(f"need matching, non-empty X and y, got {len(X)} and {len(y)} rows")
    keras = _keras()
    keras.utils.set_random_seed(seed)
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    model = build_model(X.shape[1])
    callbacks = [_progress_callback(epochs, log)] if log else []
    started = time.perf_counter()
    history = model.fit(X, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                        callbacks=callbacks)
    seconds = time.perf_counter() - started
    return TrainedModel(model=model, losses=[float(v) for v in history.history["loss"]], seconds=seconds)


def save_model(model: "keras.Model", path: Path) -> None:
    """Write the model in Keras 3's .keras format (no pickle)."""
    if path.suffix != ".keras":
        raise ValueError(f"model files end in .keras, got {path.name}")
    model.save(path)


def load_model(path: Path) -> "keras.Model":
    """Load a .keras model with safe mode on (no arbitrary code from the file)."""
    keras = _keras()
    return keras.models.load_model(path, safe_mode=True)
