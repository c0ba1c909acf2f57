"""Small specs of networks that output values (issue 24's task keys), shared by the task tests."""


def dense_autoencoder(code: int = 2, hidden: int = 32, loss: str = "binary_cross_entropy") -> dict:
    """Input 1x28x28 -> Flatten -> Dense hidden relu -> Dense code (linear) -> Dense hidden relu -> Dense 784
    sigmoid -> Reshape 1x28x28: the dense-autoencoder template's shape, smaller."""
    return {"name": "dense-ae", "loss": loss, "target": "input", "nodes": [
        {"id": "input", "type": "Input", "shape": [1, 28, 28]},
        {"id": "flatten", "type": "Flatten"},
        {"id": "enc", "type": "Dense", "units": hidden, "activation": "relu"},
        {"id": "code", "type": "Dense", "units": code},
        {"id": "dec", "type": "Dense", "units": hidden, "activation": "relu"},
        {"id": "pixels", "type": "Dense", "units": 784, "activation": "sigmoid"},
        {"id": "image", "type": "Reshape", "target_shape": [1, 28, 28]}]}


def sine_regressor(hidden: int = 32) -> dict:
    """1 value -> Dense hidden tanh -> Dense 1 (linear), trained with mean squared error on its labels."""
    return {"name": "sine", "loss": "mean_squared_error", "nodes": [
        {"id": "x", "type": "Input", "shape": [1]},
        {"id": "h1", "type": "Dense", "units": hidden, "activation": "tanh"},
        {"id": "h2", "type": "Dense", "units": hidden, "activation": "tanh"},
        {"id": "y", "type": "Dense", "units": 1}]}
