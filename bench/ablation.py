"""Speed of each training technique on its own (GOOG, seed 0): `python -m bench --only ablation`.

Every variant runs in a fresh process: it builds the tutorial's model, runs one epoch (which includes
tracing and compilation) and then EPOCHS more; the report is the first epoch and the steady seconds
per epoch. Not part of the default `make bench` run (about three minutes more).
"""

from __future__ import annotations

import json
import sys
import time

from nightcast.quiet_import import load_keras, load_tensorflow

EPOCHS = 6
VARIANTS = {
    "keras-fit": "Keras model.fit, defaults (batch 32): the tutorial-faithful fit",
    "keras-fit-1thread": "+ TensorFlow thread pools of 1 (intra/inter op)",
    "keras-fit-xla": "Keras fit, jit_compile=True (XLA)",
    "keras-fit-tfdata": "Keras fit on a tf.data pipeline (shuffle, batch 32, prefetch)",
    "keras-fit-b128": "Keras fit, batch 128",
    "keras-fit-spe": "Keras fit, steps_per_execution = one epoch, XLA",
    "custom-autodiff-xla": "custom train step: GradientTape through the Keras layers, XLA, 1 step per call",
    "wavefront-graph": "wavefront RNN + hand-written BPTT, tf.function without XLA, 1 step per call",
    "wavefront-xla": "wavefront RNN + hand-written BPTT, XLA, 1 step per call",
    "nightcast": "nightcast default: wavefront + BPTT, XLA, 16 steps per call, 1 thread",
}


def _keras_variant(name: str, data) -> tuple[float, float]:
    keras = load_keras()
    tf = load_tensorflow()

    from bench.tutorial import tutorial_model

    if name == "keras-fit-1thread":
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(0)
    model = tutorial_model(data.train_X.shape[1])
    batch = 128 if name == "keras-fit-b128" else 32
    if name in ("keras-fit-xla", "keras-fit-spe"):
        steps = -(-len(data.train_y) // batch)
        model.compile(
            optimizer="adam",
            loss="mean_squared_error",
            jit_compile=True,
            steps_per_execution=steps if name == "keras-fit-spe" else 1,
        )
    if name == "keras-fit-tfdata":
        dataset = (
            tf.data.Dataset.from_tensor_slices((data.train_X, data.train_y))
            .shuffle(len(data.train_y), seed=0)
            .batch(batch)
            .prefetch(tf.data.AUTOTUNE)
        )
        fit = lambda epochs: model.fit(dataset, epochs=epochs, verbose=0)
    else:
        fit = lambda epochs: model.fit(data.train_X, data.train_y, epochs=epochs, batch_size=batch, verbose=0)
    started = time.perf_counter()
    fit(1)
    first = time.perf_counter() - started
    started = time.perf_counter()
    fit(EPOCHS)
    return first, (time.perf_counter() - started) / EPOCHS


def _custom_variant(name: str, data) -> tuple[float, float]:
    import numpy as np

    tf = load_tensorflow()

    from tasks.training import train, wavefront
    from tasks.training.models import build_model

    train.configure_threads(1)
    model = build_model(data.train_X.shape[1])
    weights = wavefront.rnn_weights(model)
    optimizer = model.optimizer
    optimizer.build(weights)
    jit = name != "wavefront-graph"

    @tf.function(jit_compile=jit)
    def step(x, y):
        if name == "custom-autodiff-xla":
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.square(tf.reshape(model(x), [-1]) - y))
            grads = tape.gradient(loss, weights)
        else:
            loss, grads = wavefront.wavefront_loss_and_grads(
                x, y, tf.ones([tf.shape(x)[0]]), [v.value for v in weights]
            )
        optimizer.apply(grads, weights)
        return loss

    n, batch = len(data.train_y), 32
    usable = n - n % batch
    rng = np.random.default_rng(0)

    def epoch():
        order = rng.permutation(n)[:usable]
        xs, ys = data.train_X[order], data.train_y[order]
        for i in range(0, usable, batch):
            loss = step(xs[i : i + batch], ys[i : i + batch])
        float(loss)

    started = time.perf_counter()
    epoch()
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(EPOCHS):
        epoch()
    return first, (time.perf_counter() - started) / EPOCHS


def _nightcast_variant(data) -> tuple[float, float]:
    from nightcast.stage_options import TrainOptions
    from tasks.training import train

    load_keras()
    started = time.perf_counter()
    train.train_model(data.train_X, data.train_y, TrainOptions(1, 32, 0))
    first = time.perf_counter() - started  # a fresh fit: includes tracing and compilation
    started = time.perf_counter()
    train.train_model(data.train_X, data.train_y, TrainOptions(EPOCHS, 32, 0))  # reuses the compiled program
    return first, (time.perf_counter() - started) / EPOCHS


def run_variant(name: str) -> dict:
    from bench.common import load_series

    data = load_series("GOOG")
    load_keras()  # TensorFlow imported before any clock starts

    if name.startswith("keras"):
        first, per_epoch = _keras_variant(name, data)
    elif name == "nightcast":
        first, per_epoch = _nightcast_variant(data)
    else:
        first, per_epoch = _custom_variant(name, data)
    return {"variant": name, "first_epoch_s": first, "per_epoch_s": per_epoch}


def measure() -> list[dict]:
    from bench.common import PYTHON, run_process

    results = []
    for name in VARIANTS:
        print(f"[{time.strftime('%H:%M:%S')}] ablation: {name}", file=sys.stderr, flush=True)
        result = run_process([PYTHON, "-m", "bench.ablation", name])
        try:
            results.append({**result.json(), "description": VARIANTS[name]})
        except RuntimeError as error:
            results.append({"variant": name, "description": VARIANTS[name], "error": str(error)[-300:]})
    return results


if __name__ == "__main__":
    print(json.dumps(run_variant(sys.argv[1])), flush=True)
