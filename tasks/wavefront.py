"""The tutorial's stacked SimpleRNN computed as one wavefront, forward and backward, in TensorFlow.

At step k, layer 1 reads day k, layer 2 day k-1 and layer 3 day k-2, so the 3 x time_step sequential
cell updates of a stacked RNN become time_step + 2 updates of one [batch, 60] x [60, 60] product (and as
many in the backward pass, written out by hand). The train step of tasks/adam.py differentiates nothing:
it calls wavefront_loss_and_grads, which tests compare with Keras' forward pass and TensorFlow's gradients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nightcast.quiet_import import load_keras
from tasks.models import LAYERS

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
    M = tf.concat([tf.concat([r1, k2, zero], 1), tf.concat([zero, r2, k3], 1), tf.concat([zero, zero, r3], 1)], 0)
    z1 = tf.concat([tf.einsum("btf,fu->tbu", x, k1) + b1, tf.zeros([2, batch, units], x.dtype)], 0)
    c = tf.concat([z1, tf.broadcast_to(tf.concat([b2, b3], 0), [steps, batch, 2 * units])], 2)
    mask = tf.cast(tf.range(steps)[:, None] >= tf.repeat(tf.range(LAYERS), units)[None, :], x.dtype)
    return M, c, mask[:, None, :], units, steps, batch


def wavefront_predict(x, weights):
    """The model's output for windows x ([batch, T, 1]) computed the wavefront way (a TensorFlow op)."""
    import tensorflow as tf  # traced inside tf.function, after load_tensorflow: a plain import, no call

    M, c, mask, units, steps, batch = _wavefront(tf, x, weights)

    def body(k, s):
        return k + 1, tf.tanh(s @ M + c[k]) * mask[k]

    _, s = tf.while_loop(
        lambda k, s: k < steps,
        body,
        (tf.constant(0), tf.zeros([batch, LAYERS * units], x.dtype)),
        maximum_iterations=steps,
    )
    kd, bd = weights[-2], weights[-1]
    return tf.reshape(s[:, 2 * units :] @ kd + bd, [-1])


def wavefront_loss_and_grads(x, y, w, weights):
    """Weighted mean squared error of the model on (x, y) and its exact gradients for `weights`.

    w holds one weight per window (1 for real windows, 0 for padding); the loss is sum(w e^2) / sum(w),
    which is Keras' mean squared error when every weight is 1. The backward pass through time is
    written out: dpre_k = g_k * mask_k * (1 - s_k^2), g_{k-1} = dpre_k @ M^T, and the weight gradients
    are sums over every step, computed as single products after the loop.
    """
    import tensorflow as tf  # traced inside tf.function, after load_tensorflow: a plain import, no call

    M, c, mask, units, steps, batch = _wavefront(tf, x, weights)
    width = LAYERS * units
    states = tf.TensorArray(x.dtype, size=steps, clear_after_read=False)

    def forward(k, s, states):
        s = tf.tanh(s @ M + c[k]) * mask[k]
        return k + 1, s, states.write(k, s)

    _, last, states = tf.while_loop(
        lambda k, *_: k < steps,
        forward,
        (tf.constant(0), tf.zeros([batch, width], x.dtype), states),
        maximum_iterations=steps,
    )
    S = states.stack()  # [steps, batch, 3U]
    kd, bd = weights[-2], weights[-1]
    h3 = last[:, 2 * units :]
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

    _, _, dpres = tf.while_loop(lambda i, *_: i < steps, backward, (tf.constant(0), g, dpres), maximum_iterations=steps)
    D = dpres.stack()  # [steps, batch, 3U]
    previous = tf.concat([tf.zeros([1, batch, width], x.dtype), S[:-1]], 0)
    dM = tf.einsum("kbi,kbj->ij", previous, D)
    u, u2 = units, 2 * units
    sums = tf.reduce_sum(D, [0, 1])
    dz1 = D[: x.shape[1], :, :u]
    grads = [
        tf.einsum("btf,tbu->fu", x, dz1),
        dM[:u, :u],
        sums[:u],
        dM[:u, u:u2],
        dM[u:u2, u:u2],
        sums[u:u2],
        dM[u:u2, u2:],
        dM[u2:, u2:],
        sums[u2:],
        d_kd,
        d_bd,
    ]
    return loss, grads
