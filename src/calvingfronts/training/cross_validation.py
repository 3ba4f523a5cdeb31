"""Leave-one-glacier-out cross-validation of a training recipe.

The shipped model trains on every labelled glacier, so its own error on them says nothing
about a glacier it has never seen. The same recipe (every key but the held-out glacier and
where the run goes) is trained once per glacier with that glacier held out; each fold's
exported model is scored on its glacier with the workflow's own post-processing, and the
folds together give the generalisation figure of the recipe.

    python -m calvingfronts.training.cross_validation config/config.yaml            # every fold
    python -m calvingfronts.training.cross_validation config/config.yaml --fold jakobshavn
    python -m calvingfronts.training.cross_validation config/config.yaml --table    # the table
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

FOLD_NAME = "{name}-without-{glacier}"


def fold_config(config: dict, glacier: str) -> dict:
    """``config`` with ``glacier`` held out, run and exported under a name of its own."""
    name = FOLD_NAME.format(name=config["name"], glacier=glacier)
    run_dir = Path(config.get("run_dir", "training_runs/{name}").format(name=config["name"]))
    folder = run_dir / "folds" / glacier
    return {
        **config,
        "name": name,
        "validation_glaciers": [glacier],
        "run_dir": str(folder),
        "output": str(folder / f"{name}.onnx"),
        "card": str(folder / f"{name}.md"),
        "export": True,
    }


def fold_glaciers(config: dict) -> list[str]:
    glaciers = list(config.get("cross_validation_glaciers") or [])
    if not glaciers:
        raise ValueError("training.cross_validation_glaciers is empty: no folds to run")
    return glaciers


def pooled(folds: dict[str, dict]) -> dict:
    """The folds' figures together: the mean over every distance of every fold (each fold's
    pooled mean weighted by its number of distances), images and images without a front."""
    points = sum(f["n_points"] for f in folds.values() if f.get("mean_m") is not None)
    mean = (
        sum(f["mean_m"] * f["n_points"] for f in folds.values() if f.get("mean_m") is not None)
        / points
        if points
        else None
    )
    return {
        "mean_m": mean,
        "n_images": sum(f["n_images"] for f in folds.values()),
        "n_no_front": sum(f["n_no_front"] for f in folds.values()),
        "n_points": points,
    }


def fold_table(report: dict) -> str:
    """Markdown: one row per fold, the pooled row, then any baseline rows."""

    def metres(value):
        return "-" if value is None else f"{value:.0f} m"

    lines = [
        "| held-out glacier | images | mean | median | no front |",
        "| --- | --- | --- | --- | --- |",
    ]
    for glacier, fold in report["folds"].items():
        lines.append(
            f"| {glacier} | {fold['n_images']} | **{metres(fold['mean_m'])}** | "
            f"{metres(fold['median_m'])} | {fold['n_no_front']} |"
        )
    total = report["pooled"]
    lines.append(
        f"| all folds pooled | {total['n_images']} | **{metres(total['mean_m'])}** | - | "
        f"{total['n_no_front']} |"
    )
    for row in report.get("baseline", []):
        lines.append(
            f"| {row['label']} | {row['n_images']} | {metres(row['mean_m'])} | "
            f"{metres(row['median_m'])} | {row['n_no_front']} |"
        )
    return "\n".join(lines)


def score_fold(config: dict, glacier: str, images: str, labels: str, pixel_size_m: float):
    """The fold's exported model on its held-out glacier
    (calvingfronts.evaluation.evaluate_images)."""
    from calvingfronts.evaluation.evaluate_images import evaluate_folder

    model = fold_config(config, glacier)["output"]
    if not Path(model).exists():
        raise FileNotFoundError(f"{model}: fold {glacier} has not been trained")
    report = evaluate_folder(Path(images), Path(labels), pixel_size_m, Path(model), glacier=glacier)
    return {k: report[k] for k in ("mean_m", "median_m", "n_images", "n_no_front", "n_points")}


def write_report(folds: dict[str, dict], path: str | Path) -> dict:
    """The folds and their pooled figure, written atomically as JSON; returned."""
    report = {"folds": folds, "pooled": pooled(folds)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2))
    tmp.replace(path)
    return report


def run_folds(
    config: dict,
    report_path: str | Path,
    images: str = "../shared/data/frontlearning/train/images",
    labels: str = "../shared/data/frontlearning/train/labels_1px",
    pixel_size_m: float = 49.0,
) -> dict:
    """Train every fold (each resumes from its checkpoint), score them, write the report."""
    from calvingfronts.training.train import train

    glaciers = fold_glaciers(config)
    for glacier in glaciers:
        train(fold_config(config, glacier))
    folds = {g: score_fold(config, g, images, labels, pixel_size_m) for g in glaciers}
    return write_report(folds, report_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("config", help="workflow config YAML (its training section)")
    parser.add_argument("--fold", action="append", help="train only this fold (repeatable)")
    parser.add_argument("--table", metavar="JSON", help="score the trained folds, write JSON")
    parser.add_argument("--images", default="../shared/data/frontlearning/train/images")
    parser.add_argument("--labels", default="../shared/data/frontlearning/train/labels_1px")
    parser.add_argument("--pixel-size", type=float, default=49.0)
    args = parser.parse_args(argv)
    import yaml

    settings = yaml.safe_load(Path(args.config).read_text())
    config = settings.get("training", settings)
    glaciers = fold_glaciers(config)
    if args.table:
        folds = {
            g: score_fold(config, g, args.images, args.labels, args.pixel_size) for g in glaciers
        }
        print(fold_table(write_report(folds, args.table)))
        return 0
    from calvingfronts.training.train import train

    for glacier in args.fold or glaciers:
        if glacier not in glaciers:
            parser.error(f"--fold {glacier}: not in cross_validation_glaciers {glaciers}")
        train(fold_config(config, glacier))
    return 0


if __name__ == "__main__":
    sys.exit(main())
