"""The ``calvingfronts`` command: the package's science without Snakemake.

calvingfronts check-config [--config config/config.yaml]
calvingfronts list-scenes --glacier G --sensor S [--config ...]
calvingfronts model-info models/NAME.onnx
calvingfronts draft-glacier --traces FILE --name NAME [--out-dir config/outlines]
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
    from calvingfronts.glaciers.outlines import write_outline

    try:
        traces, dates = read_traces(args.traces)
        draft = draft_glacier(
            traces,
            dates,
            buffer_m=args.buffer_m,
            margin_m=args.margin_m,
            flow_azimuth=args.flow_azimuth,
            box_width_m=args.box_width_m,
        )
    except (OSError, ValueError) as error:
        print(f"draft-glacier: {error}", file=sys.stderr)
        return 1
    source = args.citation or Path(args.traces).name
    provenance = f"drafted by calvingfronts draft-glacier from {draft.n_traces} traces: {source}"
    paths = {}
    for kind in ("fjord", "centreline", "box"):
        path = Path(args.out_dir) / f"{args.name}_{kind}.geojson"
        paths[kind] = str(path)
        if path.exists() and not args.overwrite:
            print(f"kept the existing {path} (--overwrite replaces it)", file=sys.stderr)
            continue
        props = {"glacier": args.name, "outline": kind, "provenance": provenance}
        write_outline(path, getattr(draft, kind), props)
        print(f"wrote {path}", file=sys.stderr)
    print(
        f"{draft.n_traces} traces: {draft.n_in_fjord} inside the fjord, "
        f"{draft.n_crossing_centreline} crossing the centreline, {draft.n_crossing_box} "
        f"crossing the box; flow azimuth {draft.flow_azimuth:g} ({draft.azimuth_from})",
        file=sys.stderr,
    )
    sys.stdout.write(config_block(args.name, draft, paths, source))
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
        "draft-glacier", help="draft a glacier's config entry and outlines from terminus traces"
    )
    draft.add_argument("--traces", required=True, help="vector file of traces, any CRS")
    draft.add_argument("--name", required=True, help="the glacier's key in config.yaml")
    draft.add_argument(
        "--out-dir", default="config/outlines", help="folder of the outline files written"
    )
    draft.add_argument("--buffer-m", type=float, default=1000.0, help="fjord beyond the traces")
    draft.add_argument("--margin-m", type=float, default=5000.0, help="area of interest margin")
    draft.add_argument("--flow-azimuth", type=float, help="degrees from grid north, if known")
    draft.add_argument("--box-width-m", type=float, help="default: from the traces' spans")
    draft.add_argument("--citation", help="where the traces come from, for the provenance")
    draft.add_argument("--overwrite", action="store_true", help="replace existing outlines")
    draft.set_defaults(run=_draft_glacier)
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
