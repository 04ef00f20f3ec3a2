"""The dataset builder's part of the ``medqdeg`` command line (see ``eval_harness.cli``).

    medqdeg degrade IN --type T --level L [--seed S] [--modality M] [--force] -o OUT [--record R.json]
    medqdeg degradations list [--modality M]
    medqdeg degradations report [--seeds N] [--markdown FILE]
    medqdeg degradations gallery (IN | --sample KEY) [--modality M] -o OUT.png
    medqdeg build-dataset --out DIR [CONFIG ...] [--source S] [--data-dir D] [--limit N] [--seed S] ...
    medqdeg push-dataset DIR --repo ORG/NAME [--private]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from .errors import ModalityMismatchError
from .image_io import display, read_for_degrade, read_image, write_image
from .sample_images import CATALOGUE, load_sample
from .sources import SOURCES
from .vocabulary import DEGRADED_LEVELS, LEVEL_NAMES, level_name


def _degrade(args: argparse.Namespace) -> int:
    """Degrade one file. A DICOM CT is degraded in Hounsfield units and its window applied after
    (a ``.npy`` output keeps the HU values)."""
    from .degradations import degrade

    image, ct = read_for_degrade(args.input)
    facts = {"pixel_spacing": ct.pixel_spacing} if ct is not None else {}
    try:
        out, record = degrade(image, args.type, args.level, seed=args.seed, item_id=args.item_id,
                              modality=args.modality, force=args.force, **facts)
    except ModalityMismatchError as error:  # the Python API's advice, in this command's words
        raise ModalityMismatchError(str(error).replace("Pass force=True", "Pass --force")) from None
    if ct is not None and Path(args.output).suffix.lower() != ".npy":
        out = display(out, ct.window)
    write_image(out, args.output)
    if args.record:
        Path(args.record).write_text(record.to_json() + "\n")
    print(f"wrote {args.output}: {record.name} {level_name(record.level)} {json.dumps(record.params)}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from .degradations import describe_table, list_degradations

    for spec in list_degradations(args.modality):
        modalities = ", ".join(sorted(spec.modalities)) if spec.modalities else "all"
        print(f"{spec.name:24} {spec.category:16} {modalities}")
        print(f"{'':24} {spec.summary}")
        for level in DEGRADED_LEVELS:
            print(f"{'':24} {level_name(level)}: {describe_table(spec.levels[level])}")
    return 0


GENERATED_MARKER = "<!-- generated: medqdeg degradations report -->"
"""Where ``--markdown`` starts writing in an existing file: the text above it is kept."""


def _report(args: argparse.Namespace) -> int:
    from .degradations import ENGINE_VERSION
    from .quality.level_strength import (
        level_strength_markdown,
        measure_level_strength,
        parameters_markdown,
    )

    rows = measure_level_strength(seeds=args.seeds, names=args.types)
    table = level_strength_markdown(rows)
    print(table)
    if args.markdown:
        path = Path(args.markdown)
        kept = path.read_text().split(GENERATED_MARKER)[0] if path.exists() else ""
        path.write_text(
            kept + GENERATED_MARKER + "\n\n## Parameters per level\n\n" + parameters_markdown()
            + f"\n\n## Measured severity (engine version {ENGINE_VERSION}; every applicable image of the embedded"
            f" sample, {args.seeds} seed(s) each; median (10th-90th percentile))\n\n" + table + "\n")
    missed = [row.name for row in rows if row.failures()]
    if missed:
        print(f"targets missed by: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


def _gallery(args: argparse.Namespace) -> int:
    from .quality.gallery import gallery

    if args.sample:
        sample = load_sample(args.sample)
        image, modality, facts = sample.image, args.modality or sample.modality, sample.acquisition
    else:
        image, modality, facts = read_image(args.input), args.modality, {}
    picture = gallery(image, modality=modality, seed=args.seed, tile=args.tile, acquisition=facts)
    red, green, blue = (np.asarray(channel) for channel in picture.split())
    if np.array_equal(red, green) and np.array_equal(red, blue):
        picture = picture.convert("L")  # a grey image's grid: a third of the file
    picture.save(args.output, optimize=True)
    print(f"wrote {args.output}")
    return 0


def _build_dataset(args: argparse.Namespace) -> int:
    from .export import export_dataset

    options = {key: value for key, value in {
        "source": args.source, "data_dir": args.data_dir, "limit": args.limit, "seed": args.seed,
        "modalities": args.modalities, "types": args.types, "min_types": args.min_types,
        "max_types": args.max_types, "on_error": args.on_error, "revision": args.revision,
        "redegrade": args.redegrade or None,
    }.items() if value is not None}
    out = export_dataset(args.out, args.configs or ["default"], num_proc=args.num_proc, cache_dir=args.cache_dir,
                         severity_seeds=args.severity_seeds, **options)
    splits = "|".join(repr(name) for name in LEVEL_NAMES)
    print(f"wrote {out}: load it with datasets.load_dataset({str(out)!r}, CONFIG, split={splits})")
    return 0


def _push_dataset(args: argparse.Namespace) -> int:
    from .export import push_dataset

    print(push_dataset(args.folder, args.repo, private=args.private))
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add the dataset builder's commands to the ``medqdeg`` command line."""
    degrade = commands.add_parser("degrade", help="degrade one image file")
    degrade.add_argument("input", help="PNG, JPEG, TIFF, DICOM or .npy file")
    degrade.add_argument("--type", required=True, help="degradation type (see `medqdeg degradations list`)")
    degrade.add_argument("--level", required=True, help="0, 1, 2 or L0, L1, L2")
    degrade.add_argument("--seed", type=int, default=0)
    degrade.add_argument("--item-id", default="", help="item id mixed into the seed")
    degrade.add_argument("--modality", help="refuse types that do not apply to this modality")
    degrade.add_argument("--force", action="store_true", help="apply even to another modality")
    degrade.add_argument("-o", "--output", required=True)
    degrade.add_argument("--record", help="write the degradation record (JSON) here")
    degrade.set_defaults(run=_degrade)

    degradations = commands.add_parser("degradations", help="list, measure and show the degradation types")
    sub = degradations.add_subparsers(dest="action", required=True)
    listing = sub.add_parser("list", help="every type with its modalities and level parameters")
    listing.add_argument("--modality")
    listing.set_defaults(run=_list)
    report = sub.add_parser("report", help="every type at L1 and L2 on every applicable sample image, with targets")
    report.add_argument("--seeds", type=int, default=1)
    report.add_argument("--types", nargs="+", help="measure only these types")
    report.add_argument("--markdown", help="also write the table to this file")
    report.set_defaults(run=_report)
    show = sub.add_parser("gallery", help="one PNG grid of an image under every applicable type")
    source = show.add_mutually_exclusive_group(required=True)
    source.add_argument("input", nargs="?", help="an image file")
    source.add_argument("--sample", choices=sorted(CATALOGUE), help="a built-in real image")
    show.add_argument("--modality")
    show.add_argument("--seed", type=int, default=0)
    show.add_argument("--tile", type=int, default=256, help="pixels on each tile's longer side")
    show.add_argument("-o", "--output", required=True)
    show.set_defaults(run=_gallery)

    build = commands.add_parser("build-dataset", help="export configurations as Parquet + dataset card")
    build.add_argument("configs", nargs="*", help="configurations (default: default); e.g. clean sparse_view")
    build.add_argument("--out", required=True, help="output folder")
    build.add_argument("--source", help=f"clean source: {', '.join(SOURCES.names())} (default: embedded)")
    build.add_argument("--data-dir", help="the source's data location (default: the Hub, for external sources)")
    build.add_argument("--revision", help="branch, tag or commit of the source's Hub dataset (no --data-dir)")
    build.add_argument("--redegrade", action="store_true",
                       help="released sources: degrade the clean rows with the toolkit instead of the published rows")
    build.add_argument("--limit", type=int, help="first N clean items")
    build.add_argument("--seed", type=int)
    build.add_argument("--modalities", nargs="+")
    build.add_argument("--types", nargs="+", help="degradation types allowed in the protocol")
    build.add_argument("--min-types", type=int)
    build.add_argument("--max-types", type=int)
    build.add_argument("--on-error", choices=["raise", "skip"])
    build.add_argument("--num-proc", type=int)
    build.add_argument("--cache-dir")
    build.add_argument("--severity-seeds", type=int, default=1, help="seeds for the card's severity table (0: skip)")
    build.set_defaults(run=_build_dataset)

    push = commands.add_parser("push-dataset", help="upload an exported folder to the Hugging Face Hub")
    push.add_argument("folder")
    push.add_argument("--repo", required=True, help="ORG/NAME")
    push.add_argument("--private", action="store_true")
    push.set_defaults(run=_push_dataset)
