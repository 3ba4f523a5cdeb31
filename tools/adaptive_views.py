"""Score adaptive views on the leave-one-glacier-out folds: a few views first, all of them
only where the few are doubtful.

Each fold's model predicts its held-out glacier's FrontLearning images with 8 views once
(``--cache`` keeps them, as tools/fold_front_picking.py does). The first ``--few`` views are
the views a cheaper run would have made (views are taken in a fixed order), so each policy
is scored on the same probabilities:

- ``8 views``: the shipped setting;
- ``<few> views``: the few alone;
- ``adaptive T px``: the few views' front where it exists and its bound (the shipped model's
  calibration for ``--few`` members) is at most T pixels (of 49 m), else all 8 views: the
  workflow's ``inference.adaptive`` (calvingfronts.workflow.batch_run.escalation).

For each policy: pooled mean / median distance, images without a front, the mean number of
views an image took, and the bound's coverage (share of fronts whose mean distance is
within their ``uncertainty_m``, from the calibration of the member count that drew them).

    .venv/bin/python tools/adaptive_views.py --cache /tmp/fold-cache --threshold 8 10 12 15
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from calvingfronts.evaluation.evaluate_images import score_members
from calvingfronts.evaluation.frontlearning import FRONTLEARNING_FLOW_AZIMUTH, FRONTLEARNING_PIXEL_M
from calvingfronts.evaluation.metrics import front_distances
from calvingfronts.fronts.uncertainty import read_calibration

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "models" / "frontlearning-all-drn-deeplabv3plus.onnx"
FOLDS = {
    glacier: REPO
    / "models"
    / "folds"
    / f"frontlearning-all-drn-deeplabv3plus-without-{glacier}.onnx"
    for glacier in ("jakobshavn", "kangerlussuaq", "northwest")
}


def image_results(cases, members: int, calibration):
    """Per image: (front found, its distances to the label or None, uncertainty_m)."""
    results = []
    for _, probabilities, label in cases:
        line, truth, _, spread = score_members(
            probabilities[:members], label, FRONTLEARNING_PIXEL_M,
            flow_azimuth=FRONTLEARNING_FLOW_AZIMUTH,
        )  # fmt: skip
        if line is None or truth is None:
            results.append((False, None, None))
            continue
        distances = np.concatenate(front_distances(line, truth))
        bound = (
            calibration.uncertainty_m(spread, FRONTLEARNING_PIXEL_M)
            if calibration is not None and spread is not None
            else None
        )
        results.append((True, distances, bound))
    return results


def figures(chosen: list[tuple], views: list[int]) -> dict:
    found = [r for r in chosen if r[0]]
    distances = np.concatenate([r[1] for r in found]) if found else np.array([])
    means = [float(r[1].mean()) for r in found]
    bounded = [(m, r[2]) for m, r in zip(means, found, strict=True) if r[2] is not None]
    return {
        "mean_m": round(float(distances.mean()), 1) if len(distances) else None,
        "median_m": round(float(np.median(distances)), 1) if len(distances) else None,
        "no_front": len(chosen) - len(found),
        "views_per_image": round(float(np.mean(views)), 2),
        "coverage": round(float(np.mean([m <= b for m, b in bounded])), 3) if bounded else None,
        "median_bound_m": round(float(np.median([b for _, b in bounded])), 0) if bounded else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", default="../shared/data/frontlearning/train/images")
    parser.add_argument("--labels", default="../shared/data/frontlearning/train/labels")
    parser.add_argument("--cache", help="folder for the 8 views' probabilities")
    parser.add_argument("--few", type=int, default=2)
    parser.add_argument("--threshold", type=float, nargs="+", default=[8, 10, 12, 15],
                        help="escalate_above_px values to score")  # fmt: skip
    args = parser.parse_args()
    import sys

    sys.path.insert(0, str(REPO / "tools"))
    from fold_front_picking import predict_glacier

    few_cal, all_cal = read_calibration(MODEL, args.few), read_calibration(MODEL, 8)
    per_policy: dict[str, list] = {}
    views: dict[str, list] = {}
    for glacier, model in FOLDS.items():
        cases = predict_glacier(
            model, Path(args.images), Path(args.labels), glacier, 8,
            Path(args.cache) if args.cache else None,
        )  # fmt: skip
        full = image_results(cases, 8, all_cal)
        few = image_results(cases, args.few, few_cal)
        per_policy.setdefault("8 views", []).extend(full)
        views.setdefault("8 views", []).extend([8] * len(full))
        per_policy.setdefault(f"{args.few} views", []).extend(few)
        views.setdefault(f"{args.few} views", []).extend([args.few] * len(few))
        for threshold in args.threshold:
            key = f"adaptive {threshold:g} px"
            for a, b in zip(few, full, strict=True):
                cheap = a[0] and a[2] is not None and a[2] <= threshold * FRONTLEARNING_PIXEL_M
                per_policy.setdefault(key, []).append(a if cheap else b)
                views.setdefault(key, []).append(args.few if cheap else 8)
    table = {key: figures(chosen, views[key]) for key, chosen in per_policy.items()}
    print(json.dumps(table, indent=1))


if __name__ == "__main__":
    main()
