"""What each named data set is: shape, classes, where it comes from, and the checksum of every file.

The app and the CLI list these; ``engine.datasets.load(name)`` fetches and reads them. Where each
checksum came from is recorded in docs/datasets.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.datasets.errors import DatasetError

SPLIT_ROLES = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class DataFile:
    """One published file of a data set."""

    role: str  # one of SPLIT_ROLES
    filename: str  # the published name, e.g. "train-images-idx3-ubyte.gz"
    sha256: str  # of the published .gz file, exactly as the official mirror serves it
    size: int  # bytes of the published file: progress before the server answers, and the cap on its download
    content_sha256: str | None = None  # of the uncompressed IDX bytes: accepts re-gzipped or gunzipped copies


@dataclass(frozen=True)
class DatasetInfo:
    """A registry entry. ``shape`` is one example's (channels, height, width)."""

    name: str
    title: str
    shape: tuple[int, int, int]
    class_names: tuple[str, ...]
    source: str
    license: str
    homepage: str = ""
    files: tuple[DataFile, ...] = ()
    mirrors: tuple[str, ...] = ()  # base URLs tried in order; file names are appended
    bundled: bool = False  # ships in resources/datasets/<name>/
    system_folders: tuple[str, ...] = ()  # read-only copies installed by OS packages
    system_package: str = ""  # the Debian package that installs them

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def file(self, role: str) -> DataFile:
        for data_file in self.files:
            if data_file.role == role:
                return data_file
        raise DatasetError(f"dataset {self.name!r} has no {role!r} file")

    def to_dict(self) -> dict:
        """A JSON-serialisable summary (no file list), for the CLI and project files."""
        return {
            "name": self.name,
            "title": self.title,
            "shape": list(self.shape),
            "num_classes": self.num_classes,
            "class_names": list(self.class_names),
            "source": self.source,
            "license": self.license,
            "homepage": self.homepage,
        }


def _idx_files(sizes, sha256s, content_sha256s=(None, None, None, None)) -> tuple[DataFile, ...]:
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    return tuple(DataFile(*fields) for fields in zip(SPLIT_ROLES, names, sha256s, sizes, content_sha256s, strict=True))


MNIST = DatasetInfo(
    name="mnist",
    title="MNIST handwritten digits",
    shape=(1, 28, 28),
    class_names=tuple("0123456789"),
    source="Yann LeCun, Corinna Cortes and Christopher J.C. Burges; bundled with LayerLab",
    license="CC BY-SA 3.0 (Yann LeCun and Corinna Cortes)",
    homepage="http://yann.lecun.com/exdb/mnist/",
    files=_idx_files(
        (9_912_422, 28_881, 1_648_877, 4_542),
        ("440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
         "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
         "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
         "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
        ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
         "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
         "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
         "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    ),
    # Only used if an install lost resources/datasets/mnist/.
    mirrors=("https://storage.googleapis.com/cvdf-datasets/mnist/", "https://ossci-datasets.s3.amazonaws.com/mnist/"),
    bundled=True,
)

FASHION_MNIST = DatasetInfo(
    name="fashion-mnist",
    title="Fashion-MNIST (Zalando article images)",
    shape=(1, 28, 28),
    class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    source="Zalando Research (Han Xiao, Kashif Rasul, Roland Vollgraf, 2017)",
    license="MIT, copyright Zalando SE",
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    files=_idx_files(
        (26_421_880, 29_515, 4_422_102, 5_148),
        ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
         "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
         "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
         "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
        ("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
         "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
         "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
         "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    ),
    # https only. The S3 website endpoint Zalando's README names (s3-website.eu-central-1) serves plain http
    # alone; the same bucket's REST endpoint serves https. Keras downloads Fashion-MNIST under the same file
    # names from its Google Cloud bucket. Either way the SHA-256 above decides whether a file is accepted.
    mirrors=("https://fashion-mnist.s3.amazonaws.com/", "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),
    system_folders=("/usr/share/datasets/fashion-mnist",),
    system_package="dataset-fashion-mnist",
)

KUZUSHIJI_MNIST = DatasetInfo(
    name="kuzushiji-mnist",
    title="Kuzushiji-MNIST (cursive Japanese hiragana)",
    shape=(1, 28, 28),
    class_names=("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"),
    source="ROIS-DS Center for Open Data in the Humanities (CODH), adapted from the Kuzushiji Dataset "
           "(NIJL and others), doi:10.20676/00000341; Clanuwat et al. 2018, arXiv:1812.01718",
    license="CC BY-SA 4.0",
    homepage="https://codh.rois.ac.jp/kmnist/",
    files=_idx_files(
        (18_165_135, 29_497, 3_041_136, 5_120),
        ("51467d22d8cc72929e2a028a0428f2086b092bb31cfb79c69cc0a90ce135fde4",
         "e38f9ebcd0f3ebcdec7fc8eabdcdaef93bb0df8ea12bee65224341c8183d8e17",
         "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5",
         "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c"),
    ),
    mirrors=("https://codh.rois.ac.jp/kmnist/dataset/kmnist/",),  # CODH serves https; no plain-http fallback
)

REGISTRY: dict[str, DatasetInfo] = {info.name: info for info in (MNIST, FASHION_MNIST, KUZUSHIJI_MNIST)}
_ALIASES = {"fashion_mnist": "fashion-mnist", "fmnist": "fashion-mnist", "kmnist": "kuzushiji-mnist",
            "kuzushiji_mnist": "kuzushiji-mnist"}


def get_info(name: str) -> DatasetInfo:
    """The registry entry for ``name`` (case-insensitive; "kmnist" and "fashion_mnist" also work)."""
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in REGISTRY:
        raise DatasetError(f"unknown dataset {name!r}; expected one of {', '.join(REGISTRY)}")
    return REGISTRY[key]
