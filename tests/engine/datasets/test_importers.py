"""Importing the user's own data: IDX folders, image folders and pixel CSVs, good files and bad."""

import importlib.util

import numpy as np
import pytest

from engine.datasets import DatasetError, import_csv, import_idx_folder, import_image_folder, write_idx
from engine.datasets.importing import training_order

# ---------------------------------------------------------------- IDX folders


def _idx_folder(folder, rng, *, with_test=True, suffix=".gz"):
    arrays = {"train-images-idx3-ubyte": rng.integers(0, 256, (30, 6, 6), dtype=np.uint8),
              "train-labels-idx1-ubyte": (np.arange(30) % 4).astype(np.uint8)}
    if with_test:
        arrays["t10k-images-idx3-ubyte"] = rng.integers(0, 256, (8, 6, 6), dtype=np.uint8)
        arrays["t10k-labels-idx1-ubyte"] = (np.arange(8) % 4).astype(np.uint8)
    for name, array in arrays.items():
        write_idx(folder / (name + suffix), array)
    return arrays


def test_idx_folder_with_train_and_test(tmp_path, rng):
    arrays = _idx_folder(tmp_path, rng)
    data = import_idx_folder(tmp_path)
    train = arrays["train-images-idx3-ubyte"]  # stored in a seeded random order; the test files keep theirs
    np.testing.assert_array_equal(data.train_images[:, 0], train[training_order(len(train), seed=0)])
    np.testing.assert_array_equal(data.test_labels, arrays["t10k-labels-idx1-ubyte"])
    assert data.info.shape == (1, 6, 6) and data.info.class_names == ("0", "1", "2", "3")


def test_idx_folder_without_test_files_holds_out_a_seeded_fraction(tmp_path, rng):
    _idx_folder(tmp_path, rng, with_test=False, suffix="")
    first = import_idx_folder(tmp_path, test_fraction=0.2, seed=5, class_names=["a", "b", "c", "d"])
    again = import_idx_folder(tmp_path, test_fraction=0.2, seed=5)
    assert (first.num_train, first.num_test) == (24, 6)
    np.testing.assert_array_equal(first.test_images, again.test_images)
    assert first.info.class_names == ("a", "b", "c", "d")


def test_idx_folder_problems_are_named(tmp_path, rng):
    with pytest.raises(DatasetError, match="expected IDX files named like train-images-idx3-ubyte"):
        import_idx_folder(tmp_path)
    _idx_folder(tmp_path, rng)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DatasetError, match="found one test file but not its test labels partner"):
        import_idx_folder(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(3, dtype=np.uint8))  # 8 images, 3 labels
    with pytest.raises(DatasetError, match="expected one label per image; received 8 images and 3 labels"):
        import_idx_folder(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x00\x00\x08\x01garbage")
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte\.gz"):
        import_idx_folder(tmp_path)


def test_idx_folder_prefers_the_raw_twin_of_a_gz_and_refuses_real_ambiguity(tmp_path, rng):
    _idx_folder(tmp_path, rng)
    write_idx(tmp_path / "train-labels-idx1-ubyte", (np.arange(30) % 2).astype(np.uint8))
    assert import_idx_folder(tmp_path).train_labels.max() == 1  # the raw one was read
    write_idx(tmp_path / "extra-train-labels-idx1-ubyte", np.zeros(30, dtype=np.uint8))
    with pytest.raises(DatasetError, match="several files could be the train labels"):
        import_idx_folder(tmp_path)


# ---------------------------------------------------------------- image folders


# Pillow is the app's dependency, and the image importer's; a bare engine box (the GPU checks) may lack it.
needs_pillow = pytest.mark.skipif(importlib.util.find_spec("PIL") is None, reason="Pillow is not installed")


def _image(path, size, mode="RGB", value=128):
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new(mode, size, value if mode in ("L", "I") else (value, 20, 200)[: len(mode)]).save(path)


@needs_pillow
def test_image_folder_resizes_and_reports_bad_files(tmp_path):
    _image(tmp_path / "cat" / "a.png", (40, 30))
    _image(tmp_path / "cat" / "b.jpg", (10, 10), mode="L", value=200)
    _image(tmp_path / "dog" / "c.bmp", (28, 28), mode="RGBA")
    _image(tmp_path / "dog" / "nested" / "d.png", (5, 9))
    (tmp_path / "dog" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really")
    (tmp_path / "dog" / "notes.txt").write_text("import os; os.system('echo pwned')")
    (tmp_path / "dog" / ".DS_Store").write_bytes(b"\x00")

    gray = import_image_folder(tmp_path, size=(8, 12), color="grayscale", test_fraction=0)
    assert gray.train_images.shape == (4, 1, 8, 12) and gray.train_images.dtype == np.uint8
    stored = training_order(4, seed=0)  # cat/a, cat/b, dog/c, dog/nested/d, in the order an import stores them
    assert gray.info.class_names == ("cat", "dog") and gray.train_labels.tolist() == [[0, 0, 1, 1][k] for k in stored]
    b_jpg = gray.train_images[np.flatnonzero(stored == 1)[0]]
    assert b_jpg.min() == b_jpg.max() == 200
    assert len(gray.warnings) == 2
    assert any("broken.png: skipped" in w for w in gray.warnings)
    assert any("notes.txt: skipped (is not an image LayerLab can read (PNG, JPEG, BMP, GIF, TIFF or WebP))" in w
               for w in gray.warnings)

    rgb = import_image_folder(tmp_path, size=(8, 8), color="rgb", test_fraction=0.25, seed=1)
    # Two images a class: 25% rounds to none, but every class of two or more gives the test set one.
    assert rgb.train_images.shape == (2, 3, 8, 8) and rgb.test_images.shape == (2, 3, 8, 8)
    assert rgb.info.shape == (3, 8, 8)
    auto = import_image_folder(tmp_path, size=(8, 8), test_fraction=0)  # the RGBA and RGB ones are colour
    assert auto.info.shape == (3, 8, 8)


@needs_pillow
def test_image_folder_with_train_and_test_subfolders(tmp_path):
    for split, count in (("train", 3), ("test", 1)):
        for name in ("left", "right"):
            for k in range(count):
                _image(tmp_path / split / name / f"{k}.png", (6, 6))
    data = import_image_folder(tmp_path, size=(6, 6))
    assert (data.num_train, data.num_test) == (6, 2) and data.info.class_names == ("left", "right")


@needs_pillow
def test_image_folder_refuses_when_nothing_usable_is_left(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    (tmp_path / "cat" / "a.png").write_bytes(b"garbage")
    (tmp_path / "dog" / "b.jpg").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"no usable images in cat, dog; problems:\n.*a\.png: skipped"):
        import_image_folder(tmp_path)
    with pytest.raises(DatasetError, match="expected one sub-folder per class"):
        import_image_folder(tmp_path / "cat")
    with pytest.raises(DatasetError, match="expected color 'auto', 'grayscale' or 'rgb'"):
        import_image_folder(tmp_path, color="cmyk")


@needs_pillow
def test_image_folder_refuses_decompression_bombs(tmp_path, monkeypatch):
    _image(tmp_path / "a" / "ok.png", (4, 4))
    _image(tmp_path / "b" / "huge.png", (64, 64))
    _image(tmp_path / "c" / "ok.png", (4, 4))
    from PIL import Image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 64*64 now counts as a bomb
    data = import_image_folder(tmp_path, size=(4, 4), test_fraction=0)
    assert data.num_train == 2
    assert any("huge.png: skipped" in w for w in data.warnings)
    assert any("class 'b' has no usable training images" in w for w in data.warnings)


# ---------------------------------------------------------------- CSV


def test_csv_with_header_and_label_column(tmp_path):
    rows = ["pixel0,pixel1,pixel2,pixel3,label"] + [f"{k},{k + 1},{255 - k},0,{k % 3}" for k in range(10)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    (tmp_path / "test.csv").write_text("pixel0,pixel1,pixel2,pixel3,label\n9,9,9,9,2\n")
    data = import_csv(tmp_path / "train.csv", test_path=tmp_path / "test.csv")
    stored = training_order(10, seed=0)  # the rows, in the seeded order an import stores training examples in
    assert data.train_images.shape == (10, 1, 2, 2) and data.train_labels.tolist() == [k % 3 for k in stored]
    assert data.train_images[np.flatnonzero(stored == 3)[0], 0].tolist() == [[3, 4], [252, 0]]
    assert data.test_labels.tolist() == [2] and data.info.class_names == ("0", "1", "2")


def test_csv_without_header_rgb_shape_and_explicit_shape(tmp_path):
    (tmp_path / "rgb.csv").write_text("\n".join(",".join([str(k % 2)] + ["7"] * 12) for k in range(5)))
    data = import_csv(tmp_path / "rgb.csv", test_fraction=0.4)
    assert data.info.shape == (3, 2, 2) and (data.num_train, data.num_test) == (3, 2)
    flat = import_csv(tmp_path / "rgb.csv", shape=(1, 3, 4), test_fraction=0)
    assert flat.train_images.shape == (5, 1, 3, 4)
    (tmp_path / "odd.csv").write_text("0,1,2,3,4,5\n")
    with pytest.raises(DatasetError, match="cannot infer the image shape from 5 pixels per row; pass shape"):
        import_csv(tmp_path / "odd.csv")


@pytest.mark.parametrize(
    "bad_line, message",
    [
        ("1,2,3,4", r"line 4: expected 5 values like the first data row; received 4"),
        ("1,2,3,4,256", r"line 4, column 5: expected a whole pixel value from 0 to 255; received '256'"),
        ("1,2,0.5,4,5", r"line 4, column 3: expected a whole pixel value from 0 to 255; received '0.5'"),
        ("-1,2,3,4,5", r"line 4, column 1 \(the label\): expected a class index from 0 to 9,999 .*; received '-1'"),
        ("x,2,3,4,5", r"line 4, column 1 \(the label\): expected a class index from 0 to 9,999 .*; received 'x'"),
    ],
)
def test_malformed_csv_row_is_refused_with_file_and_line(tmp_path, bad_line, message):
    lines = ["label,a,b,c,d", "0,1,2,3,4", "1,5,6,7,8", bad_line, "2,1,1,1,1"]
    (tmp_path / "digits.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=r"digits\.csv, " + message):
        import_csv(tmp_path / "digits.csv")


def test_csv_that_is_not_text_or_is_empty(tmp_path):
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81" * 20)
    with pytest.raises(DatasetError, match="expected a UTF-8 text CSV file"):
        import_csv(tmp_path / "binary.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DatasetError, match="empty file"):
        import_csv(tmp_path / "empty.csv")
    (tmp_path / "header-only.csv").write_text("label,p0,p1,p2,p3\n")
    with pytest.raises(DatasetError, match="no data rows"):
        import_csv(tmp_path / "header-only.csv")


def test_the_held_out_test_set_takes_the_same_share_of_every_class(tmp_path):
    """A plain random 20% of a small set can leave a rare class without test examples; each class gives its share."""
    from engine.datasets import import_npz

    labels = np.repeat([0, 1, 2], [50, 5, 2])
    images = np.arange(len(labels) * 4, dtype=np.uint8).reshape(-1, 1, 2, 2)
    np.savez(tmp_path / "small.npz", images=images, labels=labels)
    data = import_npz(tmp_path / "small.npz", test_fraction=0.2, seed=3)
    assert np.bincount(data.test_labels).tolist() == [10, 1, 1]
    assert np.bincount(data.train_labels).tolist() == [40, 4, 1]
    kept = np.concatenate([data.train_images, data.test_images]).reshape(len(labels), -1)[:, 0]
    assert sorted(kept.tolist()) == sorted(images.reshape(len(labels), -1)[:, 0].tolist())  # nothing lost or doubled
    assert any("the same share of each class" in note for note in data.notes)
