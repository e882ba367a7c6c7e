import numpy as np
import pytest

from flows.model_files import load_model, save_model
from nightcast.quiet_import import load_keras, load_tensorflow
from nightcast.stage_options import Fitting, TrainOptions
from tasks.training import adam, wavefront
from tasks.training import train as train_stage
from tasks.training.models import build_model
from tasks.training.train import train_model
from tasks.training.window import make_windows


@pytest.fixture(scope="module")
def sine_windows():
    series = (np.sin(np.linspace(0, 12, 160)) + 2).astype("float32")
    return series, make_windows(series[:120], 10)


def test_model_is_the_tutorials():
    model = build_model(100)
    assert model.count_params() == 2101
    assert [type(layer).__name__ for layer in model.layers] == ["SimpleRNN", "SimpleRNN", "SimpleRNN", "Dense"]
    assert model.loss == "mean_squared_error"


def test_same_seed_same_model(sine_windows):
    _, w = sine_windows
    a = train_model(w.X, w.y, TrainOptions(epochs=2, batch_size=16, seed=3))
    b = train_model(w.X, w.y, TrainOptions(epochs=2, batch_size=16, seed=3))
    c = train_model(w.X, w.y, TrainOptions(epochs=2, batch_size=16, seed=4))
    assert a.losses == b.losses and len(a.losses) == 2
    assert a.losses != c.losses  # the seed matters: initial weights and batch order
    np.testing.assert_array_equal(a.model.predict(w.X[:4], verbose=0), b.model.predict(w.X[:4], verbose=0))
    options = TrainOptions(epochs=4, batch_size=16, seed=3, validation_fraction=0.25, patience=2)
    held_out = [train_model(w.X, w.y, options) for _ in range(2)]
    assert held_out[0].val_losses == held_out[1].val_losses and held_out[0].best_epoch == held_out[1].best_epoch


def test_training_logs_progress_without_flooding(sine_windows):
    _, w = sine_windows
    lines: list[str] = []
    train_model(w.X, w.y, TrainOptions(epochs=20, batch_size=64, seed=1), log=lines.append)
    assert len(lines) == 10 and lines[-1].startswith("epoch 20/20 loss")


def test_model_round_trips_through_keras_file(tmp_path, sine_windows):
    _, w = sine_windows
    trained = train_model(w.X, w.y, TrainOptions(epochs=1, batch_size=32, seed=0))
    save_model(trained.model, tmp_path / "model.keras")
    loaded = load_model(tmp_path / "model.keras")
    np.testing.assert_allclose(loaded.predict(w.X[:5], verbose=0), trained.model.predict(w.X[:5], verbose=0))
    with pytest.raises(ValueError, match=".keras"):
        save_model(trained.model, tmp_path / "model.h5")


def test_train_rejects_empty_or_mismatched():
    with pytest.raises(ValueError, match="matching, non-empty"):
        train_model(np.zeros((0, 5, 1)), np.zeros(0), TrainOptions(epochs=1, batch_size=8, seed=0))


@pytest.mark.parametrize("time_step", [1, 3, 10])
def test_wavefront_pass_is_keras_forward_and_exact_gradients(time_step):
    """The fast train step computes what Keras computes: same outputs, same loss, same gradients.

    Tolerances from float32: an output passes 3 x time_step tanh layers (each a 21-term sum), a gradient sums
    9 windows x time_step steps x 3 layers of products: N <= 30 x 3 x 10 = 900 rounded operations, whose
    errors (a CPU's other summation order included) add up like a random walk, sqrt(N) x eps = 3.6e-6 of the
    terms' size, which the weights drawn here (N(0, 0.3)) keep within a few times each result: outputs and the
    loss to 1e-5, gradients (more terms, more cancellation) to 1e-4, each with a small atol for values near 0.
    """
    tf = load_tensorflow()

    model = build_model(time_step)
    rng = np.random.default_rng(time_step)
    for variable in model.trainable_variables:  # non-trivial biases too
        variable.assign(rng.normal(0, 0.3, variable.shape).astype("float32"))
    x = tf.constant(rng.random((9, time_step, 1), dtype=np.float32))
    y = tf.constant(rng.random(9, dtype=np.float32))
    weights = wavefront.rnn_weights(model)
    values = [v.value for v in weights]
    with tf.GradientTape() as tape:
        keras_loss = tf.reduce_mean(tf.square(tf.reshape(model(x), [-1]) - y))
    keras_grads = tape.gradient(keras_loss, weights)
    np.testing.assert_allclose(
        wavefront.wavefront_predict(x, values).numpy(), model.predict(x, verbose=0).reshape(-1), rtol=1e-5, atol=1e-6
    )
    loss, grads = wavefront.wavefront_loss_and_grads(x, y, tf.ones([9]), values)
    np.testing.assert_allclose(loss.numpy(), keras_loss.numpy(), rtol=1e-5)
    for ours, theirs, variable in zip(grads, keras_grads, weights):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-4, atol=1e-6, err_msg=variable.path)
    # a padded window of weight 0 changes nothing
    x_pad = tf.concat([x, tf.ones([1, time_step, 1])], 0)
    loss_pad, grads_pad = wavefront.wavefront_loss_and_grads(
        x_pad, tf.concat([y, [5.0]], 0), tf.concat([tf.ones([9]), [0.0]], 0), values
    )
    np.testing.assert_allclose(loss_pad.numpy(), loss.numpy(), rtol=1e-6)
    for a, b in zip(grads_pad, grads):  # float32 sums over 10 rows instead of 9: rounding differs (~2e-7)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


EPS32 = float(np.finfo(np.float32).eps)  # 2**-23: the relative rounding of one float32 operation


def test_the_adam_step_is_keras_adam_for_the_same_gradients():
    """Given the same gradients, tasks.training.adam.adam_step moves the weights exactly as keras.optimizers.Adam does.

    Both are the same ~10 elementwise operations per step; each is correctly rounded (IEEE 754), and a CPU may
    fuse a multiply and an add (FMA) where the other does not, changing a result by at most 1 ulp per operation.
    Over 3 steps that bounds the difference by about 3 x 10 ulp of |theta| + the steps' size: 32 eps of it.
    """
    keras = load_keras()
    tf = load_tensorflow()
    rng = np.random.default_rng(0)
    theta0 = rng.normal(0, 0.3, 400).astype("float32")
    grads = [rng.normal(0, 10.0 ** rng.uniform(-6, 0, 400)).astype("float32") for _ in range(3)]
    variable = keras.Variable(theta0)
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    theta, m, v, t = tf.constant(theta0), tf.zeros(400), tf.zeros(400), tf.constant(0.0)
    for g in grads:
        optimizer.apply_gradients([(tf.constant(g), variable)])
        theta, m, v, t = adam.adam_step(theta, m, v, t, tf.constant(0.01), tf.constant(g))
    bound = 32 * EPS32 * (np.abs(theta0) + 3 * 0.01)
    assert np.all(np.abs(theta.numpy() - variable.numpy()) <= bound)
    assert np.abs(theta.numpy() - theta0).min() > 0  # every weight moved: the comparison is not of theta0


def test_the_fast_fit_takes_keras_fits_first_adam_step(sine_windows):
    """One batch, one epoch, a constant rate: train_model and model.fit start from the same weights, report the
    same loss and take the same step.

    Adam's first step is rate * g / (|g| + 1e-7) per weight: a gradient that is off by a relative d moves it by
    only rate * 1e-7 * d / |g|. The gradient is a float32 sum over n = 110 windows through 3 x 10 recurrent
    steps; its rounding (and a CPU's other summation order) stays below (110 + 30) x eps ~ 2e-5 of the terms'
    size, so a weight whose gradient is at least 1e-3 of the largest takes the same step to float32 rounding
    (4 eps of |theta| + rate); one whose gradient is at rounding level may take it the other way (at most
    2 x rate). The loss is a mean of 110 squared errors after 30 layers: 1e-4 relative bounds its rounding.
    """
    keras = load_keras()
    tf = load_tensorflow()
    _, w = sine_windows
    n, rate = len(w.y), 0.01
    ours = train_model(
        w.X, w.y, TrainOptions(epochs=1, batch_size=n, seed=5, learning_rate=rate, final_lr_fraction=1.0)
    )
    keras.utils.set_random_seed(5)
    reference = build_model(w.X.shape[1], learning_rate=rate, seed=5)  # the initial weights train_model starts from
    start = [weight.copy() for weight in reference.get_weights()]
    np.testing.assert_array_equal(
        np.concatenate([s.ravel() for s in start]),
        np.concatenate([s.ravel() for s in build_model(w.X.shape[1], learning_rate=rate, seed=5).get_weights()]),
    )
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(tf.reshape(reference(w.X), [-1]) - w.y))
    g = np.concatenate([grad.numpy().ravel() for grad in tape.gradient(loss, reference.trainable_variables)])
    history = reference.fit(w.X, w.y, epochs=1, batch_size=n, shuffle=False, verbose=0)
    np.testing.assert_allclose(ours.losses, history.history["loss"], rtol=1e-4)
    theta0 = np.concatenate([s.ravel() for s in start])
    a = np.concatenate([x.ravel() for x in ours.model.get_weights()])
    b = np.concatenate([x.ravel() for x in reference.get_weights()])
    clear = np.abs(g) >= 1e-3 * np.abs(g).max()
    assert clear.mean() > 0.9  # nearly every weight is compared tightly
    assert np.all(np.abs(a - b)[clear] <= 4 * EPS32 * (np.abs(theta0[clear]) + rate))
    assert np.all(np.abs(a - b)[~clear] <= 2 * rate)
    assert np.all(np.abs(a - theta0)[clear] > 0.5 * rate)  # the step was taken, not skipped


def test_learning_rate_decays_along_a_cosine_to_the_final_fraction():
    rates = adam.learning_rates(0.01, 0.05, 100)
    assert rates[0] == pytest.approx(0.01) and rates[-1] == pytest.approx(0.0005, rel=0.01)
    assert np.all(np.diff(rates) <= 0)
    np.testing.assert_allclose(adam.learning_rates(0.01, 1.0, 10), 0.01)


def test_early_stopping_holds_out_the_end_of_the_training_windows_only(sine_windows):
    """The validation slice is the most recent training windows: poisoning their targets shows in val_loss
    only, and the fit stops after `patience` epochs without improvement, keeping its best epoch."""
    _, w = sine_windows
    y = w.y.copy()
    y[-22:] = 50.0  # the last 20% of the 110 windows
    lines: list[str] = []
    options = TrainOptions(epochs=60, batch_size=16, seed=2, validation_fraction=0.2, patience=3)
    trained = train_model(w.X, y, options, log=lines.append)
    assert max(trained.losses) < 5.0 < min(trained.val_losses)  # never trained on the poisoned end
    assert trained.epochs_run < 60 and len(trained.val_losses) == trained.epochs_run
    assert trained.best_epoch == int(np.argmin(trained.val_losses)) + 1
    assert trained.epochs_run - trained.best_epoch == 3
    assert lines[-1].startswith(f"early stop after epoch {trained.epochs_run}/60")
    without = train_model(w.X, w.y, TrainOptions(epochs=3, batch_size=16, seed=2))
    assert without.val_losses == [] and without.best_epoch is None and without.epochs_run == 3


def test_settings_drive_training_and_mirror_the_defaults(sine_windows):
    from nightcast.settings import Settings

    defaults = Settings()
    options = ("epochs", "batch_size", "seed", "learning_rate", "final_lr_fraction", "validation_fraction", "patience")
    assert {k: getattr(TrainOptions(), k) for k in options} == {k: getattr(defaults, k) for k in options}
    assert TrainOptions.from_settings(defaults) == TrainOptions()
    assert Fitting.from_settings(defaults).options(fine_tune=True).epochs == defaults.fine_tune_epochs
    assert defaults.epochs == 80  # the tutorial's budget: early stopping may only shorten it
    _, w = sine_windows
    settings = Settings(epochs=4, batch_size=16, seed=1, learning_rate=0.005, validation_fraction=0.2, patience=0)
    via_settings = train_stage.train_with_options(w.X, w.y, Fitting.from_settings(settings))
    direct = train_model(w.X, w.y, TrainOptions(4, 16, 1, learning_rate=0.005, validation_fraction=0.2, patience=0))
    assert via_settings.losses == direct.losses and len(via_settings.val_losses) == 4


def test_training_options_are_checked(sine_windows):
    _, w = sine_windows
    for bad in ({"validation_fraction": 1.0}, {"patience": -1}, {"learning_rate": 0.0}, {"final_lr_fraction": 0.0}):
        with pytest.raises(ValueError):
            train_model(w.X, w.y, TrainOptions(1, 8, 0, **bad))
    with pytest.raises(ValueError, match="at least 1"):
        train_model(w.X, w.y, TrainOptions(0, 8, 0))


def test_preload_compiles_what_the_fit_then_reuses(sine_windows):
    _, w = sine_windows
    time_step, batch = w.X.shape[1], 13  # a batch size no other test trains with: nothing traced for it yet
    shapes = tuple(tuple(v.shape) for v in wavefront.rnn_weights(build_model(time_step)))
    run_steps = adam.compiled_steps(shapes, True)[0]
    traced = run_steps.experimental_get_tracing_count()
    train_stage.preload(time_step=time_step, batch_size=batch)
    assert run_steps.experimental_get_tracing_count() == traced + 1  # preload compiled the step for this shape
    train_model(w.X, w.y, TrainOptions(epochs=1, batch_size=batch, seed=0))
    assert run_steps.experimental_get_tracing_count() == traced + 1  # the fit reused it: no new trace
    train_model(w.X, w.y, TrainOptions(epochs=1, batch_size=batch + 1, seed=0))
    assert run_steps.experimental_get_tracing_count() == traced + 2  # the count does see a new shape


def test_importing_the_train_stage_does_not_import_tensorflow():
    import subprocess
    import sys

    code = "import sys, tasks.training.train; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "False", done.stderr
