"""evaluate-images: a model's front error on a folder of images with drawn front labels.

Runs exactly the workflow's chain on each image - the histogram treatment the model was
trained with (:func:`calvingfronts.preprocess.normalize.normalize`), tiled ONNX inference of the
workflow's 8 views (``--members``; the front is their consensus, their spread each image's
``spread_m`` and, where the model has a calibration, ``uncertainty_m``)
(:class:`calvingfronts.inference.front_model.FrontModel`) and
:func:`calvingfronts.fronts.vectorize.extract_front`
- and compares the front with the label's line using :mod:`calvingfronts.evaluation.metrics`. Images
are not georeferenced: pixels are squares of ``--pixel-size`` metres and the "fjord" is the
whole image. The training loop's validation uses the same :func:`score_probability`, so the
number it reports and the number this command prints are the same measure.

    evaluate-images --images DIR --labels DIR --pixel-size 49 [--model models/X.onnx]
                    [--glacier jakobshavn] [--flow-azimuth DEG|none] [--rotate 90]
                    [--resample 30] [--members 1]

Prints JSON: pooled mean and median distance (m), per-image values, images without a front,
and images skipped because the image or its label cannot be read (``skipped``, with the
reason). Without ``--model`` the shipped default model is looked for in ``models/`` of the
current folder, then of the checkout the package is installed from.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path

import numpy as np
from affine import Affine
from PIL import Image
from scipy import ndimage
from shapely.geometry import MultiLineString, box
from shapely.ops import linemerge
from skimage.morphology import skeletonize

from calvingfronts.evaluation.frontlearning import (
    FRONTLEARNING_FLOW_AZIMUTH,
    glacier_of_frontlearning,
)
from calvingfronts.evaluation.metrics import pooled_summary
from calvingfronts.fronts.scene_front import FRONT_SOURCES, scene_front
from calvingfronts.fronts.uncertainty import Calibration, read_calibration
from calvingfronts.help_text import plain
from calvingfronts.inference import default_model
from calvingfronts.preprocess.normalize import normalize
from calvingfronts.timeseries.terminus import straight_centreline, terminus_position

# The default model's path in a checkout; find_model looks for it wherever one runs.
DEFAULT_MODEL = str(default_model.DEFAULT_MODEL)
_IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg")


def image_transform(shape: tuple[int, int], pixel_size_m: float) -> Affine:
    """A north-up transform for an image that is not georeferenced (origin bottom-left)."""
    return Affine(pixel_size_m, 0.0, 0.0, 0.0, -pixel_size_m, shape[0] * pixel_size_m)


def whole_image_fjord(shape: tuple[int, int], pixel_size_m: float):
    """The trivial 'fjord' polygon covering the whole image."""
    return box(0.0, 0.0, shape[1] * pixel_size_m, shape[0] * pixel_size_m)


def label_line(front: np.ndarray, transform: Affine):
    """The label's 1-px skeleton as a (Multi)LineString of 8-neighbour pixel steps.

    Joining neighbouring skeleton pixels needs no ordering of the pixels and keeps every
    branch of the drawn line; the metric only measures distances to it.
    """
    skeleton = skeletonize(np.asarray(front, dtype=bool))
    rows, cols = np.nonzero(skeleton)
    if len(rows) < 2:
        return None
    lookup = set(zip(rows.tolist(), cols.tolist(), strict=True))
    segments = []
    for r, c in lookup:
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            if (r + dr, c + dc) in lookup:
                # Skip a diagonal step where two straight steps already join the pixels.
                if dr and dc and ((r + dr, c) in lookup or (r, c + dc) in lookup):
                    continue
                segments.append(
                    [transform * (c + 0.5, r + 0.5), transform * (c + dc + 0.5, r + dr + 0.5)]
                )
    if not segments:
        return None
    return linemerge(MultiLineString(segments))


def score_probability(
    probability: np.ndarray,
    front: np.ndarray,
    pixel_size_m: float,
    valid: np.ndarray | None = None,
    transform: Affine | None = None,
    fjord=None,
    flow_azimuth: float | None = None,
    truth=None,
):
    """(predicted line or None, truth line, reason) for one image's front probability.

    Without ``transform``/``fjord`` the image is treated as not georeferenced: square pixels
    of ``pixel_size_m`` and the whole image as the fjord. ``flow_azimuth`` (degrees clockwise
    from the image's top, e.g. 0 for FrontLearning subsets) is the workflow's per-glacier
    flow direction, which the vectorizer uses to rank front candidates. ``truth`` (a line in
    the same map units) replaces the line drawn from ``front``, e.g. for a resampled image.
    """
    pred, truth, reason, _ = score_members(
        probability[np.newaxis], front, pixel_size_m, valid, transform, fjord, flow_azimuth, truth
    )
    return pred, truth, reason


def score_members(*args, **options):
    """:func:`score_probability` for the members (M, H, W) of one image: the consensus
    front, the truth line, the reason, and the members' spread in metres (or None). The
    arguments are :func:`score_members_with_evidence`'s; ``rejections`` are extract_front's
    tests of a front (e.g. ``min_angle_to_flow``)."""
    return score_members_with_evidence(*args, **options)[:4]


def score_members_with_evidence(
    member_probabilities: np.ndarray,
    front: np.ndarray,
    pixel_size_m: float,
    valid: np.ndarray | None = None,
    transform: Affine | None = None,
    fjord=None,
    flow_azimuth: float | None = None,
    truth=None,
    rejections: dict | None = None,
    zones: np.ndarray | None = None,
    zone_names: tuple[str, ...] = (),
    fronts_from: str = "head",
):
    """:func:`score_members` and the evidence a conditional calibration can use: the
    consensus front's quality figures, the members without a front, and the error of its
    terminus position where a centreline along the flow through the image's middle crosses
    both lines (``position_error_m``, predicted less true: positive is too far advanced).

    The front is drawn as the workflow draws it (:func:`scene_front`): from the ``zones``
    (zones, H, W) of a model with a zone head where ``fronts_from`` is ``zones``."""
    shape = member_probabilities.shape[1:]
    if transform is None:
        transform = image_transform(shape, pixel_size_m)
    if fjord is None:
        fjord = whole_image_fjord(shape, pixel_size_m)
    result, spread, missing = scene_front(
        member_probabilities,
        transform,
        fjord,
        valid=valid,
        zones=zones,
        zone_names=zone_names,
        fronts_from=fronts_from,
        flow_azimuth=flow_azimuth,
        **(rejections or {}),
    )
    truth = truth if truth is not None else label_line(front, transform)
    evidence = {"members_without_front": int(missing)}
    quality = result.quality or {}
    evidence["drawn_from"] = quality.get("drawn_from", "head")
    for key in (
        "mean_probability",
        "fraction_above_threshold",
        "span_fraction",
        "length_m",
        "readings_distance_m",
    ):
        if quality.get(key) is not None:
            evidence[key] = quality[key]
    if result.front is not None and truth is not None and flow_azimuth is not None:
        error = position_error(result.front, truth, fjord, flow_azimuth)
        if error is not None:
            evidence["position_error_m"] = round(error, 1)
    return result.front, truth, result.reason, spread, evidence


def position_error(pred, truth, fjord, flow_azimuth: float) -> float | None:
    """Predicted less true terminus position along a straight centreline through the
    fjord's middle along the flow (None where either line does not cross it)."""
    centreline = straight_centreline(fjord, flow_azimuth)
    if centreline is None:
        return None
    at_pred, at_truth = _position(pred, centreline), _position(truth, centreline)
    if at_pred is None or at_truth is None:
        return None
    return float(at_pred - at_truth)


def _position(line, centreline) -> float | None:
    """A line's terminus position; of a label in several parts, the part that crosses the
    centreline (the longest of those), else the longest part, extended."""
    parts = [p for p in getattr(line, "geoms", [line]) if p.length > 0]
    if not parts:
        return None
    crossing = [p for p in parts if p.intersects(centreline)]
    return terminus_position(max(crossing or parts, key=lambda p: p.length), centreline)


def summarize(
    names: list[str], results: list[tuple], pixel_size_m: float, extras: list[dict] | None = None
) -> dict:
    """Pooled and per-image distances; images without a predicted front are counted apart.
    ``extras`` (one dict per image, e.g. the members' spread) join the per-image entries."""
    pairs, per_image, missing = [], [], []
    for name, (pred, truth, reason) in zip(names, results, strict=True):
        if truth is None:
            per_image.append({"image": name, "skipped": "label has no front line"})
        elif pred is None:
            missing.append(name)
            per_image.append({"image": name, "front_found": False, "reason": reason})
        else:
            pairs.append((pred, truth))
            per_image.append({"image": name, "front_found": True})
    summary = pooled_summary(pairs)
    found = [entry for entry in per_image if entry.get("front_found")]
    for entry, stats in zip(found, summary.pop("per_front"), strict=True):
        entry.update(stats)
    for entry, extra in zip(per_image, extras or [{}] * len(per_image), strict=True):
        entry.update(extra)
    mean = summary["mean_m"]
    return {
        "mean_m": mean,
        "median_m": summary["median_m"],
        "mean_px": None if mean is None else mean / pixel_size_m,
        # Apart, they tell a line off the front from one that covers only part of it.
        "pred_to_reference_mean_m": summary["pred_to_reference_mean_m"],
        "reference_to_pred_mean_m": summary["reference_to_pred_mean_m"],
        "n_images": len(names),
        "n_no_front": len(missing),
        "no_front": missing,
        "n_points": summary["n_points"],
        "pixel_size_m": pixel_size_m,
        "per_image": per_image,
    }


def turned(array: np.ndarray, rotate_deg: int) -> np.ndarray:
    """``array`` turned clockwise by ``rotate_deg`` (a multiple of 90) degrees."""
    if rotate_deg % 90:
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {rotate_deg}")
    return np.rot90(array, -(rotate_deg // 90))  # np.rot90 turns counter-clockwise


def turned_azimuth(azimuth: float | None, rotate_deg: int) -> float | None:
    """A direction (degrees clockwise from the image's top) after turning the image."""
    return None if azimuth is None else (azimuth + rotate_deg) % 360.0


def resampled(image: np.ndarray, pixel_size_m: float, target_m: float):
    """(image resampled bilinearly to pixels of about ``target_m``, its transform).

    The transform keeps the image's extent exactly: the pixel sizes along x and y are the
    extent over the rounded new shape, so the prediction and the original label line meet
    in the same metres.
    """
    height, width = image.shape
    out = ndimage.zoom(image, pixel_size_m / target_m, order=1, mode="nearest", grid_mode=True)
    size_x = width * pixel_size_m / out.shape[1]
    size_y = height * pixel_size_m / out.shape[0]
    return out, Affine(size_x, 0.0, 0.0, 0.0, -size_y, height * pixel_size_m)


def read_label(path: Path) -> np.ndarray:
    """The drawn front as a boolean mask; the line is whichever of dark/bright is rarer
    (FrontLearning draws black on white, CaFFe white on black)."""
    dark = read_image(path) < 128
    return dark if dark.mean() < 0.5 else ~dark


class UnreadableImage(Exception):
    """An image or label file that cannot be decoded (truncated, damaged, not an image)."""


# What PIL raises for such a file: UnidentifiedImageError is an OSError, a truncated file
# gives OSError (or struct.error, from a header cut short), a broken PNG chunk SyntaxError.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, struct.error)


def read_image(path: Path) -> np.ndarray:
    """The first band of the image at ``path``; UnreadableImage names a damaged file."""
    try:
        with Image.open(path) as image:
            pixels = np.asarray(image)
    except _DECODE_ERRORS as error:
        raise UnreadableImage(f"cannot read {path.name}: {type(error).__name__}: {error}") from None
    return pixels if pixels.ndim == 2 else pixels[..., 0]


def labelled_images(images: Path, labels: Path, glacier: str | None = None):
    """(image, label) paths of every image in ``images`` with a label in ``labels``, sorted;
    of ``glacier`` only (by the FrontLearning path/row in the file name) when given."""
    for path in sorted(p for p in images.iterdir() if p.suffix.lower() in _IMAGE_SUFFIXES):
        label = _label_for(path, labels)
        if label is None or (glacier and glacier_of_frontlearning(path.name) != glacier):
            continue
        yield path, label


def _label_for(image: Path, labels: Path) -> Path | None:
    stems = [image.stem.replace("_Subset", "_Front"), image.stem + "_front", image.stem]
    for stem in stems:
        for suffix in (".png", image.suffix):
            candidate = labels / f"{stem}{suffix}"
            if candidate.exists():
                return candidate
    return None


def evaluate_folder(
    images: Path,
    labels: Path,
    pixel_size_m: float,
    model_path: Path,
    histogram: str | None = None,
    flow_azimuth: float | None = FRONTLEARNING_FLOW_AZIMUTH,
    glacier: str | None = None,
    rotate_deg: int = 0,
    resample_m: float | None = None,
    members: int = 1,
    calibration: Calibration | None = None,
    rejections: dict | None = None,
    fronts_from: str = "head",
) -> dict:
    """Run the workflow's inference and vectorization on every image with a label (of
    ``glacier`` only, by the FrontLearning path/row in the file name, when given).

    ``rotate_deg`` (a multiple of 90) turns images and labels clockwise first, and the flow
    direction with them: FrontLearning subsets all flow up, while fjords on the workflow's
    north-up grids point every way, so this measures the model at other orientations.
    ``resample_m`` resamples each image (bilinear) to pixels of that size before inference,
    as the workflow puts scenes on its grids; the error is still measured against the label
    drawn on the original image, in metres. With ``members`` > 1 the front is the members'
    consensus and each image also gets the members' ``spread_m`` and, with a
    ``calibration``, its ``uncertainty_m``. ``rejections`` (:func:`rejection_options`) turn
    fronts the workflow would reject into images without a front. ``fronts_from`` is the
    workflow's ``vectorize.fronts_from`` (head | zones; a model without a zone head reads
    the head either way).
    """
    from calvingfronts.inference.front_model import FrontModel

    flow_azimuth = turned_azimuth(flow_azimuth, rotate_deg)

    model = FrontModel(model_path, device="auto")
    method = histogram or model.metadata.get("histogram", "equalize")
    names, results, extras, skipped = [], [], [], []
    for path, label in labelled_images(images, labels, glacier):
        try:
            gray, front = read_image(path), read_label(label)
        except UnreadableImage as error:
            # One damaged file must not cost the whole evaluation: listed, not scored.
            print(f"evaluate-images: skipped {path.name}: {error}", file=sys.stderr)
            skipped.append({"image": path.name, "reason": str(error)})
            continue
        gray = turned(gray, rotate_deg).astype(np.float32)
        front = turned(front, rotate_deg)
        truth = label_line(front, image_transform(front.shape, pixel_size_m))
        transform = None
        if resample_m:
            gray, transform = resampled(gray, pixel_size_m, resample_m)
        scale = 255.0 if gray.max() > 1.0 else 1.0
        valid = np.ones(gray.shape, dtype=bool)
        image = normalize(gray / scale, valid, method, (0.0, 1.0))
        prediction = model.predict_scene(image, members=members)
        names.append(path.name)
        pixel = resample_m or pixel_size_m
        pred, truth, reason, spread, evidence = score_members_with_evidence(
            prediction.members,
            front,
            pixel,
            valid,
            transform,
            whole_image_fjord(front.shape, pixel_size_m),
            flow_azimuth,
            truth,
            rejections,
            prediction.zones,
            model.info.zones,
            fronts_from,
        )
        results.append((pred, truth, reason))
        extra = evidence if spread is None else {"spread_m": spread, **evidence}
        if spread is not None and calibration is not None:
            extra["uncertainty_m"] = calibration.uncertainty_m(spread, pixel)
        extras.append(extra)
    if not names:
        of = f" of glacier {glacier!r}" if glacier else ""
        if skipped:
            raise SystemExit(f"none of the {len(skipped)} image(s){of} in {images} is readable")
        raise SystemExit(f"no image{of} in {images} has a label in {labels}")
    report = summarize(names, results, resample_m or pixel_size_m, extras)
    report.update(
        n_skipped=len(skipped),
        skipped=skipped,
        members=members,
        model=str(model_path),
        model_name=model.metadata.get("model_name"),
        histogram=method,
        flow_azimuth=flow_azimuth,
        glacier=glacier,
        rotate_deg=rotate_deg,
        resampled_to_m=resample_m,
        rejections=rejections or {},
        fronts_from=fronts_from if model.info.zones else "head",
    )
    return report


# The workflow's views of each tile (config.yaml `inference.members`): mean and spread.
WORKFLOW_MEMBERS = 8
# The workflow's tests of a front that apply to an image with no fjord outline (config.yaml
# `vectorize`; the span test needs the fjord's width, and the whole image is not the fjord).
WORKFLOW_MIN_ANGLE_TO_FLOW = 30.0
WORKFLOW_MIN_LENGTH_M = 1000.0


def add_rejection_options(parser: argparse.ArgumentParser, workflow_defaults: bool) -> None:
    """--min-angle-to-flow and --min-length: the workflow's tests of a front (its defaults
    where ``workflow_defaults``; else none: every image keeps its best candidate, as the
    published benchmarks score every image)."""
    angle, length = (0.0, None)
    if workflow_defaults:
        angle, length = WORKFLOW_MIN_ANGLE_TO_FLOW, WORKFLOW_MIN_LENGTH_M
    parser.add_argument(
        "--min-angle-to-flow",
        type=float,
        default=angle,
        metavar="DEG",
        help="reject fronts closer than this to the flow direction, as the workflow's "
        f"vectorize.min_angle_to_flow does (default {angle:g})",
    )
    parser.add_argument(
        "--min-length",
        type=float,
        default=length,
        metavar="METRES",
        help="reject shorter fronts, as the workflow's vectorize.min_length_m does (default "
        + (f"{length:g})" if length else "that of extract_front)"),
    )


def rejection_options(args: argparse.Namespace) -> dict:
    """extract_front's options from the parsed --min-angle-to-flow and --min-length."""
    options = {"min_angle_to_flow": args.min_angle_to_flow}
    if args.min_length is not None:
        options["min_length_m"] = args.min_length
    return options


def add_image_folder_options(parser: argparse.ArgumentParser, purpose: str) -> None:
    """The options of the commands that run a model on an image/label folder: --images,
    --labels, --pixel-size and --model (``purpose``: what the command does with it)."""
    parser.add_argument("--images", required=True, type=Path, help="folder of the images")
    parser.add_argument(
        "--labels", required=True, type=Path, help="folder of the front labels, named as images"
    )
    parser.add_argument("--pixel-size", required=True, type=float, help="metres per pixel")
    parser.add_argument(
        "--model",
        type=Path,
        help=f"ONNX model to {purpose} (default: {DEFAULT_MODEL} in the current folder or in "
        "the calvingfronts checkout)",
    )


def evaluate_images_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="evaluate-images",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_image_folder_options(parser, "evaluate")
    parser.add_argument(
        "--histogram",
        choices=("equalize", "linear", "none"),
        help="override the model's own histogram treatment",
    )
    parser.add_argument(
        "--flow-azimuth",
        default=str(FRONTLEARNING_FLOW_AZIMUTH),
        help="direction the ice flows in the images, degrees clockwise from the top "
        "(default 0: FrontLearning subsets are rotated so the ice flows up); 'none' if unknown",
    )
    parser.add_argument(
        "--glacier",
        help="score only this glacier's images (FrontLearning names: jakobshavn, "
        "kangerlussuaq, northwest), e.g. the glacier a model was validated on",
    )
    parser.add_argument(
        "--resample",
        type=float,
        metavar="METRES",
        help="resample the images to this pixel size before inference (e.g. 30, as the "
        "workflow's grids); errors stay measured against the original labels",
    )
    parser.add_argument(
        "--rotate",
        type=int,
        default=0,
        choices=(0, 90, 180, 270),
        help="turn images, labels and the flow direction clockwise by this many degrees first",
    )
    parser.add_argument(
        "--members",
        type=int,
        default=WORKFLOW_MEMBERS,
        help="views of each image (as it is, mirrored, turned) whose mean probability the "
        f"front is drawn on, as the workflow's inference.members (default {WORKFLOW_MEMBERS}; "
        "1: the image as it is)",
    )
    parser.add_argument(
        "--fronts-from",
        choices=FRONT_SOURCES,
        default="head",
        help="draw fronts from the front head (head, the workflow's default "
        "vectorize.fronts_from) or from the zone boundary on the head's ridge (zones); a "
        "model without a zone head reads the head either way",
    )
    add_rejection_options(parser, workflow_defaults=False)
    args = parser.parse_args(argv)
    for option, folder in (("--images", args.images), ("--labels", args.labels)):
        if not folder.is_dir():
            parser.error(f"{option} {folder} is not a folder")
    try:
        model = default_model.find_model(args.model)
    except default_model.ModelNotFound as error:
        parser.error(str(error))
    flow = None if args.flow_azimuth.lower() == "none" else float(args.flow_azimuth)
    from calvingfronts.inference.front_model import check_members

    try:
        check_members(args.members)
        calibration = read_calibration(model, args.members)
    except ValueError as error:
        parser.error(str(error))
    report = evaluate_folder(
        args.images,
        args.labels,
        args.pixel_size,
        model,
        args.histogram,
        flow,
        args.glacier,
        args.rotate,
        args.resample,
        members=args.members,
        calibration=calibration,
        rejections=rejection_options(args),
        fronts_from=args.fronts_from,
    )
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(evaluate_images_main())
