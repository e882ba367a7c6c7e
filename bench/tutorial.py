"""The tutorial-faithful reference: the fit and the windowing loop that nightcast's figures are compared to.

`tutorial_fit` is the tutorial's training with Keras defaults: the same model, compiled with
optimizer='adam' and loss='mean_squared_error' and nothing else, `model.fit(X, y, epochs=80,
batch_size=32)` with Keras' default shuffling, on the SAME windows nightcast trains on (nightcast's
correct windows and training-only scaler), so that only the fit differs. The tutorial's
validation_data=(X_test, y_test) is left out: it only reports, it never changes the fit, and looking at
the test set during training is exactly what nightcast must not do.

`tutorial_create_dataset` is the tutorial's Python loop (in its usual, working form: every window is
filled, the last one is still dropped as in the tutorial).
"""

from __future__ import annotations

import numpy as np

from nightcast.quiet_import import load_keras

TUTORIAL_EPOCHS = 80
TUTORIAL_BATCH_SIZE = 32


def tutorial_model(time_step: int):
    """The tutorial's Sequential: SimpleRNN(20, return_sequences=True) x2, SimpleRNN(20), Dense(1)."""
    keras = load_keras()

    model = keras.Sequential()
    model.add(keras.Input(shape=(time_step, 1)))
    model.add(keras.layers.SimpleRNN(20, return_sequences=True))
    model.add(keras.layers.SimpleRNN(20, return_sequences=True))
    model.add(keras.layers.SimpleRNN(20))
    model.add(keras.layers.Dense(1))
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def tutorial_fit(X: np.ndarray, y: np.ndarray, seed: int, epochs: int = TUTORIAL_EPOCHS):
    """Fit the tutorial's model with Keras defaults (batch 32, adam at 0.001, shuffled); returns (model, history)."""
    keras = load_keras()

    keras.utils.set_random_seed(seed)
    model = tutorial_model(X.shape[1])
    history = model.fit(X, y, epochs=epochs, batch_size=TUTORIAL_BATCH_SIZE, verbose=0)
    return model, history


def tutorial_create_dataset(dataset: np.ndarray, time_step: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """The tutorial's windowing loop over a (n, 1) array of scaled closes."""
    dataX, dataY = [], []
    for i in range(len(dataset) - time_step - 1):
        a = dataset[i : (i + time_step), 0]
        dataX.append(a)
        dataY.append(dataset[i + time_step, 0])
    return np.array(dataX), np.array(dataY)
