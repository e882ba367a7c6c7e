"""Training an RNN: split, scale, window and target, the Keras model, the training loop (with wavefront, adam and
lanes: many fits as one computation) and prediction."""
