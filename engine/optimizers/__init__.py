"""Optimizers: SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adadelta, Adam, AdamW.

    opt = optimizers.Adam(net.parameters(), lr=1e-4)
    opt = optimizers.get({"name": "adam", "lr": 1e-4, "clipnorm": 1.0}, net.parameters())
    opt = optimizers.get("sgd", net.parameters(), lr={"name": "cosine", "initial_learning_rate": 0.1,
                                                       "decay_steps": 5000}, momentum=0.9)
    loss = ...; net.backward(dlogits); opt.step(); opt.zero_grad()

    config, arrays = opt.state_dict()       # JSON dict + host arrays, saved with the model
    opt = optimizers.from_state_dict(net.parameters(), config, arrays)   # resumes exactly

Update rules and defaults follow PyTorch (so ``torch.optim`` is the test oracle); argument names follow
Keras (``beta_1``, ``rho``, ``epsilon``). ``lr`` is a number or a schedule (see ``engine.schedules``).
"""

from __future__ import annotations

import inspect

from engine.optimizers.adam import Adam, AdamW
from engine.optimizers.adaptive import Adadelta, AdaGrad, RMSProp
from engine.optimizers.base import STATE_FORMAT, STATE_VERSION, Optimizer
from engine.optimizers.sgd import SGD, Momentum, Nesterov

_CLASSES = (SGD, Momentum, Nesterov, AdaGrad, RMSProp, Adadelta, Adam, AdamW)
OPTIMIZERS: tuple[str, ...] = tuple(cls.name for cls in _CLASSES)  # display names, in menu order
_BY_KEY = {cls.name.lower(): cls for cls in _CLASSES}


def get(name_or_config, params, **overrides) -> Optimizer:
    """An optimizer from a name ("adam", any case) or a config dict from ``get_config()``.

    ``overrides`` replace config entries. "learning_rate" is accepted for "lr", as Keras calls it.
    """
    if isinstance(name_or_config, str):
        arguments = {"name": name_or_config}
    elif isinstance(name_or_config, dict) and isinstance(name_or_config.get("name"), str):
        arguments = dict(name_or_config)
    else:
        raise ValueError('an optimizer config must be a name such as "adam" or a dict such as '
                         f'{{"name": "adam", "lr": 0.001}}. Received: {name_or_config!r}')
    arguments.update(overrides)
    if "learning_rate" in arguments:
        if "lr" in arguments:
            raise ValueError("give the learning rate as lr or learning_rate, not both. "
                             f"Received: lr={arguments['lr']!r}, learning_rate={arguments['learning_rate']!r}")
        arguments["lr"] = arguments.pop("learning_rate")
    name = arguments.pop("name")
    cls = _BY_KEY.get(name.strip().lower())
    if cls is None:
        raise ValueError(f"unknown optimizer {name!r}; expected one of: {', '.join(OPTIMIZERS)}")
    accepted = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "params")]
    unexpected = sorted(set(arguments) - set(accepted))
    if unexpected:
        raise ValueError(f"{cls.name} got unexpected argument(s) {', '.join(unexpected)}; "
                         f"expected: {', '.join(accepted)}")
    return cls(params, **arguments)


def state_slots(name_or_config) -> int:
    """How many values the optimizer keeps per parameter (plain SGD 0, momentum 1, Adam 2): what a memory
    estimate needs before any network exists. Raises ValueError for a config ``get`` refuses."""
    import numpy as np

    from engine.parameter import Parameter

    probe = Parameter(np.zeros(1, dtype=np.float32))
    return len(get(name_or_config, [probe])._state_names())


def from_state_dict(params, config: dict, arrays) -> Optimizer:
    """The optimizer a ``state_dict()`` describes, over ``params``, with its state restored."""
    if not isinstance(config, dict) or not isinstance(config.get("optimizer"), dict):
        raise ValueError(f"not an optimizer state: expected a dict with format {STATE_FORMAT!r} and an "
                         f"'optimizer' entry. Received: {type(config).__name__}")
    optimizer = get(config["optimizer"], params)
    optimizer.load_state_dict(config, arrays)
    return optimizer


__all__ = ["OPTIMIZERS", "STATE_FORMAT", "STATE_VERSION", "Optimizer", "SGD", "Momentum", "Nesterov", "AdaGrad",
           "RMSProp", "Adadelta", "Adam", "AdamW", "get", "from_state_dict",
           "state_slots"]
