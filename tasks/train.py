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
from typing import TYPE_CHECKING, Callable

import numpy as np

from tasks.models import (LAYERS, UNITS, ModelCard, TrainedModel, _keras, build_model,  # noqa: F401 (re-exported)
                          fit_keras, load_model, progress, save_model, start_fit)

if TYPE_CHECKING:  # pragma: no cover
    import keras

    from nightcast.settings import Settings

DEFAULT_BATCH_SIZE = 32
DEFAULT_LEARNING_RATE = 0.001
DEFAULT_FINAL_LR_FRACTION = 0.05
DEFAULT_VALIDATION_FRACTION = 0.0
DEFAULT_PATIENCE = 10
DEFAULT_THREADS = 1
"""Mirrors of the Settings defaults, for callers (tests, benchmarks) that do not pass Settings."""


def configure_threads(threads: int) -> bool:
    """Ask TensorFlow for `threads` intra- and inter-op threads (0: its default, all cores).

    Thread pools can only be sized before TensorFlow runs its first operation; later calls change
    nothing and return False.
    """
    _keras()
    import tensorflow as tf

    if threads <= 0:
        return False
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # the runtime is already initialized in this process
        return False
    return True


def rnn_weights(model: "keras.Model") -> list:
    """The model's 11 weight variables in the order the wavefront step uses (and Keras trains them).

    kernel, recurrent kernel and bias of each SimpleRNN, then the Dense kernel and bias. Anything but the
    tutorial's stack (tanh SimpleRNNs with biases, a linear Dense(1)) is refused.
    """
    keras = _keras()
    layers = model.layers
    rnns, dense = layers[:-1], layers[-1]
    if (len(rnns) != LAYERS or not all(isinstance(layer, keras.layers.SimpleRNN) for layer in rnns)
            or not isinstance(dense, keras.layers.Dense) or dense.units != 1):
        raise ValueError("the fast train step supports only SimpleRNN x3 + Dense(1)")
    weights = []
    for layer in rnns:
        cell = layer.cell
        if cell.activation is not keras.activations.tanh or not cell.use_bias or layer.go_backwards:
            raise ValueError("the fast train step supports only tanh SimpleRNN layers with biases")
        weights += [cell.kernel, cell.recurrent_kernel, cell.bias]
    if dense.activation is not keras.activations.linear or not dense.use_bias:
        raise ValueError("the fast train step supports only a linear Dense(1) with bias")
    weights += [dense.kernel, dense.bias]
    if [id(v) for v in weights] != [id(v) for v in model.trainable_variables]:
        raise ValueError("unexpected trainable variables")
    return weights


def _wavefront(tf, x, weights):
    """Everything the forward and backward passes share: the block matrix, inputs and masks.

    State s = [h1, h2, h3] ([batch, 3U]). At wavefront step k (0 <= k < T + 2) layer 1 computes day k,
    layer 2 day k - 1 and layer 3 day k - 2, each from the previous step's state:
        s_k = mask_k * tanh(s_{k-1} @ M + c_k),  M = [[R1, K2, 0], [0, R2, K3], [0, 0, R3]],
        c_k = [x_k K1 + b1, b2, b3],
    mask_k switches layer l off (keeps its state 0 = Keras' initial state) while k < l. Layer 1's
    values at k >= T are never read by anything that reaches the output. Layer 3's state after the last
    step is the last layer's output at day T - 1, exactly what Keras computes.
    """
    k1, r1, b1, k2, r2, b2, k3, r3, b3, _, _ = weights
    units = r1.shape[0]
    steps = x.shape[1] + 2
    batch = tf.shape(x)[0]
    zero = tf.zeros([units, units], x.dtype)
    M = tf.concat([tf.concat([r1, k2, zero], 1), tf.concat([zero, r2, k3], 1),
                   tf.concat([zero, zero, r3], 1)], 0)
    z1 = tf.concat([tf.einsum("btf,fu->tbu", x, k1) + b1, tf.zeros([2, batch, units], x.dtype)], 0)
    c = tf.concat([z1, tf.broadcast_to(tf.concat([b2, b3], 0), [steps, batch, 2 * units])], 2)
    mask = tf.cast(tf.range(steps)[:, None] >= tf.repeat(tf.range(LAYERS), units)[None, :], x.dtype)
    return M, c, mask[:, None, :], units, steps, batch


def wavefront_predict(x, weights):
    """The model's output for windows x ([batch, T, 1]) computed the wavefront way (a TensorFlow op)."""
    import tensorflow as tf

    M, c, mask, units, steps, batch = _wavefront(tf, x, weights)

    def body(k, s):
        return k + 1, tf.tanh(s @ M + c[k]) * mask[k]

    _, s = tf.while_loop(lambda k, s: k < steps, body, (tf.constant(0), tf.zeros([batch, LAYERS * units], x.dtype)),
                         maximum_iterations=steps)
    kd, bd = weights[-2], weights[-1]
    return tf.reshape(s[:, 2 * units:] @ kd + bd, [-1])


def wavefront_loss_and_grads(x, y, w, weights):
    """Weighted mean squared error of the model on (x, y) and its exact gradients for `weights`.

    w holds one weight per window (1 for real windows, 0 for padding); the loss is sum(w e^2) / sum(w),
    which is Keras' mean squared error when every weight is 1. The backward pass through time is
    written out: dpre_k = g_k * mask_k * (1 - s_k^2), g_{k-1} = dpre_k @ M^T, and the weight gradients
    are sums over every step, computed as single products after the loop.
    """
    import tensorflow as tf

    M, c, mask, units, steps, batch = _wavefront(tf, x, weights)
    width = LAYERS * units
    states = tf.TensorArray(x.dtype, size=steps, clear_after_read=False)

    def forward(k, s, states):
        s = tf.tanh(s @ M + c[k]) * mask[k]
        return k + 1, s, states.write(k, s)

    _, last, states = tf.while_loop(lambda k, *_: k < steps, forward,
                                    (tf.constant(0), tf.zeros([batch, width], x.dtype), states),
                                    maximum_iterations=steps)
    S = states.stack()  # [steps, batch, 3U]
    kd, bd = weights[-2], weights[-1]
    h3 = last[:, 2 * units:]
    error = tf.reshape(h3 @ kd + bd, [-1]) - y
    total = tf.reduce_sum(w)
    loss = tf.reduce_sum(w * error * error) / total
    d_out = (2.0 * w * error / total)[:, None]  # dloss/dprediction, [batch, 1]
    d_kd = tf.transpose(h3) @ d_out
    d_bd = tf.reduce_sum(d_out, 0)
    g = tf.concat([tf.zeros([batch, 2 * units], x.dtype), d_out @ tf.transpose(kd)], 1)
    MT = tf.transpose(M)
    dpres = tf.TensorArray(x.dtype, size=steps)

    def backward(i, g, dpres):
        k = steps - 1 - i
        s = S[k]
        dpre = g * (1.0 - s * s) * mask[k]
        return i + 1, dpre @ MT, dpres.write(k, dpre)

    _, _, dpres = tf.while_loop(lambda i, *_: i < steps, backward, (tf.constant(0), g, dpres),
                                maximum_iterations=steps)
    D = dpres.stack()  # [steps, batch, 3U]
    previous = tf.concat([tf.zeros([1, batch, width], x.dtype), S[:-1]], 0)
    dM = tf.einsum("kbi,kbj->ij", previous, D)
    u, u2 = units, 2 * units
    sums = tf.reduce_sum(D, [0, 1])
    dz1 = D[:x.shape[1], :, :u]
    grads = [tf.einsum("btf,tbu->fu", x, dz1), dM[:u, :u], sums[:u],
             dM[:u, u:u2], dM[u:u2, u:u2], sums[u:u2],
             dM[u:u2, u2:], dM[u2:, u2:], sums[u2:],
             d_kd, d_bd]
    return loss, grads


ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999
ADAM_EPSILON = 1e-7
"""Keras' Adam defaults; the train step applies exactly Keras' Adam update with them."""

_COMPILED: dict = {}
CHUNK_STEPS = 16
"""Adam steps per call of the compiled program: fewer calls from Python, one shape for every ticker."""


def learning_rates(initial: float, final_fraction: float, steps: int) -> np.ndarray:
    """Adam's learning rate for each of `steps` updates: a cosine from initial to initial * final_fraction.

    The same curve as keras.optimizers.schedules.CosineDecay(initial, steps, alpha=final_fraction);
    final_fraction 1 keeps the rate constant.
    """
    progress = np.arange(steps, dtype="float64") / max(1, steps)
    cosine = 0.5 * (1.0 + np.cos(np.pi * progress))
    return (initial * ((1.0 - final_fraction) * cosine + final_fraction)).astype("float32")


def _padded(X: np.ndarray, y: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X, y and weights 1 padded to `size` rows with zero windows of weight 0."""
    pad = size - len(X)
    return (np.concatenate([X, np.zeros((pad,) + X.shape[1:], "float32")]),
            np.concatenate([y, np.zeros(pad, "float32")]),
            np.concatenate([np.ones(len(X), "float32"), np.zeros(pad, "float32")]))


def _compiled(shapes: tuple, jit_compile: bool):
    """The train steps and the validation error for weights of these shapes, made once per process.

    Both take every weight as one flat vector `theta`, so a fit's state is three vectors (theta and
    Adam's two moments) and a step count, and the compiled programs are reused by every later fit of
    the same batch size and time_step in this process (the nightly flow's workers train ticker after
    ticker). `steps` runs CHUNK_STEPS mini-batches per call inside the compiled program.
    """
    key = (shapes, bool(jit_compile))
    if key in _COMPILED:
        return _COMPILED[key]
    import tensorflow as tf

    sizes = [int(np.prod(shape)) for shape in shapes]

    def unflatten(theta):
        return [tf.reshape(part, shape) for part, shape in zip(tf.split(theta, sizes), shapes)]

    def update(theta, m, v, t, rate, x, y, w):
        loss, grads = wavefront_loss_and_grads(x, y, w, unflatten(theta))
        g = tf.concat([tf.reshape(grad, [-1]) for grad in grads], 0)
        t = t + 1.0
        m = m + (g - m) * (1.0 - ADAM_BETA_1)
        v = v + (g * g - v) * (1.0 - ADAM_BETA_2)
        alpha = rate * tf.sqrt(1.0 - ADAM_BETA_2 ** t) / (1.0 - ADAM_BETA_1 ** t)
        return theta - alpha * m / (tf.sqrt(v) + ADAM_EPSILON), m, v, t, loss

    @tf.function(jit_compile=jit_compile)
    def steps(theta, m, v, t, rates, xs, ys, ws):
        """CHUNK_STEPS Adam steps in one call; a batch whose weights are all 0 is skipped."""
        def body(i, theta, m, v, t, losses):
            x, y, w = xs[i], ys[i], ws[i]
            theta, m, v, t, loss = tf.cond(
                tf.reduce_sum(w) > 0, lambda: update(theta, m, v, t, rates[i], x, y, w),
                lambda: (theta, m, v, t, tf.zeros([], theta.dtype)))
            return i + 1, theta, m, v, t, tf.tensor_scatter_nd_update(losses, [[i]], [loss])

        count = xs.shape[0]
        _, theta, m, v, t, losses = tf.while_loop(
            lambda i, *_: i < count, body, (tf.constant(0), theta, m, v, t, tf.zeros([count], theta.dtype)),
            maximum_iterations=count)
        return theta, m, v, t, losses

    @tf.function(jit_compile=jit_compile)
    def sse(theta, x, y, w):
        error = wavefront_predict(x, unflatten(theta)) - y
        return tf.reduce_sum(w * error * error)

    _COMPILED[key] = (steps, sse)
    return steps, sse


def _assign_flat(variables: list, flat: np.ndarray) -> None:
    """Copy consecutive slices of one flat vector into the variables, in order."""
    offset = 0
    for variable in variables:
        size = int(np.prod(variable.shape))
        variable.assign(flat[offset:offset + size].reshape(variable.shape))
        offset += size


def _store_adam_state(optimizer, weights: list, m: np.ndarray, v: np.ndarray, steps: int) -> None:
    """Hand the fit's Adam moments and step count to the model's compiled Keras Adam.

    The saved .keras file then carries the optimizer state the weights were trained with (and loads
    without Keras' "skipping variable loading for optimizer" warning).
    """
    optimizer.build(weights)
    momentums, velocities = getattr(optimizer, "_momentums", None), getattr(optimizer, "_velocities", None)
    if momentums is not None and velocities is not None and len(momentums) == len(weights) == len(velocities):
        _assign_flat(momentums, m)
        _assign_flat(velocities, v)
    optimizer.iterations.assign(steps)


def train_model(X: np.ndarray, y: np.ndarray, epochs: int, batch_size: int = DEFAULT_BATCH_SIZE, seed: int = 42,
                log: Callable[[str], None] | None = None, *, learning_rate: float = DEFAULT_LEARNING_RATE,
                final_lr_fraction: float = DEFAULT_FINAL_LR_FRACTION,
                validation_fraction: float = DEFAULT_VALIDATION_FRACTION, patience: int = DEFAULT_PATIENCE,
                jit_compile: bool = True, threads: int = DEFAULT_THREADS,
                initial_weights: list[np.ndarray] | None = None) -> TrainedModel:
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
        raise ValueError("need 0 <= validation_fraction < 1, patience >= 0, learning_rate > 0 and "
                         "0 < final_lr_fraction <= 1")
    _keras()
    configure_threads(threads)
    import tensorflow as tf

    started = time.perf_counter()
    X, y, n_val = start_fit(X, y, seed, validation_fraction)
    n = len(X) - n_val
    batch = min(batch_size, n)
    steps = -(-n // batch)
    rates = learning_rates(learning_rate, final_lr_fraction, epochs * steps)
    model = build_model(X.shape[1], learning_rate=learning_rate)
    if initial_weights is not None:
        model.set_weights(initial_weights)
    weights = rnn_weights(model)
    shapes = tuple(tuple(v.shape) for v in weights)
    run_steps, sse = _compiled(shapes, jit_compile)
    theta = tf.constant(np.concatenate([v.numpy().reshape(-1) for v in weights]))
    m = v = tf.zeros_like(theta)
    t = tf.constant(0.0)

    # Every batch has one shape (so one compiled program serves every fit in this process): the last
    # training batch and the validation chunks are padded with weight-0 windows, and each epoch with
    # all-0 batches (skipped) up to a whole number of CHUNK_STEPS.
    calls = -(-steps // CHUNK_STEPS)
    slots = calls * CHUNK_STEPS * batch
    X_train, y_train, w_train = _padded(X[:n], y[:n], slots)
    if n_val:
        chunks = -(-n_val // batch)
        X_val, y_val, w_val = _padded(X[n:], y[n:], chunks * batch)
        val_batches = [(tf.constant(X_val[i:i + batch]), tf.constant(y_val[i:i + batch]), tf.constant(w_val[i:i + batch]))
                       for i in range(0, chunks * batch, batch)]

    rng = np.random.default_rng(seed)
    report = progress(epochs, log)
    losses: list[float] = []
    val_losses: list[float] = []
    best_loss, best_theta, best_epoch, waited = math.inf, None, None, 0
    shape = (calls, CHUNK_STEPS, batch)
    for epoch in range(epochs):
        order = np.concatenate([rng.permutation(n), np.arange(n, slots)])
        xs = X_train[order].reshape(shape + X.shape[1:])
        ys, ws = y_train[order].reshape(shape), w_train[order].reshape(shape)
        epoch_rates = np.zeros(calls * CHUNK_STEPS, "float32")
        epoch_rates[:steps] = rates[epoch * steps:(epoch + 1) * steps]
        epoch_rates = epoch_rates.reshape(calls, CHUNK_STEPS)
        batch_losses = []
        for c in range(calls):
            theta, m, v, t, chunk_losses = run_steps(theta, m, v, t, epoch_rates[c], xs[c], ys[c], ws[c])
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
                log(f"early stop after epoch {epoch + 1}/{epochs}: validation loss not improved for "
                    f"{patience} epochs; keeping epoch {best_epoch} (val_loss {best_loss:.6f})")
            break
    _assign_flat(weights, (best_theta if best_theta is not None else theta).numpy())
    _store_adam_state(model.optimizer, weights, m.numpy(), v.numpy(), int(t.numpy()))
    seconds = time.perf_counter() - started
    return TrainedModel(model=model, losses=losses, seconds=seconds, val_losses=val_losses, best_epoch=best_epoch)


def preload(time_step: int | None = None, batch_size: int = DEFAULT_BATCH_SIZE, jit_compile: bool = True,
            threads: int = DEFAULT_THREADS) -> float:
    """Import TensorFlow and, given a time_step, compile the train steps for it ahead of the fit.

    Meant for a background thread of a process that is about to train (e.g. while Prefect starts its
    server), so that neither the import nor the compilation is waited for later. Returns the seconds
    it took. Thread pools are sized here (see configure_threads) because this is TensorFlow's first use.
    """
    started = time.perf_counter()
    _keras()
    configure_threads(threads)
    if time_step:
        import tensorflow as tf

        model = build_model(time_step)
        weights = rnn_weights(model)
        run_steps, _ = _compiled(tuple(tuple(v.shape) for v in weights), jit_compile)
        theta = tf.constant(np.concatenate([v.numpy().reshape(-1) for v in weights]))
        zeros = np.zeros((CHUNK_STEPS, batch_size), "float32")
        run_steps(theta, theta, theta, tf.constant(0.0), np.zeros(CHUNK_STEPS, "float32"),
                  np.zeros((CHUNK_STEPS, batch_size, time_step, 1), "float32"), zeros, zeros)
    return time.perf_counter() - started


def train_with_settings(X: np.ndarray, y: np.ndarray, settings: "Settings", kind: str = "simple_rnn",
                        log: Callable[[str], None] | None = None,
                        start_from: "keras.Model | None" = None) -> TrainedModel:
    """Train a stack of `kind` with every training option taken from the run's Settings: the tutorial's
    simple_rnn with the fast trainer, lstm and gru with Keras' fit.

    With start_from (the candidate's previous version, of the same kind), fine-tune it for
    settings.fine_tune_epochs instead of training settings.epochs from scratch.
    """
    epochs = settings.fine_tune_epochs if start_from is not None else settings.epochs
    options = dict(learning_rate=settings.learning_rate, final_lr_fraction=settings.final_lr_fraction,
                   validation_fraction=settings.validation_fraction, patience=settings.patience,
                   initial_weights=None if start_from is None else start_from.get_weights())
    if kind == "simple_rnn":
        return train_model(X, y, epochs, settings.batch_size, settings.seed, log=log, **options)
    return fit_keras(X, y, kind, epochs, settings.batch_size, settings.seed, log=log, **options)
