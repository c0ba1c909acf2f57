"""``layerlab datasets [--json]``: the data sets LayerLab knows, their shape and classes, and where they are."""

from __future__ import annotations

import json

from app.commands.engine_files import import_engine, shape_text


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "datasets",
        help="list the data sets LayerLab knows and whether they are on this machine",
        description="List the registered data sets: name, title, image shape (channels x height x width), "
        "number of classes, and whether they can be used offline (and from which folder). "
        "The others are downloaded on first use.",
    )
    parser.add_argument("--json", action="store_true", help='print one JSON object {"datasets": [...]}')
    parser.set_defaults(run=run)


def run(args) -> int:
    statuses = import_engine().datasets.list_datasets()
    if args.json:
        print(json.dumps({"datasets": [status.to_dict() for status in statuses]}, indent=1))
        return 0
    rows = [("NAME", "SHAPE", "CLASSES", "OFFLINE", "TITLE")]
    for status in statuses:
        rows.append((status.name, shape_text(status.info.shape), str(status.info.num_classes),
                     "yes" if status.available_offline else "no", status.info.title))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[-1])
    print()
    for status in statuses:
        if status.available_offline:
            print(f"{status.name}: {status.location}")
        else:
            megabytes = sum(data_file.size for data_file in status.info.files) / 1e6
            print(f"{status.name}: not on this machine; downloaded on first use ({megabytes:.0f} MB)")
    return 0
