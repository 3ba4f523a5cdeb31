"""The ``calvingfronts`` command: the package's science without Snakemake.

calvingfronts check-config [--config config/config.yaml]
calvingfronts list-scenes --glacier G --sensor S [--config ...]
calvingfronts model-info models/NAME.onnx
calvingfronts list-glaciers [--config ...] [--plot PNG]
calvingfronts export results/G_fronts.gpkg [--format F ...] [--out-dir DIR]
calvingfronts draft-glacier (--traces FILE | --fjord-polygon FILE) --name NAME [...]
calvingfronts draft-catalogue --polygons DIR --centres FILE --out-dir DIR --catalogue FILE
calvingfronts evaluate-fronts --pred P.gpkg --truth T        (also: evaluate-fronts)
calvingfronts evaluate-images --images DIR --labels DIR ...  (also: evaluate-images)
calvingfronts calibrate-uncertainty --images DIR --labels DIR --glacier G ...
calvingfronts trace-series --traces FILE --glacier G [--out-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from calvingfronts.help_text import plain

CONFIG_HELP = "the workflow's configuration (default: config/config.yaml)"


def _check_config(args) -> int:
    from calvingfronts.config import check_config, load_config_file
    from calvingfronts.glaciers.config import ConfigError

    try:
        check_config(load_config_file(args.config))
    except ConfigError as error:
        print(f"{args.config}: {error}", file=sys.stderr)
        return 1
    print(f"{args.config}: valid")
    return 0


def _list_scenes(args) -> int:
    from calvingfronts import logs
    from calvingfronts.config import load_config_file
    from calvingfronts.glaciers.config import glacier_config
    from calvingfronts.scenes.manifest import manifest_text
    from calvingfronts.workflow.pipeline import list_stage

    logs.configure()
    config = load_config_file(args.config)
    listing = list_stage(config, glacier_config(config, args.glacier), args.sensor)
    for row in listing.rejected:
        print(f"row rejected: {row.reason}", file=sys.stderr)
    if listing.failed:
        print(listing.summary(), file=sys.stderr)
        return 1
    sys.stdout.write(manifest_text(listing.scenes))
    return 0


def _model_info(args) -> int:
    from calvingfronts.inference.front_model import FrontModel, available_providers

    model = FrontModel(args.model, device="cpu")
    print(
        json.dumps(
            {
                "path": args.model,
                "metadata": model.metadata,
                "providers_available": available_providers("auto"),
            },
            indent=2,
        )
    )
    return 0


def _draft_glacier(args) -> int:
    from calvingfronts.glaciers.draft import config_block, draft_glacier, read_traces

    try:
        if args.fjord_polygon:
            from calvingfronts.glaciers.catalogue import draft_from_polygon, read_front_polygon

            centres = [tuple(args.front_centre)] if args.front_centre else []
            draft = draft_from_polygon(
                read_front_polygon(args.fjord_polygon),
                centres,
                flow_azimuth=args.flow_azimuth,
                margin_m=args.margin_m,
            )
            what = f"the front polygon {Path(args.fjord_polygon).name}"
        else:
            traces, dates = read_traces(args.traces)
            draft = draft_glacier(
                traces,
                dates,
                buffer_m=args.buffer_m,
                margin_m=args.margin_m,
                flow_azimuth=args.flow_azimuth,
                box_width_m=args.box_width_m,
            )
            what = f"{draft.n_traces} traces"
    except (OSError, ValueError) as error:
        print(f"draft-glacier: {error}", file=sys.stderr)
        return 1
    source = args.citation or Path(args.traces or args.fjord_polygon).name
    provenance = f"drafted by calvingfronts draft-glacier from {what}: {source}"
    paths = _write_outlines(draft, args.name, Path(args.out_dir), provenance, args.overwrite)
    print(
        f"{draft.n_traces} {'sections' if args.fjord_polygon else 'traces'}: "
        f"{draft.n_in_fjord} inside the fjord, {draft.n_crossing_centreline} crossing the "
        f"centreline, {draft.n_crossing_box} crossing the box; flow azimuth "
        f"{draft.flow_azimuth:g} ({draft.azimuth_from})",
        file=sys.stderr,
    )
    description = (
        f"Drafted by calvingfronts draft-glacier from {what} ({source})."
        if args.fjord_polygon
        else None
    )
    extra = {"drafted": "true"} if draft.azimuth_from != "given" or args.fjord_polygon else None
    sys.stdout.write(config_block(args.name, draft, paths, source, description, extra))
    return 0


def _write_outlines(draft, name: str, out_dir: Path, provenance: str, overwrite: bool) -> dict:
    """The draft's fjord, centreline and box as GeoJSON files named after the glacier."""
    from calvingfronts.glaciers.outlines import write_outline

    paths = {}
    for kind in ("fjord", "centreline", "box"):
        path = out_dir / f"{name}_{kind}.geojson"
        paths[kind] = str(path)
        if path.exists() and not overwrite:
            print(f"kept the existing {path} (--overwrite replaces it)", file=sys.stderr)
            continue
        props = {"glacier": name, "outline": kind, "provenance": provenance}
        write_outline(path, getattr(draft, kind), props)
        print(f"wrote {path}", file=sys.stderr)
    return paths


def _draft_catalogue(args) -> int:
    from calvingfronts.glaciers.catalogue import draft_catalogue

    try:
        text = draft_catalogue(
            Path(args.polygons),
            Path(args.centres),
            Path(args.out_dir),
            exclude=set(args.exclude or []),
            citation=args.citation,
        )
    except (OSError, ValueError) as error:
        print(f"draft-catalogue: {error}", file=sys.stderr)
        return 1
    from calvingfronts.raster_io import atomic_path

    out = Path(args.catalogue)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        Path(tmp).write_text(text)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _export(args) -> int:
    from calvingfronts.dataset.export import FORMATS, export_paths, read_export_table, write_export

    glacier = args.glacier or Path(args.gpkg).name.removesuffix("_fronts.gpkg")
    termpicks_id = None
    if Path(args.config).exists():
        from calvingfronts.config import load_config_file

        entry = (load_config_file(args.config).get("glaciers") or {}).get(glacier) or {}
        termpicks_id = entry.get("termpicks_id")
    try:
        table = read_export_table(args.gpkg, termpicks_id)
    except (OSError, ValueError) as error:
        print(f"export: {error}", file=sys.stderr)
        return 1
    out_dir = args.out_dir or f"results/{glacier}/export"
    paths = write_export(table, export_paths(out_dir, glacier, args.format or tuple(FORMATS)))
    for path in paths.values():
        print(path)
    print(f"{len(table)} fronts of {glacier} exported", file=sys.stderr)
    return 0


def _list_glaciers(args) -> int:
    from calvingfronts.config import load_config_file
    from calvingfronts.glaciers.config import glacier_listing

    config = load_config_file(args.config)
    for line in glacier_listing(config):
        print(line)
    if args.plot:
        from calvingfronts.config import check_config
        from calvingfronts.glaciers.config import ConfigError, glacier_config
        from calvingfronts.report.plots import outlines_figure, save_png

        try:
            check_config(config)
            glaciers = [glacier_config(config, name) for name in config["glaciers"]]
        except ConfigError as error:
            print(f"{args.config}: {error}", file=sys.stderr)
            return 1
        save_png(outlines_figure(glaciers), args.plot, dpi=100)
        print(f"wrote {args.plot}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The evaluation commands keep their own argument parsers.
    if argv and argv[0] == "evaluate-fronts":
        from calvingfronts.evaluation.evaluate_fronts import evaluate_fronts_main

        return evaluate_fronts_main(argv[1:]) or 0
    if argv and argv[0] == "evaluate-images":
        from calvingfronts.evaluation.evaluate_images import evaluate_images_main

        return evaluate_images_main(argv[1:]) or 0
    if argv and argv[0] == "trace-series":
        from calvingfronts.evaluation.trace_series import trace_series_main

        return trace_series_main(argv[1:]) or 0
    if argv and argv[0] == "calibrate-uncertainty":
        from calvingfronts.evaluation.calibrate import calibrate_main

        return calibrate_main(argv[1:]) or 0

    parser = argparse.ArgumentParser(
        prog="calvingfronts",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-config", help="validate a workflow configuration")
    check.add_argument("--config", default="config/config.yaml", help=CONFIG_HELP)
    check.set_defaults(run=_check_config)
    listing = commands.add_parser("list-scenes", help="print the manifest of one glacier/sensor")
    listing.add_argument("--config", default="config/config.yaml", help=CONFIG_HELP)
    listing.add_argument("--glacier", required=True, help="the glacier's key under glaciers:")
    listing.add_argument("--sensor", required=True, help="one of the glacier's sensors")
    listing.set_defaults(run=_list_scenes)
    info = commands.add_parser("model-info", help="show an ONNX model's metadata")
    info.add_argument("model", help="path of the ONNX model file")
    info.set_defaults(run=_model_info)
    draft = commands.add_parser(
        "draft-glacier",
        help="draft a glacier's config entry and outlines from terminus traces or a front polygon",
    )
    origin = draft.add_mutually_exclusive_group(required=True)
    origin.add_argument("--traces", help="vector file of terminus traces, any CRS")
    origin.add_argument(
        "--fjord-polygon",
        help="vector file of one polygon covering the fjord reach where the front lies "
        "(e.g. Loebel et al. 2024's front polygons), any CRS",
    )
    draft.add_argument("--name", required=True, help="the glacier's key in config.yaml")
    draft.add_argument(
        "--out-dir", default="config/outlines", help="folder of the outline files written"
    )
    draft.add_argument(
        "--front-centre",
        nargs=2,
        type=float,
        metavar=("X", "Y"),
        help="a point on the front (EPSG:3413), with --fjord-polygon",
    )
    draft.add_argument("--buffer-m", type=float, default=1000.0, help="fjord beyond the traces")
    draft.add_argument("--margin-m", type=float, default=5000.0, help="area of interest margin")
    draft.add_argument("--flow-azimuth", type=float, help="degrees from grid north, if known")
    draft.add_argument("--box-width-m", type=float, help="default: from the traces' spans")
    draft.add_argument("--citation", help="where the traces come from, for the provenance")
    draft.add_argument("--overwrite", action="store_true", help="replace existing outlines")
    draft.set_defaults(run=_draft_glacier)
    catalogue = commands.add_parser(
        "draft-catalogue",
        help="draft a catalogue of glacier entries from a folder of front polygons",
    )
    catalogue.add_argument("--polygons", required=True, help="folder of <glacier>.shp polygons")
    catalogue.add_argument(
        "--centres", required=True, help="text file of front centres: 'name x y' (EPSG:3413)"
    )
    catalogue.add_argument("--out-dir", required=True, help="folder of the outline files written")
    catalogue.add_argument("--catalogue", required=True, help="the catalogue YAML written")
    catalogue.add_argument("--exclude", action="append", help="a polygon not to draft (repeatable)")
    catalogue.add_argument("--citation", required=True, help="the polygons' source, cited")
    catalogue.set_defaults(run=_draft_catalogue)
    export = commands.add_parser(
        "export", help="a glacier's GeoPackage as shapefile, GeoJSON, GeoParquet and CSV"
    )
    export.add_argument("gpkg", help="the glacier's GeoPackage, results/<glacier>_fronts.gpkg")
    export.add_argument("--glacier", help="its key in the config (default: from the file name)")
    export.add_argument(
        "--format",
        action="append",
        choices=["shapefile", "geojson", "geoparquet", "csv"],
        help="one format (repeatable; default: all four)",
    )
    export.add_argument("--out-dir", help="default: results/<glacier>/export")
    export.add_argument(
        "--config", default="config/config.yaml", help="for the glacier's TermPicks id"
    )
    export.set_defaults(run=_export)
    glaciers = commands.add_parser(
        "list-glaciers", help="one line per configured glacier: id, sensors, outlines"
    )
    glaciers.add_argument("--config", default="config/config.yaml", help=CONFIG_HELP)
    glaciers.add_argument(
        "--plot", help="also draw every glacier's outlines and flow direction into this PNG"
    )
    glaciers.set_defaults(run=_list_glaciers)
    commands.add_parser("evaluate-fronts", help="compare fronts with reference fronts")
    commands.add_parser("evaluate-images", help="evaluate a model on an image/label folder")
    commands.add_parser(
        "calibrate-uncertainty", help="fit a model's uncertainty on a glacier it never saw"
    )
    commands.add_parser(
        "trace-series", help="positions, screening and plots of a file of terminus traces"
    )
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
