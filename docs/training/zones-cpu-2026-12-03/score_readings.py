"""Score both readings of a zone-and-front model on one FrontLearning glacier, drawn by the
workflow's own code (``evaluate_images.score_members_with_evidence``, i.e. ``scene_front``):
the front head's line and the zone boundary on its ridge, each direction apart, and how
well the readings' distance ranks the head's error (Spearman).

FrontLearning images have no fjord outline; the workflow always has one. The stand-in is
the columns the label spans, ``MARGIN`` pixels wider, over every row (the images are turned
so the ice flows up, and the labels run from wall to wall): it tells the vectorizer where
the walls are, as a glacier's outline does, and nothing of where along the flow the front
lies. Both readings get the same stand-in; the workflow's angle and length tests apply.

    python docs/training/zones-cpu-2026-12-03/score_readings.py MODEL GLACIER MARGIN VIEWS OUT
"""

import json
import sys
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr
from shapely.geometry import box

from calvingfronts.evaluation.evaluate_images import (
    WORKFLOW_MIN_ANGLE_TO_FLOW,
    WORKFLOW_MIN_LENGTH_M,
    image_transform,
    label_line,
    labelled_images,
    read_image,
    read_label,
    score_members_with_evidence,
)
from calvingfronts.evaluation.metrics import front_distances
from calvingfronts.inference.front_model import FrontModel
from calvingfronts.preprocess.normalize import normalize

DATA = Path("../shared/data/frontlearning/train")
PIXEL_M = 49.0
TESTS = {"min_angle_to_flow": WORKFLOW_MIN_ANGLE_TO_FLOW, "min_length_m": WORKFLOW_MIN_LENGTH_M}


def label_fjord(front: np.ndarray, transform, margin: int):
    """The stand-in fjord: the label's columns, ``margin`` pixels wider, every row."""
    cols = np.nonzero(front.any(axis=0))[0]
    c0, c1 = max(cols.min() - margin, 0), min(cols.max() + 1 + margin, front.shape[1])
    (x0, y0), (x1, y1) = transform * (c0, front.shape[0]), transform * (c1, 0)
    return box(min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def main(model_path: str, glacier: str, margin: str, views: str, out: str) -> None:
    model = FrontModel(model_path, device="cpu", threads=1)
    sources = ("head", "zones") if model.has_zones else ("head",)
    rows = {source: [] for source in sources}
    for path, label in labelled_images(DATA / "images", DATA / "labels", glacier):
        gray, front = read_image(path).astype(np.float32), read_label(label)
        valid = np.ones(gray.shape, bool)
        method = model.metadata.get("histogram", "equalize")
        image = normalize(gray / (255.0 if gray.max() > 1 else 1.0), valid, method, (0.0, 1.0))
        prediction = model.predict_scene(image, members=int(views))
        transform = image_transform(front.shape, PIXEL_M)
        fjord, truth = label_fjord(front, transform, int(margin)), label_line(front, transform)
        for source in sources:
            line, _, reason, spread, evidence = score_members_with_evidence(
                prediction.members, front, PIXEL_M, valid, transform, fjord, 0.0, truth, TESTS,
                prediction.zones, model.info.zones, source,
            )  # fmt: skip
            row = {"image": path.name, "reason": reason, **evidence}
            if line is not None:
                to_reference, to_line = front_distances(line, truth)
                row.update(line_to_reference_m=float(to_reference.mean()),
                           reference_to_line_m=float(to_line.mean()))  # fmt: skip
            rows[source].append(row)
    summary = {}
    for source, found in rows.items():
        scored = [r for r in found if "line_to_reference_m" in r]
        a = np.array([r["line_to_reference_m"] for r in scored])
        b = np.array([r["reference_to_line_m"] for r in scored])
        both = (a + b) / 2
        summary[source] = {
            "images": len(found), "with_front": len(scored),
            "line_to_reference_mean_median_m": [float(a.mean()), float(np.median(a))],
            "reference_to_line_mean_median_m": [float(b.mean()), float(np.median(b))],
            "symmetric_mean_median_m": [float(both.mean()), float(np.median(both))],
            "over_1km": int(np.sum(both > 1000)),
        }  # fmt: skip
        paired = [(e, r["readings_distance_m"]) for e, r in zip(both, scored, strict=True)
                  if r.get("readings_distance_m") is not None]  # fmt: skip
        if len(paired) > 2:
            summary[source]["spearman_error_vs_readings_distance"] = float(
                spearmanr(*zip(*paired, strict=True))[0]
            )
    print(json.dumps(summary, indent=1))
    Path(out).write_text(json.dumps({"model": model_path, "glacier": glacier, "margin_px": margin,
                                     "views": views, "summary": summary, "images": rows},
                                    indent=1))  # fmt: skip


if __name__ == "__main__":
    main(*sys.argv[1:])
