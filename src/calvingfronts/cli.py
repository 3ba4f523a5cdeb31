"""The ``calvingfronts`` command: the package's science without Snakemake.

calvingfronts check-config [--config config/config.yaml]
calvingfronts list-scenes --glacier G --sensor S [--config ...]
calvingfronts model-info models/NAME.onnx
calvingfronts evaluate-fronts --pred P.gpkg --truth T        (also: evaluate-fronts)
calvingfronts evaluate-images --images DIR --labels DIR ...  (also: evaluate-images)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml


def _load_config(path: str) -> dict:
    config_path = Path(path)
    if not config_path.exists():
        raise SystemExit(f"config file {config_path} does not exist")
    try:
        config = yaml.safe_load(config_path.read_text())
    except yaml.YAMLError as error:
        raise SystemExit(f"{config_path} is not valid YAML: {error}") from None
    schema = Path("workflow/schemas/config.schema.yaml")
    if schema.exists():
        import jsonschema

        try:
            jsonschema.validate(config, yaml.safe_load(schema.read_text()))
        except jsonschema.ValidationError as error:
            key = ".".join(str(p) for p in error.absolute_path) or "(top level)"
            raise SystemExit(f"{config_path}: config key '{key}': {error.message}") from None
    return config


def _check_config(args) -> int:
    from calvingfronts.config import ConfigError, check_config

    try:
        check_config(_load_config(args.config))
    except ConfigError as error:
        print(f"{args.config}: {error}", file=sys.stderr)
        return 1
    print(f"{args.config}: valid")
    return 0


def _list_scenes(args) -> int:
    from calvingfronts import logs
    from calvingfronts.config import glacier_config
    from calvingfronts.pipeline import list_stage
    from calvingfronts.scenes import manifest_text

    logs.configure()
    config = _load_config(args.config)
    scenes, _ = list_stage(config, glacier_config(config, args.glacier), args.sensor)
    sys.stdout.write(manifest_text(scenes))
    return 0


def _model_info(args) -> int:
    from calvingfronts.inference import FrontModel, available_providers

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


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # The evaluation commands keep their own argument parsers.
    if argv and argv[0] == "evaluate-fronts":
        from calvingfronts.evaluate import evaluate_fronts_main

        return evaluate_fronts_main(argv[1:]) or 0
    if argv and argv[0] == "evaluate-images":
        from calvingfronts.evaluate_images import evaluate_images_main

        return evaluate_images_main(argv[1:]) or 0

    parser = argparse.ArgumentParser(
        prog="calvingfronts",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check-config", help="validate a workflow configuration")
    check.add_argument("--config", default="config/config.yaml")
    check.set_defaults(run=_check_config)
    listing = commands.add_parser("list-scenes", help="print the manifest of one glacier/sensor")
    listing.add_argument("--config", default="config/config.yaml")
    listing.add_argument("--glacier", required=True)
    listing.add_argument("--sensor", required=True)
    listing.set_defaults(run=_list_scenes)
    info = commands.add_parser("model-info", help="show an ONNX model's metadata")
    info.add_argument("model")
    info.set_defaults(run=_model_info)
    commands.add_parser("evaluate-fronts", help="compare fronts with reference fronts")
    commands.add_parser("evaluate-images", help="evaluate a model on an image/label folder")
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
