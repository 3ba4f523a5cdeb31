"""Score a least-cost path between the fjord walls as a front candidate, on the folds.

The path crosses the image from its left edge to its right edge (the walls: FrontLearning
subsets have the flow towards the top, FRONTLEARNING_FLOW_AZIMUTH 0) at the least sum of
``-log(p) + step_cost`` over the members' mean probability ``p``, then is smoothed and
moved onto the probability's ridge as extract_front moves its skeleton. It is scored
alone, and as the second candidate to the workflow's line: where the line is missing, or
where the path runs over a higher mean probability than the line.

Reads the probabilities that ``fold_front_picking.py --cache DIR`` wrote:

    .venv/bin/python tools/least_cost_candidate.py --cache DIR \\
        --fold jakobshavn=models/folds/frontlearning-all-drn-deeplabv3plus-without-jakobshavn.onnx
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from fold_front_picking import drawn_front, predict_glacier
from shapely.geometry import LineString
from skimage.graph import MCP_Geometric

from calvingfronts.evaluation.evaluate_images import image_transform, summarize
from calvingfronts.fronts.vectorize import DEFAULT_RIDGE_PX, onto_ridge, smooth_line
from calvingfronts.training.cross_validation import pooled

PROBABILITY_FLOOR = 1e-3


def least_cost_front(probability: np.ndarray, pixel_size_m: float, step_cost: float):
    """(line, mean probability along it) of the cheapest left-to-right crossing."""
    height, width = probability.shape
    cost = -np.log(np.clip(probability, PROBABILITY_FLOOR, 1.0)) + step_cost
    mcp = MCP_Geometric(cost, fully_connected=True)
    cumulative, _ = mcp.find_costs(
        [(r, 0) for r in range(height)], [(r, width - 1) for r in range(height)]
    )
    path = np.array(mcp.traceback((int(np.argmin(cumulative[:, width - 1])), width - 1)))
    transform = image_transform(probability.shape, pixel_size_m)
    cols, rows = path[:, 1] + 0.5, path[:, 0] + 0.5
    xy = np.column_stack([transform.a * cols + transform.c, transform.e * rows + transform.f])
    xy = smooth_line(onto_ridge(smooth_line(xy, 2), probability, transform, DEFAULT_RIDGE_PX), 2)
    line = LineString(xy).simplify(0.5 * pixel_size_m)
    return line, float(probability[path[:, 0], path[:, 1]].mean())


def mean_probability_along(line, probability: np.ndarray, pixel_size_m: float) -> float:
    inverse = ~image_transform(probability.shape, pixel_size_m)
    points = [line.interpolate(d) for d in np.arange(0.0, line.length, pixel_size_m / 2)]
    cols, rows = np.array([inverse * (p.x, p.y) for p in points]).T.astype(int)
    height, width = probability.shape
    return float(probability[rows.clip(0, height - 1), cols.clip(0, width - 1)].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fold", action="append", required=True, help="GLACIER=MODEL.onnx")
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--step-cost", type=float, nargs="+", default=[0.5, 2.0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--images", default="../shared/data/frontlearning/train/images")
    parser.add_argument("--labels", default="../shared/data/frontlearning/train/labels_1px")
    parser.add_argument("--pixel-size", type=float, default=49.0)
    args = parser.parse_args()
    px = args.pixel_size
    table: dict[str, dict] = {}
    for glacier, model in (item.split("=", 1) for item in args.fold):
        cases = predict_glacier(
            model, Path(args.images), Path(args.labels), glacier, args.members, args.cache
        )
        rows: dict[str, list] = {}
        for _, probabilities, front in cases:
            probability = probabilities.mean(axis=0)
            line, truth, reason = drawn_front(probabilities, front, px)
            rows.setdefault("workflow's line", []).append((line, truth, reason))
            line_p = 0.0 if line is None else mean_probability_along(line, probability, px)
            for step_cost in args.step_cost:
                path, path_p = least_cost_front(probability, px, step_cost)
                rows.setdefault(f"path, step cost {step_cost:g}", []).append((path, truth, None))
                pick = path if line is None else line
                rows.setdefault(f"line, else path {step_cost:g}", []).append((pick, truth, None))
                pick = path if path_p > line_p else line
                rows.setdefault(f"higher mean p {step_cost:g}", []).append((pick, truth, None))
        names = [name for name, _, _ in cases]
        for variant, results in rows.items():
            table.setdefault(variant, {})[glacier] = summarize(names, results, px)
    for variant, folds in table.items():
        cells = " | ".join(
            f"{f['mean_m']:.0f} / {f['median_m']:.0f} / {f['n_no_front']}; "
            f"{f['pred_to_reference_mean_m']:.0f}, {f['reference_to_pred_mean_m']:.0f}"
            for f in folds.values()
        )
        print(f"| {variant} | {cells} | {pooled(folds)['mean_m']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
