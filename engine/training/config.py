"""What a training run is asked to do: a plain dataclass that round-trips through JSON.

The GUI's training panel, the CLI's flags and a checkpoint's metadata all hold one of these.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

from engine.datasets.augment import Augmentation
from engine.datasets.errors import DatasetError

MAX_COUNT = 2**31 - 1  # epochs, batch sizes, steps: what a 32-bit counter (a Qt spin box, a C loop) holds
MAX_SEED = 2**63 - 1  # NumPy seeds any integer; this keeps a seed a 64-bit number in every file and widget


@dataclass
class TrainingConfig:
    epochs: int = 10
    batch_size: int = 50
    optimizer: dict = field(default_factory=lambda: {"name": "adam", "lr": 1e-3})  # engine.optimizers.get config
    l2: float = 0.0  # weight decay on kernels (L2 added to the gradient; AdamW: decoupled)
    clipnorm: float | None = None
    seed: int = 0  # data order, dropout and augmentation all derive from it
    max_steps: int | None = None  # stop after this many steps even mid-epoch (the tutorials count steps)
    # Epochs without a new best (a higher validation accuracy; for a network that is not a classifier, a lower
    # validation loss) before stopping.
    early_stopping_patience: int | None = None
    # Augmentation of training images: False, True (shifts of 2 pixels and rotations of 10 degrees, its
    # meaning before flips and noise existed) or {"shift", "rotation", "flip_horizontal", "flip_vertical",
    # "noise"}: see engine.datasets.Augmentation.from_config. A dict is kept whole (every key), and one that
    # switches nothing on becomes False, so ``if config.augment`` means "augments".
    augment: bool | dict = False
    snapshot_every_steps: int | None = 100  # publish a weight snapshot (for live views) this often...
    snapshot_every_seconds: float | None = None  # ...and/or this often
    eval_batch_size: int = 500
    # The standard deviation of Gaussian noise added to each training input (images then clipped to [0, 1]);
    # the target stays the clean example: a denoising autoencoder. Seeded by the run (seed and step).
    input_noise: float = 0.0

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first bad field, what was expected and what was received."""
        def positive_int(name, allow_none=False):
            value = getattr(self, name)
            if value is None and allow_none:
                return
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1{' or null' if allow_none else ''}; "
                                 f"received {name}={value!r:.60}")
            if value > MAX_COUNT:
                raise ValueError(f"{name} must be at most {MAX_COUNT:,}; received {name}={_big(value)}")

        positive_int("epochs")
        positive_int("batch_size")
        positive_int("max_steps", allow_none=True)
        positive_int("early_stopping_patience", allow_none=True)
        positive_int("snapshot_every_steps", allow_none=True)
        positive_int("eval_batch_size")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be an integer >= 0; received seed={self.seed!r:.60}")
        if self.seed > MAX_SEED:
            raise ValueError(f"seed must be at most {MAX_SEED:,}; received seed={_big(self.seed)}")
        for name in ("l2", "clipnorm", "snapshot_every_seconds", "input_noise"):
            value = getattr(self, name)
            if value is None and name not in ("l2", "input_noise"):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number >= 0; received {name}={value!r:.60}")
        if isinstance(self.optimizer, str):
            self.optimizer = {"name": self.optimizer}
        if not isinstance(self.optimizer, dict) or not isinstance(self.optimizer.get("name"), str):
            raise ValueError(f'optimizer must be a name or a dict like {{"name": "adam", "lr": 0.001}}; '
                             f"received optimizer={self.optimizer!r:.80}")
        if isinstance(self.augment, dict):
            try:
                augmentation = Augmentation.from_config(self.augment)
            except DatasetError as exc:
                raise ValueError(str(exc)) from None
            self.augment = False if augmentation.is_identity else augmentation.get_config()
        elif not isinstance(self.augment, bool):
            raise ValueError(f"augment must be true, false or an object of augmentation settings; "
                             f"received augment={self.augment!r:.60}")

    def augmentation(self) -> Augmentation | None:
        """The augmentation this config asks for, or None when it asks for none."""
        if self.augment is True:
            return Augmentation(max_shift=2, max_rotation=10.0)
        if isinstance(self.augment, dict):
            return Augmentation.from_config(self.augment)
        return None

    def to_dict(self) -> dict:
        return asdict(self)  # asdict copies the augment dict too: the caller may change it freely

    @classmethod
    def from_dict(cls, data: dict) -> TrainingConfig:
        if not isinstance(data, dict):
            raise ValueError(f"a training config must be an object; received {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training setting {unknown[0]!r}; expected one of: {', '.join(sorted(known))}")
        return cls(**data)


def _big(value: int) -> str:
    """An integer too large for a setting, in words that never fail (str() refuses 4,300+ digits)."""
    return f"{value:,}" if value.bit_length() <= 128 else f"a number of about {value.bit_length() * 3 // 10:,} digits"
