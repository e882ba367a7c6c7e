"""The tutorial's stacked SimpleRNN computed as one wavefront, forward and backward, in TensorFlow, for one model
or for many models (lanes: one per ticker) in the same computation.

At step k, layer 1 reads day k, layer 2 day k-1 and layer 3 day k-2, so the 3 x time_step sequential
cell updates of a stacked RNN become time_step + 2 updates of one [batch, 60] x [60, 60] product (and as
many in the backward pass, written out by hand). The train step of tasks/training/adam.py differentiates nothing:
it calls wavefront_loss_and_grads, which tests compare with Keras' forward pass and TensorFlow's gradients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nightcast.quiet_import import load_keras
from tasks.training.models import LAYERS

if TYPE_CHECKING:  # pragma: no cover
    import keras


def rnn_weights(model: keras.Model) -> list:
    """The model's 11 weight variables in the order the wavefront step uses (and Keras trains them).

    kernel, recurrent kernel and bias of each SimpleRNN, then the Dense kernel and bias. Anything but the
    tutorial's stack (tanh SimpleRNNs with biases, a linear Dense(1)) is refused.
    """
    keras = load_keras()
    layers = model.layers
    rnns, dense = layers[:-1], layers[-1]
    if (
        len(rnns) != LAYERS
        or not all(isinstance(layer, keras.layers.SimpleRNN) for layer in rnns)
        or not isinstance(dense, keras.layers.Dense)
        or dense.units != 1
    ):
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
    """Everything the forward and backward passes share: the block matrices, inputs and masks.

    Every tensor carries a leading lane axis L: lane l is one model (one ticker's weights) with its own
    windows, so many tickers' models run in one computation of batched products.
    State s = [h1, h2, h3] ([L, batch, 3U]). At wavefront step k (0 <= k < T + 2) layer 1 computes day k,
    layer 2 day k - 1 and layer 3 day k - 2, each from the previous step's state:
        s_k = mask_k * tanh(s_{k-1} @ M + c_k),  M = [[R1, K2, 0], [0, R2, K3], [0, 0, R3]] (one per lane),
        c_k = [x_k K1 + b1, b2, b3],
    mask_k switches layer l off (keeps its state 0 = Keras' initial state) while k < l. Layer 1's
    values at k >= T are never read by anything that reaches the output. Layer 3's state after the last
    step is the last layer's output at day T - 1, exactly what Keras computes.
    """
    k1, r1, b1, k2, r2, b2, k3, r3, b3, _, _ = weights
    units = r1.shape[-1]
    steps = x.shape[2] + 2
    lanes, batch = tf.shape(x)[0], tf.shape(x)[1]
    zero = tf.zeros_like(r1)
    M = tf.concat([tf.concat([r1, k2, zero], 2), tf.concat([zero, r2, k3], 2), tf.concat([zero, zero, r3], 2)], 1)
    z1 = tf.einsum("lbtf,lfu->tlbu", x, k1) + b1[None, :, None, :]
    z1 = tf.concat([z1, tf.zeros([2, lanes, batch, units], x.dtype)], 0)
    rest = tf.broadcast_to(tf.concat([b2, b3], 1)[None, :, None, :], [steps, lanes, batch, 2 * units])
    c = tf.concat([z1, rest], 3)
    mask = tf.cast(tf.range(steps)[:, None] >= tf.repeat(tf.range(LAYERS), units)[None, :], x.dtype)
    return M, c, mask[:, None, None, :], units, steps, lanes, batch


def lanes_predict(x, weights):
    """Each lane's model output for its windows x ([lanes, batch, T, 1]; weights with a lane axis first):
    [lanes, batch], computed the wavefront way (a TensorFlow op)."""
    import tensorflow as tf  # traced inside tf.function, after load_tensorflow: a plain import, no call

    M, c, mask, units, steps, lanes, batch = _wavefront(tf, x, weights)

    def body(k, s):
        return k + 1, tf.tanh(s @ M + c[k]) * mask[k]

    _, s = tf.while_loop(
        lambda k, s: k < steps,
        body,
        (tf.constant(0), tf.zeros([lanes, batch, LAYERS * units], x.dtype)),
        maximum_iterations=steps,
    )
    kd, bd = weights[-2], weights[-1]
    return (s[:, :, 2 * units :] @ kd + bd[:, None, :])[:, :, 0]


def lanes_loss_and_grads(x, y, w, weights):
    """Each lane's weighted mean squared error on (x, y) and its exact gradients for that lane's weights.

    x [lanes, batch, T, 1], y and w [lanes, batch]; w holds one weight per window (1 for real windows, 0
    for padding); a lane's loss is sum(w e^2) / sum(w), Keras' mean squared error when every weight is 1,
    and 0 (with zero gradients) for a lane whose weights are all 0. Lanes share nothing: a lane's
    gradients are those of its own loss. The backward pass through time is written out:
    dpre_k = g_k * mask_k * (1 - s_k^2), g_{k-1} = dpre_k @ M^T, and the weight gradients are sums over
    every step, computed as single products after the loop.
    """
    import tensorflow as tf  # traced inside tf.function, after load_tensorflow: a plain import, no call

    M, c, mask, units, steps, lanes, batch = _wavefront(tf, x, weights)
    width = LAYERS * units
    states = tf.TensorArray(x.dtype, size=steps, clear_after_read=False)

    def forward(k, s, states):
        s = tf.tanh(s @ M + c[k]) * mask[k]
        return k + 1, s, states.write(k, s)

    _, last, states = tf.while_loop(
        lambda k, *_: k < steps,
        forward,
        (tf.constant(0), tf.zeros([lanes, batch, width], x.dtype), states),
        maximum_iterations=steps,
    )
    S = states.stack()  # [steps, lanes, batch, 3U]
    kd, bd = weights[-2], weights[-1]
    h3 = last[:, :, 2 * units :]
    error = (h3 @ kd + bd[:, None, :])[:, :, 0] - y
    total = tf.reduce_sum(w, 1)
    total = tf.where(total > 0, total, tf.ones_like(total))[:, None]
    loss = tf.reduce_sum(w * error * error / total, 1)
    d_out = (2.0 * w * error / total)[:, :, None]  # dloss/dprediction, [lanes, batch, 1]
    d_kd = tf.linalg.matrix_transpose(h3) @ d_out
    d_bd = tf.reduce_sum(d_out, 1)
    g = tf.concat([tf.zeros([lanes, batch, 2 * units], x.dtype), d_out @ tf.linalg.matrix_transpose(kd)], 2)
    MT = tf.linalg.matrix_transpose(M)
    dpres = tf.TensorArray(x.dtype, size=steps)

    def backward(i, g, dpres):
        k = steps - 1 - i
        s = S[k]
        dpre = g * (1.0 - s * s) * mask[k]
        return i + 1, dpre @ MT, dpres.write(k, dpre)

    _, _, dpres = tf.while_loop(lambda i, *_: i < steps, backward, (tf.constant(0), g, dpres), maximum_iterations=steps)
    D = dpres.stack()  # [steps, lanes, batch, 3U]
    previous = tf.concat([tf.zeros([1, lanes, batch, width], x.dtype), S[:-1]], 0)
    dM = tf.einsum("klbi,klbj->lij", previous, D)
    u, u2 = units, 2 * units
    sums = tf.reduce_sum(D, [0, 2])
    dz1 = D[: x.shape[2], :, :, :u]
    grads = [
        tf.einsum("lbtf,tlbu->lfu", x, dz1),
        dM[:, :u, :u],
        sums[:, :u],
        dM[:, :u, u:u2],
        dM[:, u:u2, u:u2],
        sums[:, u:u2],
        dM[:, u:u2, u2:],
        dM[:, u2:, u2:],
        sums[:, u2:],
        d_kd,
        d_bd,
    ]
    return loss, grads


def wavefront_predict(x, weights):
    """One model's output for windows x ([batch, T, 1]): lanes_predict with a single lane."""
    return lanes_predict(x[None], [v[None] for v in weights])[0]


def wavefront_loss_and_grads(x, y, w, weights):
    """One model's weighted mean squared error on (x, y) and its exact gradients: one lane of
    lanes_loss_and_grads."""
    loss, grads = lanes_loss_and_grads(x[None], y[None], w[None], [v[None] for v in weights])
    return loss[0], [g[0] for g in grads]
