"""Splits, normalisation, seeded mini-batches with exact resume, and seeded augmentation."""

import json

import numpy as np
import pytest

from engine import datasets
from engine.datasets import Augmentation, BatchIterator, DatasetError, prepare, split_off


@pytest.fixture(scope="module")
def mnist():
    return datasets.load("mnist", download=False)


def test_prepare_mnist_gives_the_classic_55000_5000_10000(mnist):
    splits = prepare(mnist)
    assert splits.train_images.shape == (55_000, 1, 28, 28) and splits.val_images.shape == (5_000, 1, 28, 28)
    assert splits.test_images.shape == (10_000, 1, 28, 28)
    assert splits.train_images.dtype == np.float32 and splits.train_labels.dtype == np.int64
    # Validation is the last 5,000 training examples, in order.
    np.testing.assert_array_equal(splits.val_labels, mnist.train_labels[55_000:])
    np.testing.assert_array_equal(splits.val_images[:3], mnist.train_images[55_000:55_003] / np.float32(255))
    assert splits.train_images.min() == 0.0 and splits.train_images.max() == 1.0
    assert splits.channel_mean is None
    splits.train_images[0] = 0  # prepared arrays are the caller's own
    assert mnist.train_images[0].any()


def test_seeded_validation_split_and_mean_from_train_only(mnist):
    a = prepare(mnist, validation=0.1, seed=4, subtract_mean=True)
    b = prepare(mnist, validation=6000, seed=4, subtract_mean=True)
    assert len(a.val_labels) == len(b.val_labels) == 6000
    np.testing.assert_array_equal(a.val_labels, b.val_labels)
    assert not np.array_equal(a.val_labels, mnist.train_labels[54_000:])
    assert a.channel_mean.shape == (1,) and a.channel_mean.dtype == np.float32
    assert abs(float(a.train_images.mean(dtype=np.float64))) < 1e-4  # centred on train...
    assert abs(float(a.test_images.mean(dtype=np.float64))) > 1e-4  # ...with train's mean, not test's
    np.testing.assert_allclose(a.test_images[0] + a.channel_mean[0], mnist.test_images[0] / 255, atol=1e-6)


def test_split_off_and_validation_errors():
    x, y = np.arange(10)[:, None], np.arange(10)
    rest_x, rest_y, part_x, part_y = split_off(x, y, 3)
    assert part_y.tolist() == [7, 8, 9] and rest_y.tolist() == list(range(7))
    _, rest_y, _, part_y = split_off(x, y, 3, seed=0)
    assert sorted(rest_y.tolist() + part_y.tolist()) == list(range(10)) and len(part_y) == 3
    with pytest.raises(DatasetError, match="validation: expected a count from 0 to 59999"):
        prepare(datasets.load("mnist"), validation=60_000)


def _toy_arrays(n=103):
    rng = np.random.default_rng(0)
    return rng.random((n, 1, 4, 4), dtype=np.float32), np.arange(n) % 5


def _collect(iterator, count):
    return [iterator.next_batch() for _ in range(count)]


def test_an_epoch_visits_every_example_once_in_a_seeded_order():
    x, y = _toy_arrays()
    batches = BatchIterator(x, y, batch_size=10, seed=3)
    assert len(batches) == 11
    epoch = list(batches)
    assert [len(b[1]) for b in epoch] == [10] * 10 + [3]
    seen = np.concatenate([b[1] for b in epoch])
    assert sorted(seen.tolist()) == sorted(y.tolist()) and seen.tolist() != y.tolist()
    assert batches.epoch == 1 and batches.position == 0
    again = list(BatchIterator(x, y, batch_size=10, seed=3))
    for (xa, ya), (xb, yb) in zip(epoch, again, strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    other = np.concatenate([b[1] for b in BatchIterator(x, y, batch_size=10, seed=4)])
    assert other.tolist() != seen.tolist()
    second_epoch = np.concatenate([b[1] for b in batches])
    assert second_epoch.tolist() != seen.tolist()


def test_drop_last_and_unshuffled_order():
    x, y = _toy_arrays()
    batches = BatchIterator(x, y, batch_size=10, shuffle=False, drop_last=True)
    epoch = list(batches)
    assert len(epoch) == len(batches) == 10
    assert np.concatenate([b[1] for b in epoch]).tolist() == y[:100].tolist()


@pytest.mark.parametrize("stop_after", [0, 4, 11, 17])  # start, mid-epoch, exactly at the epoch end, next epoch
@pytest.mark.parametrize("augment", [None, Augmentation(max_shift=1, max_rotation=15)])
def test_resume_from_a_saved_state_continues_exactly(stop_after, augment):
    x, y = _toy_arrays()
    reference = _collect(BatchIterator(x, y, batch_size=10, seed=9, augment=augment), 30)

    interrupted = BatchIterator(x, y, batch_size=10, seed=9, augment=augment)
    _collect(interrupted, stop_after)
    saved = json.loads(json.dumps(interrupted.state()))  # as a trainer writes it into a checkpoint
    resumed = BatchIterator.from_state(x, y, saved, augment=augment)
    for (xa, ya), (xb, yb) in zip(reference[stop_after:], _collect(resumed, 30 - stop_after), strict=True):
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xb)


def test_resume_in_a_for_loop_finishes_the_interrupted_epoch():
    x, y = _toy_arrays()
    full = np.concatenate([b[1] for b in BatchIterator(x, y, batch_size=10, seed=1)])
    first = BatchIterator(x, y, batch_size=10, seed=1)
    head = [b[1] for _, b in zip(range(4), first, strict=False)]
    tail = [b[1] for b in BatchIterator.from_state(x, y, first.state())]
    assert np.concatenate(head + tail).tolist() == full.tolist()


def test_state_from_other_data_is_refused():
    x, y = _toy_arrays()
    state = BatchIterator(x, y).state()
    with pytest.raises(DatasetError, match="saved for 103 examples; received arrays of 50"):
        BatchIterator.from_state(x[:50], y[:50], state)
    with pytest.raises(DatasetError, match="expected a dict with format 'layerlab.batch_iterator'"):
        BatchIterator.from_state(x, y, {"epoch": 1})
    with pytest.raises(DatasetError, match="expected batch_size >= 1; received batch_size=0"):
        BatchIterator(x, y, batch_size=0)


def test_splits_batches_are_float32_copies(mnist):
    splits = prepare(mnist)
    xb, yb = splits.batches("train", 128, seed=0).next_batch()
    assert xb.shape == (128, 1, 28, 28) and xb.dtype == np.float32 and yb.dtype == np.int64
    xb[:] = -1  # the batch is the caller's
    assert splits.train_images.min() == 0.0
    val = list(splits.batches("val", 1000))
    assert np.concatenate([b[1] for b in val]).tolist() == splits.val_labels.tolist()  # unshuffled


def test_augmentation_is_seeded_and_moves_pixels_a_little():
    image = np.zeros((1, 1, 9, 9), dtype=np.float32)
    image[0, 0, 4, 4] = 1.0
    batch = np.repeat(image, 64, axis=0)
    augment = Augmentation(max_shift=2, max_rotation=0)
    out = augment(batch, np.random.default_rng(0))
    np.testing.assert_array_equal(out, augment(batch, np.random.default_rng(0)))
    peaks = [np.unravel_index(np.argmax(o[0]), (9, 9)) for o in out]
    assert all(abs(r - 4) <= 2 and abs(c - 4) <= 2 for r, c in peaks)
    assert len(set(peaks)) > 5 and np.allclose(out.sum(axis=(1, 2, 3)), 1.0)  # whole-pixel shifts keep the mass

    rotated = Augmentation(max_shift=0, max_rotation=30)(np.ones((8, 3, 10, 10), np.float32), np.random.default_rng(1))
    assert rotated.shape == (8, 3, 10, 10) and rotated.dtype == np.float32
    assert rotated[:, :, 4:6, 4:6].min() > 0.99  # the centre stays inside
    assert rotated.min() < 0.5  # corners rotate in from outside: fill


def test_augmentation_fills_with_black_after_mean_subtraction(mnist):
    splits = prepare(mnist, subtract_mean=True)
    augment = Augmentation(max_shift=0, max_rotation=45)
    xb, _ = splits.batches("train", 16, seed=0, augment=augment).next_batch()
    corner = xb[:, 0, 0, 0]
    np.testing.assert_allclose(corner, -splits.channel_mean[0], atol=1e-6)
