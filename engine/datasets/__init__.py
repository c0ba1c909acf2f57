"""Data for the engine: MNIST built in, other sets downloaded or imported safely, toy 2-D sets, batching.

    from engine import datasets
    mnist = datasets.load("mnist")                   # no network; uint8 (60000, 1, 28, 28), int64 labels
    splits = datasets.prepare(mnist)                 # 55,000 / 5,000 / 10,000 float32 in [0, 1]
    for x, y in splits.batches("train", 128, seed=0, augment=datasets.Augmentation()):
        ...
    datasets.list_datasets()                         # name, shape, classes, kind, available offline?
    digits = datasets.import_path("~/my_digits")     # a folder of class folders, IDX files, a CSV or a .npz
    datasets.save_imported(digits, "my digits")      # stored; datasets.load("my digits") from then on
    spiral = datasets.make_toy("spiral", n=400, noise=0.1, seed=0)

See docs/datasets.md. Everything here raises ``DatasetError`` for bad files, folders and downloads.
"""

from engine.datasets.augment import Augmentation
from engine.datasets.batching import BatchIterator
from engine.datasets.dataset import Dataset
from engine.datasets.download import ProgressCallback, download_file, fetch
from engine.datasets.errors import DatasetError, ImportCancelled
from engine.datasets.idx import read_idx, write_idx
from engine.datasets.import_any import IMPORT_FORMATS, detect_format, import_path
from engine.datasets.import_csv import import_csv
from engine.datasets.import_idx import import_idx_folder
from engine.datasets.import_images import import_image_folder
from engine.datasets.import_npz import import_npz
from engine.datasets.imported_manifest import ImportedSet
from engine.datasets.loading import DatasetStatus, clear_cache, get_info, list_datasets, load
from engine.datasets.registry import REGISTRY, DataFile, DatasetInfo
from engine.datasets.splits import Splits, prepare, split_off, to_float
from engine.datasets.storage import DATA_DIR_ENV, IMPORTED_DIR_ENV, data_dir, imported_dir
from engine.datasets.toy import (
    REGRESSION_TOY_DATASETS,
    TOY_DATASETS,
    ToyData,
    circles,
    gaussian_clusters,
    make_toy,
    sine,
    spiral,
    xor,
)
from engine.datasets.user_sets import (
    check_imported_name,
    damaged_imported,
    dataset_sha256,
    delete_imported,
    find_imported,
    list_imported,
    save_imported,
    suggest_imported_name,
)

__all__ = [
    "Augmentation", "BatchIterator", "DATA_DIR_ENV", "DataFile", "Dataset", "DatasetError", "DatasetInfo",
    "DatasetStatus", "IMPORTED_DIR_ENV", "IMPORT_FORMATS", "ImportCancelled", "ImportedSet", "ProgressCallback",
    "REGISTRY", "REGRESSION_TOY_DATASETS", "Splits", "TOY_DATASETS", "ToyData", "check_imported_name", "circles",
    "clear_cache",
    "damaged_imported", "data_dir", "dataset_sha256", "delete_imported", "detect_format", "download_file", "fetch",
    "find_imported",
    "gaussian_clusters", "get_info", "import_csv", "import_idx_folder", "import_image_folder", "import_npz",
    "import_path", "imported_dir", "list_datasets", "list_imported", "load", "make_toy", "prepare", "read_idx",
    "save_imported", "sine", "spiral", "split_off", "suggest_imported_name", "to_float", "write_idx", "xor",
]
