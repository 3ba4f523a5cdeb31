"""Check an exported model on synthetic scenes of a configured glacier, as the workflow runs.

Renders random scenes (time, sensor, pixel size), then runs the workflow's chain on each:
``sensors.to_physical`` -> ``preprocess.normalize`` -> ``inference.FrontModel.predict_scene``
-> ``fronts.scene_front`` inside the glacier's real fjord polygon (the front head's line,
or with ``--fronts-from zones`` the zone boundary of a model with a zone head), and
compares the front with the synthetic truth (``metrics``). Needs ONNX Runtime only, no
torch.

    python -m calvingfronts.training.synthetic_check models/X.onnx --glacier demo --count 20
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import shapely

from calvingfronts.evaluation.metrics import pooled_summary
from calvingfronts.fronts.scene_front import FRONT_SOURCES, scene_front
from calvingfronts.preprocess.normalize import normalize


def check(
    model_path: str,
    glacier: str = "demo",
    count: int = 20,
    config_path: str = "config/config.yaml",
    sensors: list[str] | None = None,
    pixel_size_range_m: tuple[float, float] = (30.0, 80.0),
    seed: int = 12345,
    world_seed: int | None = None,
    histogram: str | None = None,
    radar: str = "classic",
    fronts_from: str = "head",
) -> dict:
    """Pooled distance summary (m and px) of the model's fronts against the truth."""
    from pathlib import Path

    import yaml

    from calvingfronts.glaciers.config import glacier_config
    from calvingfronts.inference.front_model import FrontModel
    from calvingfronts.scenes.sensors import get_sensor, raster_to_physical
    from calvingfronts.synthetic import scenes as synthetic

    config = yaml.safe_load(Path(config_path).read_text())
    # Paths in the config are relative to the repository (the config file's grandparent).
    glacier_cfg = glacier_config(config, glacier, Path(config_path).resolve().parent.parent)
    if world_seed is None:  # the world the workflow's synthetic source renders
        world_seed = int((config.get("sources") or {}).get("synthetic", {}).get("seed", 0))
    model = FrontModel(model_path, device="cpu")
    method = histogram or model.metadata.get("histogram", "equalize")
    rng = np.random.default_rng(seed)
    lo, hi = np.log(pixel_size_range_m)
    pairs, pixels, per_scene, missing = [], [], [], 0
    for _ in range(count):
        sensor = str(rng.choice(sensors)) if sensors else None
        pixel = float(np.exp(rng.uniform(lo, hi)))
        raster, _, _ = synthetic.random_training_scene(
            glacier_cfg, rng, sensor, pixel, seed=world_seed, radar=radar
        )
        info = get_sensor(raster.tags["SENSOR"])
        values = raster_to_physical(raster, info)
        valid = np.isfinite(values)
        image = normalize(values, valid, method, info.value_range)
        prediction = model.predict_scene(image)
        result, _, _ = scene_front(
            prediction.members,
            raster.transform,
            glacier_cfg.fjord,
            valid=valid,
            zones=prediction.zones,
            zone_names=model.info.zones,
            fronts_from=fronts_from,
        )
        truth = shapely.from_wkt(raster.tags[synthetic.TRUE_FRONT_TAG])
        entry = {
            "sensor": info.name,
            "acquired": raster.tags["ACQUIRED"],
            "pixel_size_m": round(pixel, 1),
        }
        if result.front is None:
            missing += 1
            entry["reason"] = result.reason
        else:
            pairs.append((result.front, truth))
            pixels.append(pixel)
        per_scene.append(entry)
    summary = pooled_summary(pairs)
    found = [e for e in per_scene if "reason" not in e]
    for entry, stats, pixel in zip(found, summary.pop("per_front"), pixels, strict=True):
        entry.update(mean_m=round(stats["mean_m"], 1), mean_px=round(stats["mean_m"] / pixel, 2))
    px_means = [e["mean_px"] for e in found]
    return {
        "model": model_path,
        "glacier": glacier,
        "world_seed": world_seed,
        "histogram": method,
        "radar": radar,
        "fronts_from": fronts_from if model.has_zones else "head",
        "n_scenes": count,
        "n_no_front": missing,
        "mean_m": summary["mean_m"],
        "median_m": summary["median_m"],
        "mean_of_scene_means_px": float(np.mean(px_means)) if px_means else None,
        "per_scene": per_scene,
    }


def card_text(report: dict, command: str) -> str:
    """Markdown summary of a check for the model card."""

    def fmt(value, unit):
        return "n/a" if value is None else f"{value:.0f} {unit}"

    px = [e["mean_px"] for e in report["per_scene"] if "mean_px" in e]
    return "\n".join(
        [
            f"{report['n_scenes']} random scenes of glacier `{report['glacier']}` (world seed "
            f"{report['world_seed']}, the one the workflow's synthetic source renders), through "
            "the workflow chain (to_physical, normalize, FrontModel.predict_scene, scene_front "
            f"in the configured fjord, fronts from the {report.get('fronts_from', 'head')}), "
            "against the synthetic true front:",
            "",
            f"- pooled mean distance {fmt(report['mean_m'], 'm')}, median "
            f"{fmt(report['median_m'], 'm')}; scenes without a front: {report['n_no_front']}",
            f"- per-scene mean in pixels: median {np.median(px):.2f} px, "
            f"{sum(p <= 2 for p in px)} of {len(px)} scenes within 2 px"
            if px
            else "- no fronts",
            "",
            f"Command: `{command}`",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model")
    parser.add_argument("--glacier", default="demo")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--sensors", nargs="*")
    parser.add_argument("--pixel-size-range", nargs=2, type=float, default=(30.0, 80.0))
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--world-seed", type=int)
    parser.add_argument(
        "--radar",
        choices=("classic", "realistic"),
        default="classic",
        help="SAR as the demo renders it, or with hard radar conditions (default: classic)",
    )
    parser.add_argument(
        "--fronts-from",
        choices=FRONT_SOURCES,
        default="head",
        help="the front head's line, or the zone boundary of a model with a zone head",
    )
    parser.add_argument("--card", help="append the result to this model card")
    args = parser.parse_args(argv)
    report = check(
        args.model,
        args.glacier,
        args.count,
        args.config,
        args.sensors,
        tuple(args.pixel_size_range),
        args.seed,
        args.world_seed,
        radar=args.radar,
        fronts_from=args.fronts_from,
    )
    if args.card:
        from calvingfronts.training.model_card import append_section

        append_section(
            args.card,
            "Check on synthetic scenes of the workflow",
            card_text(
                report,
                " ".join(
                    ["python -m calvingfronts.training.synthetic_check"]
                    + (argv if argv is not None else sys.argv[1:])
                ),
            ),
        )
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
