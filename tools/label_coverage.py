"""How much of each labelled front the network's probability covers, fold by fold.

Reads the members' probabilities that ``tools/fold_front_picking.py --cache DIR`` kept
(so nothing is predicted again), draws each image's front as that tool does (no tests of a
front), leaves out the images whose own median distance is over ``--leave-out-median-m``
(gross failures), and reports for the label's pixels:

- the distance to the drawn line (mean, and the share over ``--far-m``);
- the distance to the nearest pixel whose members' mean probability reaches each of
  ``--thresholds``: what any picking of those pixels could reach at best;
- the highest probability within 2 px of the label pixels that lie over ``--far-m`` from
  the line (quartiles and 90th percentile): whether the network saw the part the line missed.

    .venv/bin/python tools/label_coverage.py --cache DIR \\
        --fold jakobshavn=models/folds/MODEL-without-jakobshavn.onnx ...
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import shapely
from fold_front_picking import drawn_front, gross_failure, predict_glacier
from scipy import ndimage

from calvingfronts.evaluation.evaluate_images import image_transform
from calvingfronts.evaluation.metrics import front_distances


def coverage(cases, pixel_size_m: float, thresholds, far_m: float, leave_out_median_m: float):
    """The figures above for one fold's ``(name, members' probabilities, label)`` cases."""
    to_line, to_mask, near_missed = [], {t: [] for t in thresholds}, []
    left_out = 0
    for _, probabilities, front in cases:
        mean = probabilities.mean(axis=0)
        line, truth, _ = drawn_front(probabilities, front, pixel_size_m)
        if line is None:
            continue
        rows, cols = np.nonzero(front > 0)
        xs, ys = image_transform(front.shape, pixel_size_m) * (cols + 0.5, rows + 0.5)
        distances = shapely.distance(shapely.points(xs, ys), line)
        if gross_failure(line, truth, leave_out_median_m):
            left_out += 1
            continue
        to_line.append(distances)
        for t in thresholds:
            to_mask[t].append(ndimage.distance_transform_edt(mean < t)[rows, cols] * pixel_size_m)
        missed = distances > far_m
        padded = np.pad(mean, 2)
        near_missed += [
            padded[r : r + 5, c : c + 5].max()
            for r, c in zip(rows[missed], cols[missed], strict=True)
        ]
    to_line = np.concatenate(to_line)
    return {
        "left_out": left_out,
        "line": (to_line.mean(), np.mean(to_line > far_m)),
        "masks": {
            t: (np.concatenate(v).mean(), np.mean(np.concatenate(v) > far_m))
            for t, v in to_mask.items()
        },
        "near_missed": np.percentile(near_missed, [25, 50, 75, 90]) if near_missed else None,
    }


def plot_worst(cases, images: Path, pixel_size_m: float, count: int, path: Path) -> None:
    """The ``count`` images with the highest mean distance: the image above, the members'
    mean probability below, label green and drawn line red, cropped to the two lines."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    scored = []
    for name, probabilities, front in cases:
        line, truth, _ = drawn_front(probabilities, front, pixel_size_m)
        if line is not None:
            error = np.mean(np.concatenate(front_distances(line, truth)))
            scored.append((error, name, probabilities.mean(axis=0), line, truth))
    scored.sort(key=lambda item: -item[0])
    figure, axes = plt.subplots(2, count, figsize=(3.2 * count, 7), squeeze=False)
    for column, (error, name, mean, line, truth) in enumerate(scored[:count]):
        extent = (0, mean.shape[1] * pixel_size_m, 0, mean.shape[0] * pixel_size_m)
        coordinates = np.vstack([shapely.get_coordinates(line), shapely.get_coordinates(truth)])
        low, high = coordinates.min(axis=0) - 3000, coordinates.max(axis=0) + 3000
        for ax, background in zip(axes[:, column], (plt.imread(images / name), mean), strict=True):
            ax.imshow(background, cmap="gray", extent=extent)
            for geometry, colour in ((truth, "lime"), (line, "red")):
                for part in shapely.get_parts(geometry):
                    x, y = part.xy
                    ax.plot(x, y, colour, lw=1)
            ax.set_xlim(low[0], high[0])
            ax.set_ylim(low[1], high[1])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{name[:4]} {name[17:25]} {error:.0f} m", fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=55)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fold", action="append", required=True, help="GLACIER=MODEL.onnx")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--members", type=int, default=8)
    parser.add_argument("--images", default="../shared/data/frontlearning/train/images")
    parser.add_argument("--labels", default="../shared/data/frontlearning/train/labels_1px")
    parser.add_argument("--pixel-size", type=float, default=49.0)
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.5, 0.35, 0.2])
    parser.add_argument("--far-m", type=float, default=300.0)
    parser.add_argument("--leave-out-median-m", type=float, default=1000.0)
    parser.add_argument(
        "--plot", type=Path, help="also draw each fold's worst images to PLOT-GLACIER.png"
    )
    parser.add_argument("--plot-count", type=int, default=5)
    args = parser.parse_args()
    for glacier, model in (item.split("=", 1) for item in args.fold):
        cases = predict_glacier(
            model, Path(args.images), Path(args.labels), glacier, args.members, args.cache
        )
        c = coverage(cases, args.pixel_size, args.thresholds, args.far_m, args.leave_out_median_m)
        if args.plot:
            plot = args.plot.with_name(f"{args.plot.stem}-{glacier}.png")
            plot_worst(cases, Path(args.images), args.pixel_size, args.plot_count, plot)
        masks = " | ".join(f"p >= {t}: {m:.0f} m; {s:.0%}" for t, (m, s) in c["masks"].items())
        quartiles = (
            "-" if c["near_missed"] is None else " / ".join(f"{q:.2f}" for q in c["near_missed"])
        )
        print(
            f"| {glacier} ({c['left_out']} left out) | line: {c['line'][0]:.0f} m; "
            f"{c['line'][1]:.0%} | {masks} | p near the missed label, 25/50/75/90 %: {quartiles} |"
        )


if __name__ == "__main__":
    main()
