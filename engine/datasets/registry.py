"""What each named data set is: shape, classes, where it comes from, and the checksum of every file.

The app and the CLI list these; ``engine.datasets.load(name)`` fetches and reads them. Where each
checksum came from is recorded in docs/datasets.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.datasets.errors import DatasetError

SPLIT_ROLES = ("train_images", "train_labels", "test_images", "test_labels")
ARCHIVE_ROLE = "archive"  # the one file of a set published as a single archive (CIFAR-10's .tar.gz)
# How a set's files become arrays; ``engine.datasets.load`` dispatches on it.
FORMATS = ("idx", "cifar10-binary", "generated")


@dataclass(frozen=True)
class DataFile:
    """One published file of a data set."""

    role: str  # one of SPLIT_ROLES, or ARCHIVE_ROLE for a one-file set
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
    format: str = "idx"  # one of FORMATS: four IDX files, CIFAR-10's binary archive, or made by code (no files)

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
            "format": self.format,
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

CIFAR_10 = DatasetInfo(
    name="cifar-10",
    title="CIFAR-10 (small colour photos, 10 classes)",
    shape=(3, 32, 32),
    class_names=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    source="Alex Krizhevsky, Vinod Nair and Geoffrey Hinton, University of Toronto (Learning Multiple Layers of "
           "Features from Tiny Images, 2009)",
    license="no licence stated; free to use with attribution to the Toronto technical report",
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    # The SHA-256 of the binary version as Toronto serves it, recorded by two independent projects
    # (ankane/torchvision-ruby lib/torchvision/datasets/cifar10.rb, gomlx/gomlx examples/cifar/cifar.go);
    # Toronto's page gives only its MD5, c32a1d4ab5d03f1284b67883e8d87530.
    files=(DataFile(ARCHIVE_ROLE, "cifar-10-binary.tar.gz",
                    "c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd", 170_052_171),),
    mirrors=("https://www.cs.toronto.edu/~kriz/",),
    format="cifar10-binary",
)

COLOUR_SHAPES = DatasetInfo(
    name="colour-shapes",
    title="Colour shapes (generated: 32x32 circles, squares and triangles in red, green and blue)",
    shape=(3, 32, 32),
    class_names=tuple(f"{colour} {shape}" for colour in ("red", "green", "blue")
                      for shape in ("circle", "square", "triangle")),
    source="generated by LayerLab (engine/datasets/colour_shapes.py); the class depends on both shape and colour",
    license="CC0 (made by code, no outside data)",
    format="generated",
)

REGISTRY: dict[str, DatasetInfo] = {info.name: info for info in (MNIST, FASHION_MNIST, KUZUSHIJI_MNIST, CIFAR_10,
                                                                 COLOUR_SHAPES)}
_ALIASES = {"fashion_mnist": "fashion-mnist", "fmnist": "fashion-mnist", "kmnist": "kuzushiji-mnist",
            "kuzushiji_mnist": "kuzushiji-mnist", "cifar10": "cifar-10", "cifar_10": "cifar-10",
            "color-shapes": "colour-shapes", "colour_shapes": "colour-shapes", "color_shapes": "colour-shapes"}


def registry_key(name: str) -> str | None:
    """The registry name ``name`` means (case-insensitive, aliases allowed), or None when it is none of them."""
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    return key if key in REGISTRY else None


def get_info(name: str) -> DatasetInfo:
    """The registry entry for ``name`` (case-insensitive; "kmnist" and "fashion_mnist" also work).

    Registry sets only; ``engine.datasets.get_info`` also knows the sets the user imported.
    """
    key = registry_key(name)
    if key is None:
        raise DatasetError(f"unknown dataset {name!r}; expected one of {', '.join(REGISTRY)}")
    return REGISTRY[key]
