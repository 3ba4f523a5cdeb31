"""Score front-picking settings on every leave-one-glacier-out fold.

Each fold's model predicts its held-out glacier's FrontLearning images once (``--members``
views, the workflow's inference); then every ``--variant`` of calvingfronts.fronts.vectorize's
extract_front options is scored on the same probabilities (pooled mean / median distance
and images without a front, as evaluate-images reports them), per fold and pooled.
``--cache DIR`` keeps the probabilities, so later calls score new variants at once.

    .venv/bin/python tools/fold_front_picking.py \\
        --fold jakobshavn=training_runs/NAME/folds/jakobshavn/NAME-without-jakobshavn.onnx \\
        --variant skeleton='{}' --variant ridge2='{"ridge_px": 2}' --members 1 8
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from calvingfronts.evaluation.evaluate_images import (
    labelled_images,
    read_image,
    read_label,
    score_members,
    summarize,
)
from calvingfronts.evaluation.frontlearning import FRONTLEARNING_FLOW_AZIMUTH
from calvingfronts.evaluation.metrics import front_distances
from calvingfronts.inference.front_model import FrontModel
from calvingfronts.preprocess.normalize import normalize
from calvingfronts.training.cross_validation import pooled


def predict_glacier(
    model_path, images: Path, labels: Path, glacier: str, members: int, cache: Path | None = None
):
    """Each labelled image's member probabilities (name, (members, H, W), label), read from
    ``cache`` when an earlier call with the same model and members wrote them there."""
    stored = None
    if cache is not None:
        # The glacier too: one model (the all-glacier one, say) may score several glaciers.
        stem = f"{Path(model_path).stem}-{glacier}-{members}members"
        stored = cache / f"{stem}.npz"
        if stored.exists():
            with np.load(stored) as saved:
                names = [str(n) for n in saved["names"]]
                return [
                    (n, saved[f"p_{i}"].astype(np.float32), saved[f"f_{i}"])
                    for i, n in enumerate(names)
                ]
    model = FrontModel(model_path, device="cpu")
    method = model.metadata.get("histogram", "equalize")
    cases = []
    for path, label in labelled_images(images, labels, glacier):
        gray, front = read_image(path).astype(np.float32), read_label(label)
        valid = np.ones(gray.shape, dtype=bool)
        scale = 255.0 if gray.max() > 1.0 else 1.0
        image = normalize(gray / scale, valid, method, (0.0, 1.0))
        cases.append((path.name, model.predict_members(image, members=members), front))
    if stored is not None:
        cache.mkdir(parents=True, exist_ok=True)
        arrays = {f"p_{i}": p.astype(np.float16) for i, (_, p, _) in enumerate(cases)}
        arrays.update({f"f_{i}": f for i, (_, _, f) in enumerate(cases)})
        partial = stored.with_suffix(".partial.npz")
        np.savez(partial, names=np.array([c[0] for c in cases]), **arrays)
        partial.replace(stored)
        # Scored as a later call reads them back, so both calls give the same figures.
        cases = [(n, p.astype(np.float16).astype(np.float32), f) for n, p, f in cases]
    return cases


def predict_ensemble(model_paths, images: Path, labels: Path, glacier: str, members: int, cache):
    """:func:`predict_glacier` for each model, the members of all of them stacked per image
    (so the front is drawn on the mean of every model's views)."""
    per_model = [predict_glacier(m, images, labels, glacier, members, cache) for m in model_paths]
    if any([c[0] for c in cases] != [c[0] for c in per_model[0]] for cases in per_model):
        raise ValueError(f"the models of {glacier}'s ensemble scored different images")
    return [
        (name, np.concatenate([cases[i][1] for cases in per_model]), front)
        for i, (name, _, front) in enumerate(per_model[0])
    ]


def drawn_front(probabilities, front, pixel_size_m: float, options: dict | None = None):
    """The members' consensus front as evaluate-images draws it, on their mean probability
    (their spread is not scored here): ``(line or None, label line, reason)``."""
    line, truth, reason, _ = score_members(
        probabilities.mean(axis=0)[np.newaxis],
        front,
        pixel_size_m,
        flow_azimuth=FRONTLEARNING_FLOW_AZIMUTH,
        rejections=options,
    )
    return line, truth, reason


def gross_failure(line, truth, limit_m: float) -> bool:
    """Whether an image's own median distance, both directions, is above ``limit_m``: the
    wrong edge won, rather than the right one drawn a little off or short."""
    return bool(np.median(np.concatenate(front_distances(line, truth))) > limit_m)


def score(cases, pixel_size_m: float, options: dict, leave_out_median_m: float | None = None):
    """The fold's figures for one set of extract_front ``options``; with
    ``leave_out_median_m``, images whose own median distance is above it (gross failures:
    the wrong edge won) are left out of every figure and counted in ``n_left_out``."""
    names, results = [], []
    for name, probabilities, front in cases:
        names.append(name)
        results.append(drawn_front(probabilities, front, pixel_size_m, options))
    left_out = set()
    if leave_out_median_m is not None:
        left_out = {
            name
            for name, (line, truth, _) in zip(names, results, strict=True)
            if line is not None and gross_failure(line, truth, leave_out_median_m)
        }
    kept = [i for i, name in enumerate(names) if name not in left_out]
    report = summarize([names[i] for i in kept], [results[i] for i in kept], pixel_size_m)
    keys = ("mean_m", "median_m", "n_images", "n_no_front", "n_points")
    directions = ("pred_to_reference_mean_m", "reference_to_pred_mean_m")
    per_image = [
        {k: e[k] for k in ("image", "front_found", "mean_m", "median_m", *directions) if k in e}
        for e in report["per_image"]
    ]
    figures = {k: report[k] for k in keys + directions}
    left = sorted(left_out)
    return {**figures, "n_left_out": len(left), "left_out": left, "per_image": per_image}


def _cell(fold: dict, directions: bool) -> str:
    """mean / median / no front[ / left out][; line to label, label to line]."""
    text = f"{fold['mean_m']:.0f} / {fold['median_m']:.0f} / {fold['n_no_front']}"
    if fold["n_left_out"]:
        text += f" ({fold['n_left_out']} left out)"
    if directions:
        text += (
            f"; {fold['pred_to_reference_mean_m']:.0f} line to label,"
            f" {fold['reference_to_pred_mean_m']:.0f} label to line"
        )
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--fold",
        action="append",
        required=True,
        help="GLACIER=MODEL.onnx, or GLACIER=A.onnx+B.onnx for an ensemble: each model's "
        "--members views, all averaged",
    )
    parser.add_argument("--variant", action="append", required=True, help="NAME=JSON options")
    parser.add_argument("--members", type=int, nargs="+", default=[1])
    parser.add_argument("--images", default="../shared/data/frontlearning/train/images")
    parser.add_argument("--labels", default="../shared/data/frontlearning/train/labels_1px")
    parser.add_argument("--pixel-size", type=float, default=49.0)
    parser.add_argument(
        "--json",
        help="write every figure here, with each image's and each direction's mean "
        "(the line to the label, the label to the line)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        help="keep each fold's probabilities here (float16), to score "
        "more variants later without predicting again",
    )
    parser.add_argument(
        "--directions",
        action="store_true",
        help="also print each direction's mean: the line to the label (the line is off) "
        "and the label to the line (the line covers only part of the front)",
    )
    parser.add_argument(
        "--leave-out-median-m",
        type=float,
        help="leave out images whose own median distance is above this (gross failures), "
        "to see what the rest is made of",
    )
    args = parser.parse_args()
    folds = dict(item.split("=", 1) for item in args.fold)
    variants = {k: json.loads(v) for k, v in (item.split("=", 1) for item in args.variant)}
    table = {}
    for members in args.members:
        predicted = {
            g: predict_ensemble(
                m.split("+"), Path(args.images), Path(args.labels), g, members, args.cache
            )
            for g, m in folds.items()
        }
        for name, options in variants.items():
            per_fold = {
                g: score(c, args.pixel_size, options, args.leave_out_median_m)
                for g, c in predicted.items()
            }
            row = {"folds": per_fold, "pooled": pooled(per_fold)}
            table[f"{members} members, {name}"] = row
            cells = " | ".join(_cell(f, args.directions) for f in per_fold.values())
            print(f"| {members} | {name} | {cells} | {row['pooled']['mean_m']:.0f} |", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
