"""``import_path`` for every format, from small files written here: detection, sizes and colour, notes, progress
and cancelling, and every bad case named in words (empty folder, one class, corrupt image, bad CSV label,
a header claiming 2 GB, pickled objects in an .npz)."""

from __future__ import annotations

import importlib
import io
import struct
import zipfile

import numpy as np
import pytest

from engine import datasets
from engine.datasets import DatasetError, ImportCancelled, detect_format, import_npz, import_path
from engine.datasets.importing import training_order

Image = pytest.importorskip("PIL.Image")


def _png(path, size_hw=(6, 6), mode="L", value=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    colour = value if mode == "L" else (value, 255 - value, 30)
    Image.new(mode, (size_hw[1], size_hw[0]), colour).save(path)


def _class_folders(root, classes=("cat", "dog"), per_class=4, **kwargs):
    for name in classes:
        for k in range(per_class):
            _png(root / name / f"{k}.png", value=40 * k + 10, **kwargs)


class Recorder:
    """A progress callback that records its calls, and cancels after ``cancel_after`` of them if asked."""

    def __init__(self, cancel_after: int | None = None):
        self.calls: list[tuple[int, int]] = []
        self.cancel_after = cancel_after

    def __call__(self, done: int, total: int) -> None:
        self.calls.append((done, total))
        if self.cancel_after is not None and len(self.calls) >= self.cancel_after:
            raise ImportCancelled()

    def check_monotonic_and_complete(self) -> None:
        assert self.calls, "progress was never reported"
        dones = [done for done, _ in self.calls]
        assert dones == sorted(dones) and self.calls[-1][0] == self.calls[-1][1]
        assert len({total for _, total in self.calls}) == 1


def _npz(path, **arrays) -> None:
    np.savez(path, **arrays)


# ------------------------------------------------------------------------------------------ detection


def test_detect_format_looks_at_the_content(tmp_path):
    _class_folders(tmp_path / "pets")
    datasets.write_idx(tmp_path / "idx" / "train-images-idx3-ubyte.gz", np.zeros((4, 3, 3), np.uint8))
    datasets.write_idx(tmp_path / "idx" / "train-labels-idx1-ubyte.gz", np.arange(4, dtype=np.uint8) % 2)
    (tmp_path / "table.csv").write_text("label,p0\n0,1\n")
    (tmp_path / "no-extension").write_text("0,1,2,3,4\n")
    _npz(tmp_path / "arrays.npz", images=np.zeros((2, 2, 2), np.uint8), labels=np.array([0, 1]))
    (tmp_path / "renamed.bin").write_bytes((tmp_path / "arrays.npz").read_bytes())
    assert detect_format(tmp_path / "pets") == "images"
    assert detect_format(tmp_path / "idx") == "idx"
    assert detect_format(tmp_path / "idx" / "train-images-idx3-ubyte.gz") == "idx"
    assert detect_format(tmp_path / "table.csv") == "csv" == detect_format(tmp_path / "no-extension")
    assert detect_format(tmp_path / "arrays.npz") == "npz" == detect_format(tmp_path / "renamed.bin")


@pytest.mark.parametrize(("make", "problem"), [
    (lambda p: p.mkdir(), "the folder is empty; expected a folder with one sub-folder of images per class"),
    (lambda p: _png(p / "a.png") or _png(p / "b.png"), "holds 2 images but no sub-folders; expected one "
                                                        "sub-folder per class"),
    (lambda p: None, "no such file or folder"),
    (lambda p: _png(p.with_suffix(".png")) or p.with_suffix(".png").rename(p), "not a format LayerLab imports"),
    (lambda p: p.write_bytes(b"\x00\x01binary\xff"), "not a format LayerLab imports"),
])
def test_what_is_not_importable_is_refused_in_words(tmp_path, make, problem):
    target = tmp_path / "thing"
    make(target)
    with pytest.raises(DatasetError, match=problem) as caught:
        import_path(target)
    assert str(target) in str(caught.value)


def test_a_single_image_file_says_to_choose_its_folder(tmp_path):
    _png(tmp_path / "seven.png")
    with pytest.raises(DatasetError, match=r"seven\.png: is a single image; to import images, choose the folder"):
        import_path(tmp_path / "seven.png")


# ------------------------------------------------------------------------------------------ image folders


def test_image_folder_takes_the_most_common_size_and_notes_the_others(tmp_path):
    for k in range(3):
        _png(tmp_path / "cat" / f"{k}.png", (20, 16))
        _png(tmp_path / "dog" / f"{k}.png", (20, 16))
    _png(tmp_path / "dog" / "big.png", (64, 48))
    _png(tmp_path / "cat" / "small.png", (10, 10))
    data = import_path(tmp_path, test_fraction=0)
    assert data.info.shape == (1, 20, 16) and data.num_train == 8
    assert "images came in 3 sizes (10x10 to 64x48); all resized to 20x16" in data.notes
    assert "grayscale images: 1 channel" in data.notes
    fixed = import_path(tmp_path, size=(8, 8), test_fraction=0)
    assert fixed.info.shape == (1, 8, 8)
    assert "images came in 3 sizes (10x10 to 64x48); all resized to 8x8" in fixed.notes


def test_color_auto_is_rgb_when_any_image_is_colour(tmp_path):
    _class_folders(tmp_path / "grey")
    grey = import_path(tmp_path / "grey", test_fraction=0)
    assert grey.info.shape == (1, 6, 6)
    _class_folders(tmp_path / "mixed")
    _png(tmp_path / "mixed" / "dog" / "red.png", mode="RGB", value=200)
    mixed = import_path(tmp_path / "mixed", test_fraction=0)
    assert mixed.info.shape == (3, 6, 6)
    assert any(note.startswith("colour images: 3 channels (1 of 9 images are colour") for note in mixed.notes)
    colourful = [image for image in mixed.train_images if len(set(image[:, 0, 0].tolist())) > 1]
    assert [image[:, 0, 0].tolist() for image in colourful] == [[200, 55, 30]]  # dog/red.png, the one colour image
    as_grey = import_path(tmp_path / "mixed", color="grayscale", test_fraction=0)
    assert as_grey.info.shape == (1, 6, 6) and "grayscale images: 1 channel (1 colour images converted to grey)" \
        in as_grey.notes


def test_large_photos_are_brought_to_at_most_128_pixels_a_side_unless_a_size_is_given(tmp_path):
    """Phone photos at their own size would take 36 MB an example; without a size the import keeps it small."""
    _class_folders(tmp_path, per_class=2, size_hw=(600, 900))
    data = import_path(tmp_path, test_fraction=0)
    assert data.info.shape == (1, 85, 128)  # the aspect kept
    assert any("smaller than the images' own 600x900" in note and "at most 128 pixels on a side" in note
               for note in data.notes)
    assert import_path(tmp_path, size=(300, 450), test_fraction=0).info.shape == (1, 300, 450)  # asked for


def test_an_import_that_would_not_fit_in_memory_is_refused_before_decoding(tmp_path, monkeypatch):
    from engine.datasets import import_images

    _class_folders(tmp_path, per_class=3, size_hw=(40, 40))
    monkeypatch.setattr(import_images, "memory_limit_bytes", lambda: 10_000)  # a computer of 10 kB
    progress = Recorder()
    with pytest.raises(DatasetError, match=r"6 images of 1x40x40 need 19\.2 KB of memory to import; this computer "
                                           r"has 10\.0 KB\. Choose a smaller size"):
        import_path(tmp_path, progress=progress)
    assert max(done for done, _ in progress.calls) <= 6  # the headers were read, no image was decoded
    assert import_path(tmp_path, size=(10, 10), test_fraction=0).num_train == 6  # small enough: imported


def test_a_corrupt_image_is_skipped_and_listed(tmp_path):
    _class_folders(tmp_path)
    (tmp_path / "cat" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    data = import_path(tmp_path, test_fraction=0)
    assert data.num_train == 8
    assert len(data.warnings) == 1 and data.warnings[0].startswith(str(tmp_path / "cat" / "broken.png"))
    assert ": skipped (" in data.warnings[0]


def test_a_single_class_is_refused(tmp_path):
    _class_folders(tmp_path, classes=("cat",))
    with pytest.raises(DatasetError, match=r"found one class folder \('cat'\); a data set needs at least two "
                                           r"classes") as caught:
        import_path(tmp_path)
    assert str(tmp_path) in str(caught.value)


def test_class_folders_without_files_are_refused(tmp_path):
    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    with pytest.raises(DatasetError, match=r"the class folders \(cat, dog\) hold no files"):
        import_path(tmp_path)


def test_image_progress_counts_files_and_cancelling_stops_it(tmp_path):
    _class_folders(tmp_path, per_class=5)
    progress = Recorder()
    import_path(tmp_path, progress=progress)
    progress.check_monotonic_and_complete()
    assert progress.calls[-1] == (20, 20)  # ten files, each visited twice (sizes first, then pixels)
    cancel = Recorder(cancel_after=3)
    with pytest.raises(ImportCancelled):
        import_path(tmp_path, progress=cancel)
    assert len(cancel.calls) == 3
    assert not list(datasets.imported_dir().iterdir())  # nothing stored by an import


def test_ten_classes_with_train_and_test_folders_keep_their_split(tmp_path):
    for split, count in (("train", 3), ("test", 2)):
        _class_folders(tmp_path / split, classes=("a", "b", "c"), per_class=count)
    data = import_path(tmp_path)
    assert (data.num_train, data.num_test) == (9, 6) and data.info.class_names == ("a", "b", "c")
    assert any(note.startswith("test set: the 6 images of test") for note in data.notes)


def test_a_train_folder_alone_holds_the_classes(tmp_path):
    _class_folders(tmp_path / "train", classes=("a", "b"), per_class=5)
    data = import_path(tmp_path, test_fraction=0.2)
    assert data.info.class_names == ("a", "b") and (data.num_train, data.num_test) == (8, 2)


# ------------------------------------------------------------------------------------------ IDX


def test_idx_folder_through_import_path_with_progress(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (10, 4, 4), dtype=np.uint8)
    datasets.write_idx(tmp_path / "train-images-idx3-ubyte.gz", images)
    datasets.write_idx(tmp_path / "train-labels-idx1-ubyte.gz", (np.arange(10) % 3).astype(np.uint8))
    progress = Recorder()
    data = import_path(tmp_path / "train-images-idx3-ubyte.gz", test_fraction=0, progress=progress)
    np.testing.assert_array_equal(data.train_images[:, 0], images[training_order(10, seed=0)])
    assert progress.calls == [(0, 2), (1, 2), (2, 2)]
    with pytest.raises(ImportCancelled):
        import_path(tmp_path, progress=Recorder(cancel_after=2))


@pytest.mark.parametrize("compress", [False, True])
def test_an_idx_header_claiming_2_gb_is_refused_before_allocating(tmp_path, compress):
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 2_000_000, 32, 32)  # 2,048,000,000 bytes declared
    body = header + bytes(100)
    name = "train-images-idx3-ubyte" + (".gz" if compress else "")
    if compress:
        import gzip

        body = gzip.compress(body)
    (tmp_path / name).write_bytes(body)
    datasets.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(3, np.uint8))
    declared = r"header declares shape \(2000000, 32, 32\)(,| \() ?(i\.e\. )?2,048,000,000 bytes"
    with pytest.raises(DatasetError, match=declared) as caught:
        import_path(tmp_path)
    assert name in str(caught.value)


# ------------------------------------------------------------------------------------------ CSV


def _csv(path, rows, header="label,p0,p1,p2,p3"):
    path.write_text("\n".join([header, *rows]) + "\n")


def test_csv_through_import_path_with_a_named_label_column_and_progress(tmp_path, monkeypatch):
    csv_module = importlib.import_module("engine.datasets.import_csv")  # the package's name is the function
    monkeypatch.setattr(csv_module, "CHUNK_CHARS", 40)  # several chunks from a small file
    rows = [f"{k},{k % 4},{k},{255 - k},{k % 2}" for k in range(30)]
    _csv(tmp_path / "data.csv", rows, header="p0,p1,p2,p3,kind")
    progress = Recorder()
    data = import_path(tmp_path / "data.csv", label_column="kind", test_fraction=0, progress=progress)
    stored = training_order(30, seed=0)  # the rows, in the seeded order an import stores training examples in
    assert data.info.shape == (1, 2, 2) and data.train_labels.tolist() == [k % 2 for k in stored]
    assert data.train_images[np.flatnonzero(stored == 7)[0], 0].tolist() == [[7, 3], [7, 248]]
    progress.check_monotonic_and_complete()
    assert len(progress.calls) > 5 and progress.calls[-1][1] == (tmp_path / "data.csv").stat().st_size
    by_number = import_path(tmp_path / "data.csv", label_column="4", test_fraction=0)
    assert by_number.train_labels.tolist() == data.train_labels.tolist()
    with pytest.raises(ImportCancelled):
        import_path(tmp_path / "data.csv", label_column="kind", progress=Recorder(cancel_after=2))


@pytest.mark.parametrize(("row", "problem"), [
    ("cat,1,2,3,4", r"line 3, column 1 \(the label\): expected a class index .*; received 'cat'"),
    (",1,2,3,4", r"line 3, column 1 \(the label\): expected a class index .*; received nothing \(a missing value\)"),
    ("1.5,1,2,3,4", r"line 3, column 1 \(the label\): expected a class index .*; received '1.5'"),
])
def test_csv_with_a_bad_or_missing_label_names_the_line(tmp_path, row, problem):
    _csv(tmp_path / "bad.csv", ["0,1,2,3,4", row, "1,1,2,3,4"])
    with pytest.raises(DatasetError, match=problem) as caught:
        import_path(tmp_path / "bad.csv")
    assert str(tmp_path / "bad.csv") in str(caught.value)


def test_csv_of_one_class_is_refused(tmp_path):
    _csv(tmp_path / "one.csv", ["3,1,2,3,4"] * 5)
    with pytest.raises(DatasetError, match=r"one\.csv: found only the class '3' with training examples; a data set "
                                           r"needs at least two classes"):
        import_path(tmp_path / "one.csv", test_fraction=0)


# ------------------------------------------------------------------------------------------ npz


def test_npz_with_test_arrays_class_names_and_channels_last(tmp_path):
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, (12, 5, 4, 3), dtype=np.uint8)  # N, H, W, C as Keras keeps them
    _npz(tmp_path / "set.npz", images=images, labels=np.arange(12) % 3,
         test_images=images[:4], test_labels=np.arange(4) % 3, class_names=np.array(["ant", "bee", "cow"]))
    progress = Recorder()
    data = import_path(tmp_path / "set.npz", progress=progress)
    assert data.info.shape == (3, 5, 4) and data.info.class_names == ("ant", "bee", "cow")
    np.testing.assert_array_equal(data.train_images, images.transpose(0, 3, 1, 2)[training_order(12, seed=0)])
    np.testing.assert_array_equal(data.test_images, images[:4].transpose(0, 3, 1, 2))  # test keeps its order
    assert (data.num_train, data.num_test) == (12, 4)
    assert "channels-last arrays (N, H, W, C) read as (N, C, H, W)" in data.notes
    assert progress.calls[-1] == (5, 5)
    with pytest.raises(ImportCancelled):
        import_path(tmp_path / "set.npz", progress=Recorder(cancel_after=2))


def test_npz_floats_from_0_to_1_are_scaled_and_labels_held_out(tmp_path):
    images = np.linspace(0, 1, 10 * 16).reshape(10, 4, 4)
    _npz(tmp_path / "f.npz", images=images, labels=np.arange(10) % 2)
    data = import_npz(tmp_path / "f.npz", class_names=["even", "odd"], test_fraction=0.2, seed=3)
    assert data.info.shape == (1, 4, 4) and (data.num_train, data.num_test) == (8, 2)
    assert data.info.class_names == ("even", "odd")
    assert "pixel values from 0 to 1 scaled to 0-255" in data.notes
    assert data.train_images.max() <= 255 and {0, 255} <= set(np.concatenate(
        [data.train_images.ravel(), data.test_images.ravel()]).tolist())


def _npy_bytes(header: dict, payload: bytes) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + payload


@pytest.mark.parametrize(("member", "problem"), [
    (_npy_bytes({"descr": "|u1", "fortran_order": False, "shape": (2_000_000, 32, 32)}, bytes(64)),
     r"array 'images': its header declares shape \(2000000, 32, 32\) \(2,048,000,000 bytes\), but the archive holds "
     r"only 64 bytes for it"),
    (_npy_bytes({"descr": "|u1", "fortran_order": False, "shape": (10**7, 1000, 1000)}, bytes(64)),
     r"array 'images': its header declares shape \(10000000, 1000, 1000\) \(10,000,000,000,000 bytes\), more than "
     r"the 4,294,967,296 bytes LayerLab imports; refused before reading"),
    (_npy_bytes({"descr": "|O", "fortran_order": False, "shape": (2,)}, b"\x80\x04N."),
     r"array 'images' holds Python objects \(dtype object\); LayerLab reads only arrays of numbers or text, never "
     r"pickled objects"),
    (b"not an npy file at all", r"array 'images' is not a NumPy array"),
])
def test_hostile_npz_members_are_refused_before_they_are_read(tmp_path, member, problem):
    path = tmp_path / "hostile.npz"
    labels = io.BytesIO()
    np.save(labels, np.arange(2))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("images.npy", member)
        archive.writestr("labels.npy", labels.getvalue())
    with pytest.raises(DatasetError, match=problem) as caught:
        import_path(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(("arrays", "problem"), [
    ({"images": np.zeros((4, 2, 2), np.uint8)}, r"expected arrays named 'images' and 'labels'; found images"),
    ({"x": np.zeros(2)}, r"expected arrays named 'images' and 'labels'; found x"),
    ({"images": np.zeros((4, 2, 2), np.uint8), "labels": np.arange(4) % 2, "test_images": np.zeros((1, 2, 2))},
     r"has one test array but not 'test_labels'"),
    ({"images": np.full((4, 2, 2), 300), "labels": np.arange(4) % 2},
     r"array 'images': expected pixel values as whole numbers from 0 to 255 .*received values from 300 to 300"),
    ({"images": np.zeros((4, 2, 2), np.uint8), "labels": np.array([0, 1, -1, 0])},
     r"array 'labels', label 2: expected a class index from 0 to 9,999"),
    ({"images": np.zeros((4, 2, 2), np.uint8), "labels": np.arange(4) % 3, "class_names": np.array(["a", "b"])},
     r"class_names lists 2 names, but the labels go up to 2"),
    ({"images": np.zeros((4, 2, 2), np.uint8), "labels": np.zeros(4, int)}, r"a data set needs at least two classes"),
])
def test_bad_npz_arrays_are_named(tmp_path, arrays, problem):
    _npz(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DatasetError, match=problem):
        import_path(tmp_path / "bad.npz", test_fraction=0)


def test_an_npz_that_is_no_zip_is_refused(tmp_path):
    (tmp_path / "fake.npz").write_text("images,labels\n")
    with pytest.raises(DatasetError, match=r"fake\.npz: is named \.npz but is not a zip archive|fake\.npz"):
        import_npz(tmp_path / "fake.npz")


def test_options_for_another_format_are_noted_as_unused(tmp_path):
    _npz(tmp_path / "a.npz", images=np.zeros((4, 2, 2), np.uint8), labels=np.arange(4) % 2)
    data = import_path(tmp_path / "a.npz", size=(8, 8), label_column="label", test_fraction=0)
    assert "size and color apply to image folders only; not used for npz data" in data.notes
    assert "the label column applies to CSV files only; not used for npz data" in data.notes
