"""The benchmark networks, as LayerLab specs and as the equivalent PyTorch modules."""

from __future__ import annotations

TRUNC = {"name": "truncated_normal", "stddev": 0.1}
BIAS = {"name": "constant", "value": 0.1}


def seed_cnn_spec():
    return {"format": "layerlab-network", "version": 1, "name": "seed-cnn", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "conv1", "type": "Conv2D", "filters": 32, "kernel_size": 5, "padding": "same", "activation": "relu",
         "kernel_initializer": TRUNC, "bias_initializer": BIAS},
        {"id": "pool1", "type": "MaxPooling2D", "pool_size": 2, "strides": 2, "padding": "same"},
        {"id": "conv2", "type": "Conv2D", "filters": 64, "kernel_size": 5, "padding": "same", "activation": "relu",
         "kernel_initializer": TRUNC, "bias_initializer": BIAS},
        {"id": "pool2", "type": "MaxPooling2D", "pool_size": 2, "strides": 2, "padding": "same"},
        {"id": "flatten", "type": "Flatten"},
        {"id": "fc1", "type": "Dense", "units": 1024, "activation": "relu", "kernel_initializer": TRUNC,
         "bias_initializer": BIAS},
        {"id": "dropout", "type": "Dropout", "rate": 0.5},
        {"id": "logits", "type": "Dense", "units": 10, "kernel_initializer": TRUNC, "bias_initializer": BIAS}]}


def mlp_spec():
    return {"format": "layerlab-network", "version": 1, "name": "mlp-784-128-10", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "flatten", "type": "Flatten"},
        {"id": "hidden", "type": "Dense", "units": 128, "activation": "relu"},
        {"id": "logits", "type": "Dense", "units": 10}]}


def softmax_regression_spec():
    return {"format": "layerlab-network", "version": 1, "name": "softmax-regression", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "flatten", "type": "Flatten"},
        {"id": "logits", "type": "Dense", "units": 10, "kernel_initializer": "zeros"}]}


def lstm_rows_spec():
    """MNIST's 28 rows read as 28 steps of 28 values (the lstm-mnist-rows template)."""
    return {"format": "layerlab-network", "version": 1, "name": "lstm-mnist-rows", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "rows", "type": "Reshape", "target_shape": [28, 28]},
        {"id": "lstm", "type": "LSTM", "units": 128},
        {"id": "logits", "type": "Dense", "units": 10}]}


# name -> (spec factory, optimizer name, learning rate); the seeds' settings
MODELS = {
    "seed-cnn": (seed_cnn_spec, "adam", 1e-4),
    "mlp": (mlp_spec, "adam", 1e-3),
    "softmax": (softmax_regression_spec, "sgd", 0.5),
    "lstm": (lstm_rows_spec, "adam", 1e-3),
}


def torch_model(name):
    import torch.nn as nn

    if name == "seed-cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 10))
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    if name == "softmax":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    if name == "lstm":
        return _lstm_rows_module()
    raise KeyError(name)


def _lstm_rows_module():
    import torch.nn as nn

    class LSTMRows(nn.Module):
        """(N, 1, 28, 28) -> 28 steps of 28 values -> nn.LSTM(28, 128) -> the last hidden state -> Linear(128, 10)."""

        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(28, 128, batch_first=True)
            self.logits = nn.Linear(128, 10)

        def forward(self, x):
            _, (last, _) = self.lstm(x.reshape(x.shape[0], 28, 28))
            return self.logits(last[-1])

    return LSTMRows()


def torch_optimizer(name, parameters, lr):
    import torch

    return torch.optim.Adam(parameters, lr=lr) if name == "adam" else torch.optim.SGD(parameters, lr=lr)
