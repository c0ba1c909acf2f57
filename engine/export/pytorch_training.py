"""The training recipe of an exported PyTorch script: optimizer, learning-rate schedule, loss, gradient clipping.

    recipe = Recipe.of(network, training)    # training: a project's "training" object, or None
    recipe.source(regularized)               # make_optimizer, learning_rate, loss_function, predictions,
                                             # clip_gradients, as Python code

LayerLab's optimizers follow torch.optim's update rules and defaults (engine/optimizers), so each maps to its
torch.optim twin with the same settings. LayerLab adds L2 (weight decay) to the kernels only, never to biases
or BatchNorm's gamma and beta: the script gives torch two parameter groups. A schedule becomes a
``learning_rate(step)`` function, set on the optimizer before each step, as LayerLab's optimizer asks its
schedule for each step's rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine import optimizers, schedules
from engine.training.config import TrainingConfig

CLASSIFIER_KINDS = ("softmax", "sigmoid", "logits", "binary_logit")  # engine.output_head's cross-entropy kinds

# LayerLab's optimizer -> (torch.optim class, {LayerLab hyperparameter: torch argument})
TORCH_OPTIMIZERS = {
    "SGD": ("SGD", {"momentum": "momentum", "nesterov": "nesterov"}),
    "Momentum": ("SGD", {"momentum": "momentum"}),
    "Nesterov": ("SGD", {"momentum": "momentum"}),
    "AdaGrad": ("Adagrad", {"epsilon": "eps", "initial_accumulator_value": "initial_accumulator_value"}),
    "RMSProp": ("RMSprop", {"rho": "alpha", "epsilon": "eps", "momentum": "momentum", "centered": "centered"}),
    "Adadelta": ("Adadelta", {"rho": "rho", "epsilon": "eps"}),
    "Adam": ("Adam", {"epsilon": "eps"}),
    "AdamW": ("AdamW", {"epsilon": "eps"}),
}
NOTES = {
    "RMSProp": "# (centered: LayerLab clips a rounding-negative variance at 0 before its square root; torch does not)",
}


@dataclass(frozen=True)
class Recipe:
    config: TrainingConfig
    optimizer: dict  # the engine optimizer's get_config(): name, lr (a number or a schedule config), settings
    head_kind: str
    validation: int | float | None = None  # the project's validation split; None: LayerLab's default
    target: str = "labels"  # the spec's task: "input" for an autoencoder (engine.output_head)

    @classmethod
    def of(cls, network, training: dict | None) -> Recipe:
        """The run LayerLab would train: ``training`` read as the CLI reads a project's (TrainingConfig's names;
        "schedule" a schedule config starting at the optimizer's lr), defaults for what it leaves out."""
        training = dict(training or {})
        known = {name: training[name] for name in TrainingConfig.__dataclass_fields__ if name in training}
        config = TrainingConfig(**known)
        optimizer_config = dict(config.optimizer)
        schedule = training.get("schedule")
        if isinstance(schedule, dict):
            start = optimizer_config.get("lr", optimizer_config.get("learning_rate"))
            if "initial_learning_rate" not in schedule and isinstance(start, (int, float)):
                schedule = {**schedule, "initial_learning_rate": start}
            optimizer_config.pop("learning_rate", None)
            optimizer_config["lr"] = schedule
        if config.l2:
            optimizer_config.setdefault("weight_decay", config.l2)
        if config.clipnorm:
            optimizer_config.setdefault("clipnorm", config.clipnorm)
        engine_optimizer = optimizers.get(optimizer_config, network.parameters())  # checks it, fills defaults
        head = network.output_head
        return cls(config, engine_optimizer.get_config(), head.kind, _validation(training),
                   getattr(head, "target", "labels"))

    @property
    def input_noise(self) -> float:
        return float(getattr(self.config, "input_noise", 0.0) or 0.0)

    # -- the code ----------------------------------------------------------------------------------------
    def source(self, regularized: list[str]) -> str:
        return "\n\n".join([self._optimizer_code(regularized), self._schedule_code(), self._loss_code(),
                            self._clip_code()])

    def _optimizer_code(self, regularized: list[str]) -> str:
        settings = dict(self.optimizer)
        name = settings.pop("name")
        settings.pop("lr")
        decay = settings.pop("weight_decay")
        settings.pop("clipnorm"), settings.pop("clipvalue")
        torch_class, renames = TORCH_OPTIMIZERS[name]
        arguments = ["lr=learning_rate(0)"]
        if name in ("Adam", "AdamW"):
            arguments.append(f"betas=({settings.pop('beta_1')!r}, {settings.pop('beta_2')!r})")
        if name == "Nesterov":
            arguments.append("nesterov=True")
        for key, value in settings.items():
            if key in renames and not (key == "nesterov" and not value):
                arguments.append(f"{renames[key]}={value!r}")
        lines = ["def make_optimizer(model):",
                 f'    """LayerLab\'s {name}: torch.optim.{torch_class}, the same update rule and settings."""']
        if name in NOTES:
            lines.append(f"    {NOTES[name]}")
        if decay:
            what = "decoupled, as AdamW's" if name == "AdamW" else "L2 added to the gradient"
            kernels = ", ".join(r.replace("self.", "model.") for r in regularized)
            lines += [f"    # LayerLab's weight decay ({what}) applies to the kernels only, "
                      "not to biases or BatchNorm:",
                      f"    kernels = [{kernels}]",
                      "    others = [p for p in model.parameters() if all(p is not k for k in kernels)]",
                      f'    groups = [{{"params": kernels, "weight_decay": {decay!r}}}, '
                      f'{{"params": others, "weight_decay": 0.0}}]',
                      f"    return torch.optim.{torch_class}(groups, {', '.join(arguments)})"]
        else:
            if name == "AdamW":
                arguments.append("weight_decay=0.0")  # torch's AdamW decays by 0.01 unless told
            lines.append(f"    return torch.optim.{torch_class}(model.parameters(), {', '.join(arguments)})")
        return "\n".join(lines) + "\n"

    def _schedule_code(self) -> str:
        schedule = schedules.get(self.optimizer["lr"])
        config = schedule.get_config()
        head = ["def learning_rate(step):",
                f'    """The rate of step (0 for the first), as LayerLab\'s {config["name"]} schedule gives it."""']
        if isinstance(schedule, schedules.Constant):
            return "\n".join(head + [f"    return {schedule.learning_rate!r}"]) + "\n"
        if isinstance(schedule, schedules.StepDecay):  # torch.optim.lr_scheduler.StepLR
            body = [f"    return {config['initial_learning_rate']!r} * {config['factor']!r} ** "
                    f"(step // {config['step_size']!r})"]
        elif isinstance(schedule, (schedules.ExponentialDecay, schedules.InverseTimeDecay)):
            body = [f"    progress = step / {config['decay_steps']!r}"]
            if config["staircase"]:
                body.append("    progress = math.floor(progress)")
            if isinstance(schedule, schedules.ExponentialDecay):
                body.append(f"    return {config['initial_learning_rate']!r} * {config['decay_rate']!r} ** progress")
            else:
                body.append(f"    return {config['initial_learning_rate']!r} / (1.0 + {config['decay_rate']!r} "
                            f"* progress)")
        else:  # cosine (Keras's CosineDecay, with its optional linear warmup)
            start, steps, alpha = config["initial_learning_rate"], config["decay_steps"], config["alpha"]
            target, warmup = config["warmup_target"], config["warmup_steps"]
            body = []
            rate = repr(start)
            if target is not None:
                body += [f"    if step < {warmup!r}:",
                         f"        return {start!r} + ({target!r} - {start!r}) * step / {warmup!r}",
                         f"    step -= {warmup!r}"]
                rate = repr(target)
            body += [f"    cosine = 0.5 * (1.0 + math.cos(math.pi * min(step, {steps!r}) / {steps!r}))",
                     f"    return {rate} * ((1.0 - {alpha!r}) * cosine + {alpha!r})"]
        return "\n".join(head + body) + "\n"

    @property
    def classifier(self) -> bool:
        """True for a head trained with cross-entropy on class labels (the others compare values)."""
        return self.head_kind in CLASSIFIER_KINDS

    def _loss_code(self) -> str:
        if not self.classifier:
            return self._value_loss_code()
        if self.head_kind in ("sigmoid", "binary_logit"):
            loss = ["def loss_function(scores, labels):",
                    '    """Binary cross-entropy from the logit (the chance of class 1), as LayerLab computes it."""',
                    "    return F.binary_cross_entropy_with_logits(scores.flatten(1)[:, 0], labels.float())"]
            predict = ["def predictions(scores):",
                       '    """Class 1 where its chance is above one half."""',
                       "    return (scores.flatten(1)[:, 0] > 0).long()"]
        else:
            loss = ["def loss_function(scores, labels):",
                    '    """Mean cross-entropy from the logits (log-sum-exp), as LayerLab computes it."""',
                    "    return F.cross_entropy(scores.flatten(1), labels)"]
            predict = ["def predictions(scores):",
                       '    """The class with the largest score."""',
                       "    return scores.flatten(1).argmax(1)"]
        figure = ["def figure(scores, labels):",
                  '    """The fraction of the examples classified right."""',
                  "    return (predictions(scores) == labels).float().mean()"]
        return "\n\n\n".join("\n".join(part) for part in (loss, predict, figure)) + "\n"

    def _value_loss_code(self) -> str:
        """The loss of a network trained towards values (an autoencoder's input, a regression's targets)."""
        if self.head_kind == "sigmoid_bce":
            loss = ["def loss_function(scores, targets):",
                    '    """Binary cross-entropy of the final sigmoid\'s outputs from its pre-activation (the scores),',
                    '    as LayerLab computes it: the mean over every value, exact where a sigmoid rounds off."""',
                    "    return F.binary_cross_entropy_with_logits(scores.flatten(1), targets.flatten(1))"]
            shown = ["def outputs_of(scores):",
                     '    """What the network shows from the loss\'s scores: the final sigmoid applied."""',
                     "    return torch.sigmoid(scores)"]
        else:
            loss = ["def loss_function(scores, targets):",
                    '    """The mean squared error over every value, as LayerLab computes it (the outputs as they are;',
                    '    targets of another shape with as many values, such as the 1x28x28 input of 784 outputs)."""',
                    "    return F.mse_loss(scores.flatten(1), targets.flatten(1))"]
            shown = ["def outputs_of(scores):",
                     '    """What the network shows from the loss\'s scores: the outputs as they are."""',
                     "    return scores"]
        figure = ["def figure(scores, targets):",
                  '    """The mean squared error of what the network shows."""',
                  "    return F.mse_loss(outputs_of(scores).flatten(1), targets.flatten(1))"]
        return "\n\n\n".join("\n".join(part) for part in (loss, shown, figure)) + "\n"

    def _clip_code(self) -> str:
        lines = ["def clip_gradients(model):",
                 '    """Gradient clipping as LayerLab applies it, before the optimizer\'s step."""']
        clipnorm, clipvalue = self.optimizer["clipnorm"], self.optimizer["clipvalue"]
        if clipnorm is None and clipvalue is None:
            lines.append("    return  # none asked for")
        if clipnorm is not None:
            lines += ["    # one norm of all the gradients (torch divides by norm + 1e-6, LayerLab by norm)",
                      f"    torch.nn.utils.clip_grad_norm_(model.parameters(), {clipnorm!r})"]
        if clipvalue is not None:
            lines.append(f"    torch.nn.utils.clip_grad_value_(model.parameters(), {clipvalue!r})")
        return "\n".join(lines) + "\n"


def _validation(training: dict) -> int | float | None:
    """The project's "validation": a count, or a fraction in (0, 1); ValueError for anything else."""
    value = training.get("validation")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value or \
            (value >= 1 and value != int(value)):
        raise ValueError(f"training settings: validation must be a number of examples or a fraction such as 0.1; "
                         f"received {value!r:.60}")
    return value if 0 < value < 1 else int(value)
