"""A markdown table comparing trained models on their held-out glacier, as the paper's
comparison of networks and histogram treatments.

    python -m calvingfronts.training.report --images DIR/images --labels DIR/labels_1px \\
        training_runs/cmp/*/

Each argument is a run directory (``config.json``, ``metrics.json`` and the exported ONNX
file its config names). Every model is scored afresh by
:func:`calvingfronts.evaluation.evaluate_images.evaluate_folder` - the workflow's inference and
vectorization, exactly what ``evaluate-images --glacier G --members 1`` prints - on the
images of the glacier its run held out, so all rows are measured by the same code whatever
version of it the runs were validated with while training.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from calvingfronts.evaluation.evaluate_images import evaluate_folder
from calvingfronts.evaluation.frontlearning import FRONTLEARNING_PIXEL_M

HEADER = (
    "| run | network | width | histogram | steps | minutes | held out | mean | median | "
    "no front |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


def run_summary(run: Path, images: Path, labels: Path, pixel_size_m: float) -> dict | None:
    """What one finished run trained and its held-out error (None: not finished)."""
    config_file, history_file = run / "config.json", run / "metrics.json"
    if not (config_file.exists() and history_file.exists()):
        return None
    config = json.loads(config_file.read_text())
    model = Path(config["output"].format(name=config["name"]))
    if not model.exists():
        return None
    history = json.loads(history_file.read_text())
    held = config["validation_glaciers"]
    if len(held) != 1:
        raise ValueError(f"{run}: the table needs exactly one held-out glacier, got {held}")
    scores = evaluate_folder(images, labels, pixel_size_m, model, glacier=held[0])
    return {
        "run": run.name,
        "network": config["model"],
        "width": config["width"],
        "histogram": config["histogram"],
        "steps": sum(h.get("steps", 0) for h in history),
        "minutes": history[-1]["elapsed_s"] / 60.0 if history else 0.0,
        "glacier": held[0],
        "mean_m": scores["mean_m"],
        "median_m": scores["median_m"],
        "n_no_front": scores["n_no_front"],
        "n_images": scores["n_images"],
        "pixel_size_m": pixel_size_m,
    }


def table_row(row: dict) -> str:
    px = row["pixel_size_m"]

    def fmt(value):
        return "n/a" if value is None else f"{value:.0f} m ({value / px:.1f} px)"

    return (
        f"| {row['run']} | {row['network']} | {row['width']:g} | {row['histogram']} | "
        f"{row['steps']} | {row['minutes']:.0f} | {row['glacier']} | {fmt(row['mean_m'])} | "
        f"{fmt(row['median_m'])} | {row['n_no_front']}/{row['n_images']} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories")
    parser.add_argument("--images", required=True, type=Path)
    parser.add_argument("--labels", required=True, type=Path)
    parser.add_argument("--pixel-size", type=float, default=FRONTLEARNING_PIXEL_M)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    rows = [
        row
        for row in (run_summary(r, args.images, args.labels, args.pixel_size) for r in args.runs)
        if row
    ]
    print(HEADER)
    for row in rows:
        print(table_row(row))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
