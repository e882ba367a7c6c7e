"""Model kinds: LSTM and GRU stacks of the tutorial's width, their Keras fit, and the model card."""

import random
import threading
import time

import numpy as np
import pytest

from flows.model_files import load_model, read_card, save_model, write_card
from nightcast.candidates import KINDS
from nightcast.settings import Settings
from nightcast.stage_options import Fitting, TrainOptions
from tasks.training.models import ModelCard, build_model, fit_keras
from tasks.training.train import train_with_options
from tasks.training.window import make_windows


@pytest.fixture(scope="module")
def windows():
    series = (np.sin(np.linspace(0, 12, 90)) + 2).astype("float32") / 3
    return make_windows(series, 8)


@pytest.mark.parametrize(
    "kind, layer, params",
    [
        ("simple_rnn", "SimpleRNN", 2101),
        ("lstm", "LSTM", 4 * (20 * 21 + 20) + 2 * 4 * (20 * 40 + 20) + 21),  # 3 LSTM(20) + Dense(1) = 8,421
        ("gru", "GRU", 3 * (20 * 21 + 40) + 2 * 3 * (20 * 40 + 40) + 21),  # Keras' reset_after GRU: 6,441
    ],
)
def test_kinds_are_three_recurrent_layers_of_20_and_a_dense(kind, layer, params):
    model = build_model(100, kind=kind)
    assert [type(x).__name__ for x in model.layers] == [layer] * 3 + ["Dense"]
    assert model.count_params() == params and model.name == kind


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown model 'transformer': use one of simple_rnn, lstm, gru"):
        build_model(10, kind="transformer")


@pytest.fixture
def busy_global_random():
    """Another thread drawing from Python's global `random` all along, as Prefect's workers may do."""
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()
            time.sleep(0.0001)

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join()


def fit(windows, kind, seed=1, log=None, **extra):
    options = dict(learning_rate=0.01, final_lr_fraction=0.05, validation_fraction=0.0, patience=0)
    return fit_keras(windows.X, windows.y, kind, TrainOptions(3, 16, seed, **{**options, **extra}), log)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_keras_fit_learns_and_is_reproducible(windows, kind, busy_global_random):
    a, b = fit(windows, kind), fit(windows, kind)
    assert len(a.losses) == 3 and a.losses == b.losses and a.losses[-1] < a.losses[0]
    np.testing.assert_array_equal(a.model.predict_on_batch(windows.X[:5]), b.model.predict_on_batch(windows.X[:5]))
    assert fit(windows, kind, seed=2).losses != a.losses


def test_one_seed_gives_one_model_while_other_threads_draw_random_numbers(windows, busy_global_random):
    """The fast trainer's side (the Keras fit's: test_keras_fit_learns_and_is_reproducible)."""
    settings = Settings(epochs=2, batch_size=16, time_step=8, validation_fraction=0.0)
    a, b = (train_with_options(windows.X, windows.y, Fitting.from_settings(settings), "simple_rnn") for _ in range(2))
    for x, y in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)


def test_the_seed_sets_every_initial_weight():
    same = [build_model(8, seed=3).get_weights() for _ in range(2)]
    other = build_model(8, seed=4).get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(*same, strict=True))
    assert not any(np.array_equal(x, y) for x, y in zip(same[0], other, strict=True) if x.any())


def test_keras_fit_keeps_the_best_validation_epoch_and_logs_sparingly(windows):
    lines = []
    trained = fit(windows, "gru", validation_fraction=0.25, patience=1, log=lines.append)
    assert len(trained.val_losses) == trained.epochs_run >= 2
    assert trained.best_epoch == int(np.argmin(trained.val_losses)) + 1
    assert lines and all(line.startswith("epoch ") for line in lines) and len(lines) <= trained.epochs_run


def test_train_with_options_picks_the_trainer_and_fine_tunes_from_the_previous_version(windows):
    settings = Settings(epochs=2, fine_tune_epochs=1, batch_size=16, time_step=8)
    fitting = Fitting.from_settings(settings)
    first = train_with_options(windows.X, windows.y, fitting, kind="lstm")
    assert first.model.name == "lstm" and first.epochs_run == 2
    tuned = train_with_options(windows.X, windows.y, fitting, kind="lstm", start_from=first.model)
    assert tuned.epochs_run == 1 and tuned.model.name == "lstm"
    # it starts from the previous version's weights: its first loss is that model's level, not a fresh one's
    fresh = fit(windows, "lstm", seed=settings.seed, learning_rate=settings.learning_rate)
    assert tuned.losses[0] < fresh.losses[0]


def test_model_and_card_round_trip(tmp_path, windows):
    trained = fit(windows, "gru")
    save_model(trained.model, tmp_path / "model.keras")
    write_card(ModelCard(model="gru", target="log_return"), tmp_path / "model.json")
    loaded = load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(
        loaded.predict_on_batch(windows.X[:4]), trained.model.predict_on_batch(windows.X[:4]), rtol=1e-6
    )
    assert read_card(tmp_path / "model.json") == ModelCard("gru", "log_return")
    assert read_card(tmp_path / "missing.json") == ModelCard("simple_rnn", "price")  # stored before cards
    assert tuple(KINDS) == ("simple_rnn", "lstm", "gru")


def test_one_predictor_per_architecture_gives_each_model_its_own_outputs(windows):
    """predictor() runs every model of an architecture through one traced template holding its weights: each
    model's outputs are exactly its own predict_on_batch's, in this thread and in another (a thread's own
    template), and a model of another architecture (a GRU; the same layers with another activation) gets its own
    template."""
    import threading

    from nightcast.quiet_import import load_keras
    from tasks.training import models as models_module
    from tasks.training import predict

    keras = load_keras()
    relu = keras.Sequential(
        [
            keras.Input(shape=(8, 1)),
            *(keras.layers.SimpleRNN(20, activation="relu", return_sequences=i < 2) for i in range(3)),
            keras.layers.Dense(1),
        ]
    )
    models = [build_model(8, seed=s) for s in (1, 2)] + [build_model(8, seed=3, kind="gru"), relu]
    X = windows.X[:6]
    own = [np.asarray(m.predict_on_batch(X)) for m in models]
    assert not np.array_equal(own[0], own[1])
    for _ in range(2):  # the first model again after the second: its weights are set again
        for m, expected in zip(models, own, strict=True):
            np.testing.assert_array_equal(predict.predictor(m)(X), expected)
    keys = [models_module.architecture_of({"class": type(m).__name__, "config": m.get_config()}) for m in models]
    assert keys[0] == keys[1] and len(set(keys)) == 3  # simple_rnn twice, gru, and simple_rnn with relu
    assert set(keys) <= set(models_module._templates.by_architecture)
    seen: list[np.ndarray] = []
    worker = threading.Thread(target=lambda: seen.append(predict.predictor(models[1])(X)))
    worker.start()
    worker.join()
    np.testing.assert_array_equal(seen[0], own[1])


def test_models_of_one_architecture_load_through_one_template(tmp_path, windows):
    """load_model copies a template per architecture and loads the file's weights into it: each file gives its
    own weights and outputs; another architecture (kind, window length, an activation) gets a template of its
    own, never the weights of one file in the layers of another."""
    import json
    import zipfile

    from nightcast.quiet_import import load_keras
    from tasks.training import models as models_module
    from tasks.training.models import architecture_of

    keras = load_keras()
    models = {
        "a": build_model(8, seed=1),
        "b": build_model(8, seed=2),
        "gru": build_model(8, seed=1, kind="gru"),
        "long": build_model(12, seed=1),
    }
    relu = keras.Sequential(
        [
            keras.Input(shape=(8, 1)),
            *(keras.layers.SimpleRNN(20, activation="relu", return_sequences=i < 2) for i in range(3)),
            keras.layers.Dense(1),
        ]
    )
    models["relu"] = relu
    for name, model in models.items():
        save_model(model, tmp_path / f"{name}.keras")
    for _ in range(2):
        for name, model in models.items():
            loaded = load_model(tmp_path / f"{name}.keras")
            for got, want in zip(loaded.get_weights(), model.get_weights(), strict=True):
                np.testing.assert_array_equal(got, want)
            X = np.ones((2, int(model.input_shape[1]), 1), "float32") * 0.3
            np.testing.assert_array_equal(loaded.predict_on_batch(X), model.predict_on_batch(X))
    keys = {}
    for name in models:
        with zipfile.ZipFile(tmp_path / f"{name}.keras") as archive:
            keys[name] = architecture_of(json.loads(archive.read("config.json")))
    assert keys["a"] == keys["b"]  # a and b share one template; gru, long and relu have their own
    assert len({keys[n] for n in ("a", "gru", "long", "relu")}) == 4
    assert set(keys.values()) <= set(models_module._templates.by_architecture)
