"""Seeded, shuffled mini-batches whose position can be saved and restored exactly.

Each epoch's order is a permutation drawn from ``default_rng([seed, epoch])``, and each batch's
augmentation from ``default_rng([seed, epoch, position])``; so the whole stream is a function of
(seed, epoch, position) and the saved state is three integers plus settings, all JSON.

    batches = BatchIterator(x, y, batch_size=128, seed=0)
    for xb, yb in batches:          # one epoch (the rest of it, after a restore)
        ...
    saved = batches.state()         # json.dumps-able
    again = BatchIterator.from_state(x, y, saved)   # continues with the very next batch
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from engine.datasets.augment import Augmentation
from engine.datasets.errors import DatasetError

STATE_FORMAT = "layerlab.batch_iterator"
STATE_VERSION = 1


class BatchIterator:
    """Mini-batches ``(images[idx], labels[idx])`` of any arrays sharing a first axis (images, toy points...).

    Batches are fresh arrays (fancy-indexed copies) that the caller may keep or modify.
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray, batch_size: int = 128, *, seed: int = 0,
                 shuffle: bool = True, drop_last: bool = False, augment: Augmentation | None = None,
                 epoch: int = 0, position: int = 0) -> None:
        if len(images) != len(labels):
            raise DatasetError(f"BatchIterator: expected as many labels as images; "
                               f"received {len(images)} images and {len(labels)} labels")
        if int(batch_size) < 1:
            raise DatasetError(f"BatchIterator: expected batch_size >= 1; received batch_size={batch_size}")
        if int(seed) < 0:
            raise DatasetError(f"BatchIterator: expected a seed >= 0; received seed={seed}")
        if len(labels) == 0 or (drop_last and len(labels) < batch_size):
            raise DatasetError(f"BatchIterator: no full batch of {batch_size} in {len(labels)} examples")
        self.images = images
        self.labels = labels
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.augment = augment
        self.epoch = int(epoch)
        self.position = int(position)  # examples of this epoch already handed out
        self._order_epoch: int | None = None
        self._order: np.ndarray | None = None

    @property
    def num_samples(self) -> int:
        return len(self.labels)

    @property
    def epoch_length(self) -> int:
        """Examples handed out per epoch (fewer than num_samples with drop_last)."""
        n = self.num_samples
        return n - n % self.batch_size if self.drop_last else n

    @property
    def batches_per_epoch(self) -> int:
        return -(-self.epoch_length // self.batch_size)

    def __len__(self) -> int:
        return self.batches_per_epoch

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """The remaining batches of the current epoch; afterwards the iterator is at the next epoch."""
        self._roll_over_if_finished()
        while self.position < self.epoch_length:
            yield self.next_batch()
        self._roll_over_if_finished()

    def next_batch(self) -> tuple[np.ndarray, np.ndarray]:
        """The next batch, moving on to the next epoch when this one is used up (for step-based loops)."""
        self._roll_over_if_finished()
        start = self.position
        stop = min(start + self.batch_size, self.epoch_length)
        index = self._epoch_order()[start:stop]
        images = np.take(self.images, index, axis=0)
        labels = np.take(self.labels, index, axis=0)
        if self.augment is not None:
            images = self.augment(images, np.random.default_rng([self.seed, self.epoch, start]))
        self.position = stop
        return images, labels

    def state(self) -> dict:
        """Where the iterator is, as plain JSON types; ``from_state`` continues from exactly here."""
        return {"format": STATE_FORMAT, "version": STATE_VERSION, "seed": self.seed, "epoch": self.epoch,
                "position": self.position, "batch_size": self.batch_size, "num_samples": self.num_samples,
                "shuffle": self.shuffle, "drop_last": self.drop_last}

    @classmethod
    def from_state(cls, images: np.ndarray, labels: np.ndarray, state: dict,
                   augment: Augmentation | None = None) -> BatchIterator:
        """An iterator over the same arrays that continues where ``state`` was saved."""
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise DatasetError(f"batch state: expected a dict with format {STATE_FORMAT!r}; received {state!r:.200}")
        if state.get("version") != STATE_VERSION:
            raise DatasetError(f"batch state: expected version {STATE_VERSION}; received {state.get('version')!r}")
        if state.get("num_samples") != len(labels):
            raise DatasetError(f"batch state: saved for {state.get('num_samples')} examples; "
                               f"received arrays of {len(labels)}; restore it with the same data")
        try:
            return cls(images, labels, state["batch_size"], seed=state["seed"], shuffle=state["shuffle"],
                       drop_last=state["drop_last"], augment=augment, epoch=state["epoch"],
                       position=state["position"])
        except KeyError as exc:
            raise DatasetError(f"batch state: missing key {exc.args[0]!r}") from None

    def _roll_over_if_finished(self) -> None:
        if self.position >= self.epoch_length:
            self.epoch += 1
            self.position = 0

    def _epoch_order(self) -> np.ndarray:
        if self._order_epoch != self.epoch:
            n = self.num_samples
            self._order = (np.random.default_rng([self.seed, self.epoch]).permutation(n)
                           if self.shuffle else np.arange(n))
            self._order_epoch = self.epoch
        return self._order
