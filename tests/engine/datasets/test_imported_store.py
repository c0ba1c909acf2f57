"""The store of imported data sets: save, list, load (checked by SHA-256), replace, delete; names; a failure
mid-save leaves nothing; a damaged folder is named with what is wrong, and never breaks the listing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from engine import datasets
from engine.datasets import imported_manifest, user_sets
from engine.datasets.dataset import Dataset
from engine.datasets.registry import DatasetInfo


def small_set(seed: int = 0, *, shape=(3, 5, 4), classes=("cat", "dog", "emu"), warnings=(), notes=()) -> Dataset:
    rng = np.random.default_rng(seed)
    info = DatasetInfo(name="pets", title="Imported from /somewhere/pets", shape=shape, class_names=classes,
                       source="/somewhere/pets", license="the user's own data")
    return Dataset(info, rng.integers(0, 256, (12, *shape), dtype=np.uint8), np.arange(12) % len(classes),
                   rng.integers(0, 256, (4, *shape), dtype=np.uint8), np.arange(4) % len(classes),
                   warnings=warnings, notes=notes)


def test_the_store_follows_the_environment_and_defaults_to_the_user_data_folder(monkeypatch, tmp_path):
    assert datasets.IMPORTED_DIR_ENV == "LAYERLAB_IMPORTED_DIR"
    assert "imported-sets" in str(datasets.imported_dir())  # tests/conftest.py: never the user's own store
    pytest.importorskip("platformdirs")
    import platformdirs

    monkeypatch.delenv(datasets.IMPORTED_DIR_ENV)
    assert datasets.imported_dir() == Path(platformdirs.user_data_dir("layerlab")) / "datasets"
    monkeypatch.setenv(datasets.IMPORTED_DIR_ENV, str(tmp_path))
    assert datasets.imported_dir() == tmp_path


def test_save_list_load_and_delete_round_trip():
    original = small_set(warnings=("/somewhere/pets/cat/x.png: skipped (is a damaged image)",),
                         notes=("colour images: 3 channels",))
    saved = datasets.save_imported(original, "My pets", title="Pets at home")
    assert (saved.name, saved.title, saved.shape, saved.class_names) == ("My pets", "Pets at home", (3, 5, 4),
                                                                          ("cat", "dog", "emu"))
    assert (saved.num_train, saved.num_test, saved.source) == (12, 4, "/somewhere/pets")
    assert saved.sha256 == datasets.dataset_sha256(original) and len(saved.sha256) == 64
    assert saved.imported_at.endswith("+00:00") and saved.warnings == original.warnings
    folder = datasets.imported_dir() / "My pets"
    stored = sorted([*imported_manifest.ARRAY_FILES.values(), "manifest.json"])
    assert sorted(p.name for p in folder.iterdir()) == stored
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "layerlab-imported-dataset" and manifest["version"] == 1
    assert manifest["sha256"] == saved.sha256 and manifest["notes"] == ["colour images: 3 channels"]
    assert [p.name for p in datasets.imported_dir().iterdir()] == ["My pets"]  # no temporary left

    assert datasets.list_imported() == [saved] and datasets.find_imported("my PETS") == saved
    status = {s.name: s for s in datasets.list_datasets()}["My pets"]
    assert (status.kind, status.sha256, status.available_offline) == ("imported", saved.sha256, True)
    assert status.location == str(folder) and status.to_dict()["kind"] == "imported"
    assert datasets.get_info("my pets").class_names == ("cat", "dog", "emu")

    datasets.clear_cache()
    loaded = datasets.load("My pets")
    assert loaded is datasets.load("my pets")  # read and checked once per process
    assert loaded.info.name == "My pets" and loaded.info.shape == (3, 5, 4)
    for role in ("train_images", "train_labels", "test_images", "test_labels"):
        np.testing.assert_array_equal(getattr(loaded, role), getattr(original, role))
    assert loaded.train_labels.dtype == np.int64 and not loaded.train_images.flags.writeable
    assert loaded.warnings == original.warnings and loaded.notes == original.notes
    assert datasets.dataset_sha256(loaded) == saved.sha256

    datasets.delete_imported("my pets")
    assert datasets.list_imported() == [] and list(datasets.imported_dir().iterdir()) == []
    with pytest.raises(datasets.DatasetError, match=r"unknown dataset 'My pets'; expected one of mnist"):
        datasets.load("My pets")
    with pytest.raises(datasets.DatasetError, match=r"no imported data set named 'My pets'"):
        datasets.delete_imported("My pets")


def test_the_checksum_follows_the_values_not_how_they_are_stored():
    first, same, other = small_set(0), small_set(0), small_set(1)
    assert datasets.dataset_sha256(first) == datasets.dataset_sha256(same) != datasets.dataset_sha256(other)
    renamed = small_set(0, classes=("cat", "dog", "owl"))
    assert datasets.dataset_sha256(renamed) != datasets.dataset_sha256(first)


def test_a_taken_name_is_refused_unless_replacing_and_a_replace_swaps_the_whole_set():
    datasets.save_imported(small_set(0), "pets")
    with pytest.raises(datasets.DatasetError, match=r"pets: a data set named 'pets' is already imported"):
        datasets.save_imported(small_set(1), "PETS")  # one folder on macOS and Windows
    first = datasets.load("pets")
    replaced = datasets.save_imported(small_set(1), "pets", replace=True)
    assert datasets.load("pets") is not first
    assert datasets.dataset_sha256(datasets.load("pets")) == replaced.sha256 == datasets.dataset_sha256(small_set(1))
    assert [p.name for p in datasets.imported_dir().iterdir()] == ["pets"]


@pytest.mark.parametrize(("name", "problem"), [
    ("", "expected a name"),
    ("   ", "expected a name"),
    ("x" * 65, "expected at most 64 characters; received 65"),
    ("MNIST", "is the name of the built-in data set mnist"),
    ("kmnist", "is the name of the built-in data set kuzushiji-mnist"),
    ("cifar10", "is the name of the built-in data set cifar-10"),
    ("toy:spiral", "names starting with 'toy:' are the built-in 2-D toy sets"),
    ("a/b", "expected letters, digits, spaces and . _ - only; received '/'"),
    ("..", "may not start or end with a dot"),
    ("what?*", "received '*?'"),
])
def test_names_are_checked_in_words(name, problem):
    with pytest.raises(datasets.DatasetError, match="data set name") as caught:
        datasets.check_imported_name(name)
    assert problem in str(caught.value)
    assert not list(datasets.imported_dir().iterdir())


def test_good_names_pass_and_suggested_names_are_valid_and_free(tmp_path):
    assert datasets.check_imported_name("  my digits_v2.1 ") == "my digits_v2.1"
    assert datasets.check_imported_name("chiffres-é") == "chiffres-é"
    assert datasets.suggest_imported_name(tmp_path / "my digits") == "my digits"
    assert datasets.suggest_imported_name(tmp_path / "kaggle train.csv") == "kaggle train"
    assert datasets.suggest_imported_name(tmp_path / "flowers" / "train") == "flowers"
    assert datasets.suggest_imported_name(tmp_path / "mnist") == "mnist-imported"
    assert datasets.suggest_imported_name(tmp_path / "what?.npz") == "what"
    datasets.save_imported(small_set(), "pets")
    assert datasets.suggest_imported_name(tmp_path / "pets") == "pets 2"
    for path in ("", "...", "toy:x", "a" * 300):
        datasets.check_imported_name(datasets.suggest_imported_name(tmp_path / path))


def test_a_failure_mid_save_leaves_no_folder_and_keeps_the_old_set(monkeypatch):
    kept = datasets.save_imported(small_set(0), "pets")

    def failing_write(path, array, **kwargs):  # the disk fills up at the third of the four arrays
        if Path(path).name == imported_manifest.ARRAY_FILES["test_images"]:
            raise OSError(28, "No space left on device")
        return real_write(path, array, **kwargs)

    real_write = user_sets.write_idx
    monkeypatch.setattr(user_sets, "write_idx", failing_write)
    with pytest.raises(datasets.DatasetError, match=r"new set: could not be saved \(No space left on device\); "
                                                    r"nothing was changed"):
        datasets.save_imported(small_set(1), "new set")
    with pytest.raises(datasets.DatasetError, match="nothing was changed"):
        datasets.save_imported(small_set(1), "pets", replace=True)
    assert [p.name for p in datasets.imported_dir().iterdir()] == ["pets"]  # no temporary, no half set
    assert datasets.list_imported() == [kept]
    datasets.clear_cache()
    assert datasets.dataset_sha256(datasets.load("pets")) == kept.sha256


def test_a_temporary_folder_left_by_a_killed_save_is_cleared_by_the_next_one():
    root = datasets.imported_dir()
    dead = root / ".pets.999999999.0123abcd.importing"  # a pid no system hands out
    dead.mkdir(parents=True)
    (dead / "manifest.json").write_text("{")
    assert datasets.list_imported() == []  # never listed
    datasets.save_imported(small_set(), "other")
    assert not dead.exists()


def _damage(folder: Path, how: str) -> None:
    manifest = folder / "manifest.json"
    if how == "no manifest":
        manifest.unlink()
    elif how == "bad json":
        manifest.write_text("{not json")
    elif how == "bad field":
        data = json.loads(manifest.read_text())
        data["shape"] = [3, "five", 4]
        manifest.write_text(json.dumps(data))
    elif how == "array missing":
        (folder / imported_manifest.ARRAY_FILES["test_labels"]).unlink()
    elif how == "array changed":
        data = json.loads(manifest.read_text())
        datasets.write_idx(folder / imported_manifest.ARRAY_FILES["train_labels"], np.zeros(12, dtype=np.int32))
        manifest.write_text(json.dumps(data))
    elif how == "newer version":
        data = json.loads(manifest.read_text())
        data["version"] = 99
        manifest.write_text(json.dumps(data))


@pytest.mark.parametrize(("how", "problem"), [
    ("no manifest", "damaged imported data set: manifest.json is missing"),
    ("bad json", r"manifest\.json: is not valid JSON"),
    ("bad field", r"manifest\.json: shape: expected a list of 3 whole numbers"),
    ("array missing", r"damaged imported data set: .*test-labels-idx1-int32\.gz: no such file"),
    ("array changed", r"damaged imported data set: the arrays' SHA-256 is [0-9a-f]{64}, manifest\.json records"),
    ("newer version", r"written by a newer LayerLab \(store version 99"),
])
def test_a_damaged_set_is_named_with_what_is_wrong_and_the_others_still_list(how, problem):
    datasets.save_imported(small_set(0), "good")
    datasets.save_imported(small_set(1), "bad")
    datasets.clear_cache()
    folder = datasets.imported_dir() / "bad"
    _damage(folder, how)
    with pytest.raises(datasets.DatasetError, match=problem) as caught:
        datasets.load("bad")
    assert str(folder) in str(caught.value)
    readable = ["bad"] if how in ("array missing", "array changed") else []  # the manifest itself reads
    assert [entry.name for entry in datasets.list_imported()] == sorted([*readable, "good"])
    assert datasets.load("good").num_train == 12


def test_the_listing_never_raises_on_litter_in_the_store():
    root = datasets.imported_dir()
    (root / "a file, not a folder").write_text("x")
    (root / "empty folder").mkdir()
    (root / "huge").mkdir()
    (root / "huge" / "manifest.json").write_bytes(b" " * (imported_manifest.MAX_MANIFEST_BYTES + 1))
    (root / "list").mkdir()
    (root / "list" / "manifest.json").write_text("[1, 2]")
    if hasattr(os, "mkfifo"):
        (root / "fifo").mkdir()
        os.mkfifo(root / "fifo" / "manifest.json")  # would block a plain open() forever
    datasets.save_imported(small_set(), "pets")
    assert [entry.name for entry in datasets.list_imported()] == ["pets"]
    assert [s.name for s in datasets.list_datasets() if s.kind == "imported"] == ["pets"]
    with pytest.raises(datasets.DatasetError, match=r"huge.manifest\.json: is .*; this kind of file is at most"):
        datasets.load("huge")


def test_a_registry_name_always_means_the_registry_set():
    # Even a folder named like a registry set, made by hand, never shadows it.
    datasets.save_imported(small_set(), "pets")
    os.rename(datasets.imported_dir() / "pets", datasets.imported_dir() / "mnist")
    assert datasets.load("mnist").info.shape == (1, 28, 28)
    assert datasets.get_info("mnist").title == "MNIST handwritten digits"


def test_without_platformdirs_or_the_variable_there_is_no_store_and_listing_still_works(monkeypatch, data_dir):
    import builtins

    real_import = builtins.__import__

    def no_platformdirs(name, *args, **kwargs):  # a bare GPU box: NumPy and the engine only
        if name == "platformdirs":
            raise ImportError("No module named 'platformdirs'")
        return real_import(name, *args, **kwargs)

    monkeypatch.delenv(datasets.IMPORTED_DIR_ENV)
    monkeypatch.setattr(builtins, "__import__", no_platformdirs)
    assert datasets.list_imported() == [] and datasets.find_imported("pets") is None
    assert "mnist" in [status.name for status in datasets.list_datasets()]
    with pytest.raises(datasets.DatasetError, match=r"pets: cannot store imported data sets: set "
                                                    r"LAYERLAB_IMPORTED_DIR to a folder"):
        datasets.save_imported(small_set(), "pets")
