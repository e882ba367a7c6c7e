"""Adam on flat weight vectors, one per model (lane), compiled once per process: the fast trainer's step.

Every weight of a model is one flat row of theta ([lanes, parameters]), so a fit's state is three such
arrays (theta and Adam's two moments) and a step count per lane; `compiled_steps` runs CHUNK_STEPS
mini-batches per call inside one XLA program that every later fit of the same weight shapes in the
process reuses (TensorFlow traces a new program only for a new lane count, batch size or time_step).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from nightcast.quiet_import import load_tensorflow
from tasks.training.wavefront import lanes_loss_and_grads, lanes_predict

ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999
ADAM_EPSILON = 1e-7
"""Keras' Adam defaults; the train step applies exactly Keras' Adam update with them."""

_COMPILED: dict = {}
CHUNK_STEPS = 16
"""Adam steps per call of the compiled program: fewer calls from Python, one shape for every ticker."""


class AdamState(NamedTuple):
    """A stack's fit state, each with a lane axis first: the flat weights theta ([lanes, parameters]), Adam's two
    moments of the same shape and the step count per lane ([lanes])."""

    theta: Any
    m: Any
    v: Any
    t: Any


def learning_rates(initial: float, final_fraction: float, steps: int) -> np.ndarray:
    """Adam's learning rate for each of `steps` updates: a cosine from initial to initial * final_fraction.

    The same curve as keras.optimizers.schedules.CosineDecay(initial, steps, alpha=final_fraction);
    final_fraction 1 keeps the rate constant.
    """
    progress = np.arange(steps, dtype="float64") / max(1, steps)
    cosine = 0.5 * (1.0 + np.cos(np.pi * progress))
    return (initial * ((1.0 - final_fraction) * cosine + final_fraction)).astype("float32")


def padded(X: np.ndarray, y: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X, y and weights 1 padded to `size` rows with zero windows of weight 0."""
    pad = size - len(X)
    return (
        np.concatenate([X, np.zeros((pad,) + X.shape[1:], "float32")]),
        np.concatenate([y, np.zeros(pad, "float32")]),
        np.concatenate([np.ones(len(X), "float32"), np.zeros(pad, "float32")]),
    )


def adam_step(theta, m, v, t, rate, g):
    """One Adam update of theta by gradient g (TensorFlow tensors): Keras' Adam, operation for operation.

    Returns the new theta, moments and step count."""
    import tensorflow as tf  # traced inside tf.function, after load_tensorflow: a plain import, no call

    t = t + 1.0
    m = m + (g - m) * (1.0 - ADAM_BETA_1)
    v = v + (g * g - v) * (1.0 - ADAM_BETA_2)
    alpha = rate * tf.sqrt(1.0 - ADAM_BETA_2**t) / (1.0 - ADAM_BETA_1**t)
    return theta - alpha * m / (tf.sqrt(v) + ADAM_EPSILON), m, v, t


def compiled_steps(shapes: tuple, jit_compile: bool):
    """The train steps and the validation error for models of these weight shapes, made once per process.

    Both take every model's weights as one flat row of `theta` ([lanes, parameters]: one lane per model,
    e.g. per ticker), so a fit's state is three such arrays (theta and Adam's two moments) and a step count
    per lane, and the compiled programs are reused by every later fit of the same lane count, batch size
    and time_step in this process (the nightly's workers train chunk after chunk). `steps` runs CHUNK_STEPS
    mini-batches per call inside the compiled program; a lane whose batch has only weight-0 windows takes
    no step (its weights, moments and step count stay as they are).
    """
    key = (shapes, bool(jit_compile))
    if key in _COMPILED:
        return _COMPILED[key]
    tf = load_tensorflow()

    sizes = [int(np.prod(shape)) for shape in shapes]

    def unflatten(theta):
        return [tf.reshape(part, [-1, *shape]) for part, shape in zip(tf.split(theta, sizes, axis=1), shapes)]

    def update(state: AdamState, rate, batch: tuple) -> tuple[AdamState, Any]:
        """One Adam step of every lane on its (x, y, w) batch; a lane whose windows all weigh 0 stays as it is."""
        theta, m, v, t = state
        x, y, w = batch
        loss, grads = lanes_loss_and_grads(x, y, w, unflatten(theta))
        g = tf.concat([tf.reshape(grad, [tf.shape(theta)[0], -1]) for grad in grads], 1)
        moved = adam_step(theta, m, v, t[:, None], rate[:, None], g)
        active = tf.reduce_sum(w, 1) > 0
        theta, m, v = (tf.where(active[:, None], new, old) for new, old in zip(moved[:3], (theta, m, v)))
        return AdamState(theta, m, v, tf.where(active, moved[3][:, 0], t)), loss

    @tf.function(jit_compile=jit_compile)
    def steps(state: AdamState, rates, batches: tuple) -> tuple[AdamState, Any]:
        """CHUNK_STEPS Adam steps in one call on batches (xs, ys, ws), each with the steps first; a batch whose
        weights are all 0 in every lane is skipped."""
        xs, ys, ws = batches

        def body(i, state, losses):
            x, y, w = xs[i], ys[i], ws[i]
            state, loss = tf.cond(
                tf.reduce_sum(w) > 0,
                lambda: update(state, rates[i], (x, y, w)),
                lambda: (state, tf.zeros(tf.shape(state.t), state.theta.dtype)),
            )
            return i + 1, state, tf.tensor_scatter_nd_update(losses, [[i]], [loss])

        count = xs.shape[0]
        _, state, losses = tf.while_loop(
            lambda i, *_: i < count,
            body,
            (tf.constant(0), state, tf.zeros([count, tf.shape(state.theta)[0]], state.theta.dtype)),
            maximum_iterations=count,
        )
        return state, losses

    @tf.function(jit_compile=jit_compile)
    def sse(theta, x, y, w):
        """Each lane's sum of weighted squared errors on x ([lanes, batch, T, 1])."""
        error = lanes_predict(x, unflatten(theta)) - y
        return tf.reduce_sum(w * error * error, 1)

    _COMPILED[key] = (steps, sse)
    return steps, sse


def assign_flat(variables: list, flat: np.ndarray) -> None:
    """Copy consecutive slices of one flat vector into the variables, in order."""
    offset = 0
    for variable in variables:
        size = int(np.prod(variable.shape))
        variable.assign(flat[offset : offset + size].reshape(variable.shape))
        offset += size


def store_adam_state(optimizer, weights: list, m: np.ndarray, v: np.ndarray, steps: int) -> None:
    """Hand the fit's Adam moments and step count to the model's compiled Keras Adam.

    The saved .keras file then carries the optimizer state the weights were trained with (and loads
    without Keras' "skipping variable loading for optimizer" warning).
    """
    optimizer.build(weights)
    momentums, velocities = getattr(optimizer, "_momentums", None), getattr(optimizer, "_velocities", None)
    if momentums is not None and velocities is not None and len(momentums) == len(weights) == len(velocities):
        assign_flat(momentums, m)
        assign_flat(velocities, v)
    optimizer.iterations.assign(steps)
