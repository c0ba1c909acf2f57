"""``layerlab datasets``: the data sets LayerLab knows, and importing and removing your own.

    layerlab datasets [--json]                         list them: name, kind, shape, classes, where they are
    layerlab datasets import PATH --name NAME [...]    import a folder of class folders, IDX files, a CSV or .npz
    layerlab datasets remove NAME                      remove an imported set

An import prints its progress to stderr, then what it found (classes, counts per class, sizes, every file
skipped and why) and where the set is stored; from then on NAME works wherever a data set is asked for.
"""

from __future__ import annotations

import json
import re
import sys

from app.commands.command_error import CommandError
from app.commands.dataset_choice import print_summary, run_import
from app.commands.engine_files import import_engine, shape_text

SIZE_PATTERN = re.compile(r"\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*")
MAX_SIDE = 4096  # engine.datasets.import_images.MAX_SIDE


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "datasets",
        help="list the data sets LayerLab knows; import or remove your own",
        description="List the data sets: name, kind (bundled, download, generated or imported), image shape "
        "(channels x height x width), number of classes, and whether they can be used offline (and from which "
        "folder). Downloads happen on first use. `layerlab datasets import PATH --name NAME` imports your own.",
    )
    parser.add_argument("--json", action="store_true", help='print one JSON object {"datasets": [...]}')
    parser.set_defaults(run=run)
    commands = parser.add_subparsers(title="commands", dest="datasets_command", metavar="COMMAND")

    importer = commands.add_parser(
        "import", help="import a folder of images, IDX files, a CSV or a .npz as a named data set",
        description="Import PATH and store it under NAME in LayerLab's own format (in the user data folder). "
        "PATH is a folder with one sub-folder of images per class (optionally inside train/ and test/), a "
        "folder of IDX files, a CSV file (a label column and one column per pixel) or a NumPy .npz file "
        "(arrays images and labels, optionally test_images, test_labels and class_names).")
    importer.add_argument("path", metavar="PATH", help="the folder or file to import")
    importer.add_argument("--name", help="the name to store it under (default: from PATH)")
    importer.add_argument("--title", help="a longer title shown in pickers (default: the name)")
    importer.add_argument("--size", type=image_size, metavar="HxW",
                          help="image folders: the size to resize to, e.g. 28x28 (default: the most common size)")
    importer.add_argument("--color", choices=("auto", "grayscale", "rgb"), default="auto",
                          help="image folders: channels (default auto: RGB if any image is colour)")
    importer.add_argument("--label-column", metavar="C",
                          help="CSV files: the label column's name or number (default: 'label', else the first)")
    importer.add_argument("--replace", action="store_true", help="replace an imported set of the same name")
    importer.set_defaults(run=run_import_command)

    remover = commands.add_parser("remove", help="remove an imported data set",
                                  description="Remove the imported data set NAME from this machine.")
    remover.add_argument("name", metavar="NAME")
    remover.set_defaults(run=run_remove)


def image_size(text: str) -> tuple[int, int]:
    """An argparse type: "28x28" -> (28, 28), height first."""
    import argparse

    match = SIZE_PATTERN.fullmatch(text)
    if not match or not all(1 <= int(side) <= MAX_SIDE for side in match.groups()):
        raise argparse.ArgumentTypeError(f"expected HEIGHTxWIDTH with sides from 1 to {MAX_SIDE}, e.g. 28x28; "
                                         f"received {text[:40]!r}")
    return int(match[1]), int(match[2])


def run(args) -> int:
    datasets = import_engine().datasets
    statuses = datasets.list_datasets()
    damaged = datasets.damaged_imported()  # imported folders whose manifest does not read: listed to be removed
    if args.json:
        print(json.dumps({"datasets": [status.to_dict() for status in statuses],
                          "damaged": [{"name": name, "problem": problem} for name, problem in damaged]}, indent=1))
        return 0
    rows = [("NAME", "KIND", "SHAPE", "CLASSES", "OFFLINE", "TITLE")]
    for status in statuses:
        rows.append((status.name, status.kind, shape_text(status.info.shape), str(status.info.num_classes),
                     "yes" if status.available_offline else "no", status.info.title))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    print()
    for status in statuses:
        if status.kind == "generated":
            print(f"{status.name}: made on this machine when used (nothing to download)")
        elif status.available_offline:
            checksum = f" (SHA-256 {status.sha256[:12]}...)" if status.sha256 else ""
            print(f"{status.name}: {status.location}{checksum}")
        else:
            megabytes = sum(data_file.size for data_file in status.info.files) / 1e6
            print(f"{status.name}: not on this machine; downloaded on first use ({megabytes:.0f} MB)")
    for name, problem in damaged:
        print(f"{name}: damaged, not usable ({problem}); remove it with: layerlab datasets remove {_quoted(name)}")
    return 0


def run_import_command(args) -> int:
    from pathlib import Path

    datasets = import_engine().datasets
    path = Path(args.path).expanduser()
    try:
        name = datasets.check_imported_name(args.name if args.name is not None else
                                            datasets.suggest_imported_name(path))
        existing = datasets.find_imported(name)
    except datasets.DatasetError as error:
        raise CommandError(f"--name: {error}", 2) from None
    if existing is not None and not args.replace:  # refused before a long import, not after it
        raise CommandError(f"a data set named {existing.name!r} is already imported ({existing.folder}); choose "
                           f"another --name, or add --replace", 2)
    dataset = run_import(path, size=args.size, color=args.color, label_column=args.label_column)
    try:
        saved = datasets.save_imported(dataset, name, title=args.title, replace=args.replace)
    except datasets.DatasetError as error:
        raise CommandError(str(error)) from None
    print(f"imported {path} as {saved.name!r}")
    print_summary(dataset, stream=sys.stdout)
    print(f"stored in {saved.folder} (SHA-256 {saved.sha256})")
    print(f"use it with --dataset {_quoted(saved.name)}")
    return 0


def run_remove(args) -> int:
    datasets = import_engine().datasets
    found = datasets.find_imported(args.name)
    if found is None:
        try:
            built_in = datasets.get_info(args.name)
        except datasets.DatasetError:
            built_in = None
        if built_in is not None and built_in.name in datasets.REGISTRY:
            raise CommandError(f"{built_in.name} is a built-in data set; only imported sets can be removed", 2)
    try:
        datasets.delete_imported(found.name if found is not None else args.name)
    except datasets.DatasetError as error:
        raise CommandError(str(error)) from None
    print(f"removed the imported data set {found.name if found is not None else args.name!r}")
    return 0


def _quoted(name: str) -> str:
    return f"'{name}'" if any(c.isspace() for c in name) else name
