"""Specs shared by engine tests."""

import copy

SEED_CNN = {
    "format": "layerlab-network",
    "version": 1,
    "name": "seed-cnn",
    "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "conv1", "type": "Conv2D", "filters": 32, "kernel_size": 5, "strides": 1, "padding": "same",
         "activation": "relu", "kernel_initializer": {"name": "truncated_normal", "stddev": 0.1},
         "bias_initializer": {"name": "constant", "value": 0.1}},
        {"id": "pool1", "type": "MaxPooling2D", "pool_size": 2, "strides": 2, "padding": "same"},
        {"id": "conv2", "type": "Conv2D", "filters": 64, "kernel_size": 5, "strides": 1, "padding": "same",
         "activation": "relu", "kernel_initializer": {"name": "truncated_normal", "stddev": 0.1},
         "bias_initializer": {"name": "constant", "value": 0.1}},
        {"id": "pool2", "type": "MaxPooling2D", "pool_size": 2, "strides": 2, "padding": "same"},
        {"id": "flatten", "type": "Flatten"},
        {"id": "fc1", "type": "Dense", "units": 1024, "activation": "relu",
         "kernel_initializer": {"name": "truncated_normal", "stddev": 0.1},
         "bias_initializer": {"name": "constant", "value": 0.1}},
        {"id": "dropout", "type": "Dropout", "rate": 0.5},
        {"id": "logits", "type": "Dense", "units": 10,
         "kernel_initializer": {"name": "truncated_normal", "stddev": 0.1},
         "bias_initializer": {"name": "constant", "value": 0.1}},
    ],
}


def seed_cnn():
    return copy.deepcopy(SEED_CNN)


def mlp(hidden=128):
    return {"format": "layerlab-network", "version": 1, "name": "mlp", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "flatten", "type": "Flatten"},
        {"id": "hidden", "type": "Dense", "units": hidden, "activation": "relu"},
        {"id": "logits", "type": "Dense", "units": 10}]}


def sequence_and_decoder_layers():
    """A small DAG using the layer types of issue 24 (sequences and decoders), which ``small_cnn_with_everything``
    leaves out: together the two use every layer type."""
    return {"format": "layerlab-network", "version": 1, "name": "sequences-and-decoders", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 6, 6]},
        {"id": "up", "type": "UpSampling2D", "size": 2},
        {"id": "deconv", "type": "Conv2DTranspose", "filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"},
        {"id": "rows", "type": "Reshape", "target_shape": [24, -1]},
        {"id": "rnn", "type": "SimpleRNN", "units": 5, "return_sequences": True},
        {"id": "gru", "type": "GRU", "units": 4, "return_sequences": True},
        {"id": "lstm", "type": "LSTM", "units": 3},
        {"id": "logits", "type": "Dense", "units": 3}]}


def small_cnn_with_everything():
    """A small DAG using every layer type (for save/load and cross-checks)."""
    return {"format": "layerlab-network", "version": 1, "name": "everything", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 8, 8]},
        {"id": "conv", "type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "activation": "relu"},
        {"id": "bn", "type": "BatchNormalization"},
        {"id": "branch", "type": "Conv2D", "filters": 4, "kernel_size": 1},
        {"id": "sum", "type": "Add"},
        {"id": "act", "type": "Activation", "activation": "elu"},
        {"id": "join", "type": "Concatenate"},
        {"id": "max", "type": "MaxPooling2D"},
        {"id": "avg", "type": "AveragePooling2D", "pool_size": 2, "strides": 1, "padding": "same"},
        {"id": "flatten", "type": "Flatten"},
        {"id": "drop", "type": "Dropout", "rate": 0.25},
        {"id": "logits", "type": "Dense", "units": 3}],
        "edges": [["input", "conv"], ["conv", "bn"], ["bn", "branch"], ["branch", "sum"], ["bn", "sum"],
                  ["sum", "act"], ["act", "join"], ["conv", "join"], ["join", "max"], ["max", "avg"],
                  ["avg", "flatten"], ["flatten", "drop"], ["drop", "logits"]]}
