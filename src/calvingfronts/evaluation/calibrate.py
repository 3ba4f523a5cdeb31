"""calibrate-uncertainty: fit a model's uncertainty on fronts of a glacier it never saw.

    calvingfronts calibrate-uncertainty --images DIR --labels DIR --pixel-size 49
        --glacier jakobshavn [--model models/NAME.onnx] [--members 4 8] [--write]
    calvingfronts calibrate-uncertainty --images DIR --labels DIR --pixel-size 49
        --fold jakobshavn=FOLD_J.onnx --fold kangerlussuaq=FOLD_K.onnx ... [--write]

Runs ``evaluate-images`` with each number of members, fits :class:`Calibration` so that the
true error of ``--coverage`` (default 90 %) of the fronts is within ``uncertainty_m``, and
prints the table the model card shows: coverage (as fitted, and leave-one-out, which is
what a new front can expect), Spearman correlation with the true error, and what cut-offs on
the uncertainty keep and catch. ``--write`` stores the fit beside the model
(``models/NAME.uncertainty.json``, tied to the model file's sha256), where the workflow reads
it. Calibrate only on glaciers the model was not trained on, or the bounds will be too tight.

A model trained on every labelled glacier has no such glacier left: ``--fold GLACIER=MODEL``
(once per fold of its leave-one-glacier-out cross-validation) fits on each fold model's
fronts of the glacier it held out, pooled, and writes the fit for ``--model``, trained by
the same recipe on all of them.

Fronts are drawn with the workflow's tests of a front that apply to an image without a fjord
outline (``--min-angle-to-flow``, ``--min-length``; config.yaml ``vectorize``): a front the
workflow rejects never reaches its screening, so it must not set the bounds either.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from calvingfronts.evaluation.evaluate_images import (
    add_image_folder_options,
    add_rejection_options,
    evaluate_folder,
    rejection_options,
)
from calvingfronts.fronts.uncertainty import (
    Calibration,
    calibration_path,
    calibration_report,
    fit_calibration,
)
from calvingfronts.help_text import plain
from calvingfronts.inference.default_model import ModelNotFound, find_model
from calvingfronts.raster_io import atomic_path

# Cut-offs on uncertainty_m shown in the table: from about the floor to twice the usual one.
CUTOFFS_M = (300.0, 400.0, 500.0, 750.0, 1000.0)


def calibrate_members(report: dict, coverage: float, fitted_on: str) -> dict:
    """The calibration for one ``evaluate-images`` report (run with members), its table, and
    its leave-one-out coverage: each front's bound fitted on all the other fronts."""
    fronts = [e for e in report["per_image"] if e.get("front_found") and "spread_m" in e]
    spreads = np.array([e["spread_m"] for e in fronts])
    errors = np.array([e["mean_m"] for e in fronts])
    pixels = np.full(len(fronts), float(report["pixel_size_m"]))
    calibration = fit_calibration(spreads, errors, pixels, coverage, fitted_on)
    uncertainty = [calibration.uncertainty_m(s, p) for s, p in zip(spreads, pixels, strict=True)]
    held_out = []
    for i in range(len(fronts)):
        others = np.arange(len(fronts)) != i
        fit = fit_calibration(spreads[others], errors[others], pixels[others], coverage)
        held_out.append(errors[i] <= fit.uncertainty_m(spreads[i], pixels[i]))
    fit = {
        **{k: v for k, v in calibration.as_dict().items() if not k.startswith("position_")},
        "leave_one_out_coverage": float(np.mean(held_out)),
        "images": report["n_images"],
        "images_without_front": report["n_no_front"],
        "pooled_mean_m": report["mean_m"],
        "pooled_median_m": report["median_m"],
        "report": calibration_report(uncertainty, errors, CUTOFFS_M),
    }
    position = calibrate_positions(fronts, float(report["pixel_size_m"]), coverage)
    if position is not None:
        fit["position"] = position
    return fit


def calibrate_positions(fronts: list[dict], pixel_m: float, coverage: float) -> dict | None:
    """The bound on the terminus position, in the line's form, from the fronts whose
    position error is known (evaluate-images' ``position_error_m``: the crossing with a
    centreline along the flow), with its leave-one-out coverage and sharpness; None where
    fewer than 5 fronts have one."""
    known = [e for e in fronts if e.get("position_error_m") is not None]
    if len(known) < 5:
        return None
    spreads = np.array([e["spread_m"] for e in known])
    errors = np.abs([e["position_error_m"] for e in known])
    pixels = np.full(len(known), pixel_m)
    fit = fit_calibration(spreads, errors, pixels, coverage)
    bounds = np.array([fit.uncertainty_m(s, pixel_m) for s in spreads])
    held_out = []
    for i in range(len(known)):
        others = np.arange(len(known)) != i
        refit = fit_calibration(spreads[others], errors[others], pixels[others], coverage)
        held_out.append(errors[i] <= refit.uncertainty_m(spreads[i], pixel_m))
    return {
        "formula": "position_uncertainty_m = hypot(floor_px * pixel_size_m, scale * spread_m)",
        "scale": fit.scale,
        "floor_px": fit.floor_px,
        "n_fronts": len(known),
        "coverage": float(np.mean(errors <= bounds)),
        "leave_one_out_coverage": float(np.mean(held_out)),
        "median_bound_m": round(float(np.median(bounds)), 1),
        "median_error_m": round(float(np.median(errors)), 1),
    }


def merge_fold_reports(reports: dict[str, dict]) -> dict:
    """One report from the folds' reports (each fold model on its held-out glacier): the
    fronts of every fold, the pooled mean over every distance. The distances themselves are
    not kept by a report, so there is no pooled median (None). One report is returned as it
    is."""
    from calvingfronts.training.cross_validation import pooled

    if len(reports) == 1:
        return next(iter(reports.values()))
    together = pooled(reports)
    pixels = {r["pixel_size_m"] for r in reports.values()}
    if len(pixels) != 1:
        raise ValueError(f"folds were measured at different pixel sizes: {sorted(pixels)}")
    return {
        **together,
        "median_m": None,
        "pixel_size_m": pixels.pop(),
        "per_image": [entry for r in reports.values() for entry in r["per_image"]],
    }


def _metres(value) -> str:
    return "-" if value is None else f"{value:.0f} m"


def markdown_table(fits: dict[int, dict]) -> str:
    """The model card's calibration table, one block of rows per number of members."""
    lines = [
        "| members | coverage (fitted / leave-one-out) | Spearman | cut-off | fronts kept "
        "| > 1 km off caught | within 200 m lost | kept fronts' error: mean (median) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for members, fit in sorted(fits.items()):
        report = fit["report"]
        head = (
            f"| {members} | {report['coverage']:.0%} / {fit['leave_one_out_coverage']:.0%} "
            f"| {report['spearman']:.2f} "
        )
        lines.append(
            f"{head}| none | {report['n_fronts']} | 0 of {report['n_far']} | 0 of "
            f"{report['n_near']} | {report['mean_m']:.0f} m ({report['median_m']:.0f} m) |"
        )
        for row in report["cutoffs"]:
            kept = (
                f"{row['mean_kept_m']:.0f} m ({row['median_kept_m']:.0f} m)" if row["kept"] else "-"
            )
            lines.append(
                f"| | | | {row['cutoff_m']:.0f} m | {row['kept']} | {row['far_caught']} of "
                f"{report['n_far']} | {row['near_lost']} of {report['n_near']} | {kept} |"
            )
    return "\n".join(lines)


def write_calibration(model_path: Path, fits: dict[int, dict]) -> Path:
    """Store the fits beside the model, keeping fits for other member counts."""
    path = calibration_path(model_path)
    document = json.loads(path.read_text()) if path.exists() else {}
    sha256 = hashlib.sha256(model_path.read_bytes()).hexdigest()
    if document.get("model_sha256") != sha256:
        document = {}
    document["model"] = model_path.name
    document["model_sha256"] = sha256
    document["formula"] = "uncertainty_m = hypot(floor_px * pixel_size_m, scale * spread_m)"
    document.setdefault("members", {}).update({str(m): fit for m, fit in fits.items()})
    with atomic_path(path) as tmp:
        Path(tmp).write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return path


CARD_SECTION = "## Uncertainty calibration"


def card_section(fits: dict[int, dict], command: str) -> str:
    """The model card's section on the calibration: the formula, the fits and the table."""
    lines = [
        CARD_SECTION,
        "",
        "`uncertainty_m = hypot(floor_px x pixel size, scale x spread)`, where the spread is "
        "the mean distance between the members' fronts and the front of their mean "
        'probability (README "Uncertainty and screening"). Fitted so that the true error '
        f"(a front's mean distance to the drawn label) of {_coverage(fits)} of the fronts "
        "is within it: a 90 % bound when the coverage is 0.9. Made with:",
        "",
        f"    {command}",
        "",
        "| members | scale | floor (px) | fronts | fitted on | pooled error with these "
        "members: mean / median |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for members, fit in sorted(fits.items()):
        lines.append(
            f"| {members} | {fit['scale']} | {fit['floor_px']} | {fit['n_fronts']} | "
            f"{fit['fitted_on']} | {_metres(fit['pooled_mean_m'])} / "
            f"{_metres(fit['pooled_median_m'])} |"
        )
    positions = {m: fit["position"] for m, fit in fits.items() if fit.get("position")}
    if positions:
        lines += [
            "",
            "The terminus position's bound, `position_uncertainty_m`, has the same form, fitted "
            "on the error of the crossing with a centreline along the flow through each "
            "image's middle (the images flow up):",
            "",
            "| members | scale | floor (px) | fronts | coverage (fitted / leave-one-out) | "
            "median bound / median error |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for members, fit in sorted(positions.items()):
            lines.append(
                f"| {members} | {fit['scale']} | {fit['floor_px']} | {fit['n_fronts']} | "
                f"{fit['coverage']:.0%} / {fit['leave_one_out_coverage']:.0%} | "
                f"{fit['median_bound_m']:.0f} m / {fit['median_error_m']:.0f} m |"
            )
    lines += ["", markdown_table(fits), ""]
    return "\n".join(lines)


def _coverage(fits: dict[int, dict]) -> str:
    return f"{next(iter(fits.values()))['coverage']:.0%}" if fits else "?"


def update_card(card: Path, section: str) -> None:
    """Put ``section`` in the model card, replacing an earlier one, before the card's
    configuration (the last section) or at the end."""
    text = card.read_text()
    if CARD_SECTION in text:
        start = text.index(CARD_SECTION)
        end = text.find("\n## ", start + len(CARD_SECTION))
        text = text[:start] + (text[end + 1 :] if end >= 0 else "")
    anchor = text.find("## Configuration")
    text = (
        text[:anchor] + section + "\n" + text[anchor:]
        if anchor >= 0
        else text.rstrip("\n") + "\n\n" + section
    )
    with atomic_path(card) as tmp:
        Path(tmp).write_text(text)


def calibrate_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="calvingfronts calibrate-uncertainty",
        description=plain(__doc__),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_image_folder_options(parser, "calibrate")
    parser.add_argument("--glacier", help="a glacier the model was not trained on")
    parser.add_argument(
        "--fold",
        action="append",
        default=[],
        metavar="GLACIER=MODEL",
        help="a fold model and the glacier it held out (repeat for every fold); fits on them, "
        "pooled, for --model, trained on all the glaciers",
    )
    parser.add_argument(
        "--members",
        type=int,
        nargs="+",
        # The workflow's default inference.members: a retrained model calibrated with the
        # defaults is usable with the shipped configuration.
        default=[8],
        help="numbers of member views to fit, each at least 2 (default 8, as in the config)",
    )
    parser.add_argument(
        "--coverage",
        type=float,
        default=0.9,
        help="share of fronts whose error the bound must cover (default 0.9)",
    )
    # The fronts the workflow keeps are the ones its screening bounds: calibrate on those.
    add_rejection_options(parser, workflow_defaults=True)
    parser.add_argument("--write", action="store_true", help="store the fit beside the model")
    args = parser.parse_args(argv)
    rejections = rejection_options(args)
    if any(m < 2 for m in args.members):
        parser.error("--members: a spread needs at least 2 members")
    if bool(args.glacier) == bool(args.fold):
        parser.error("give either --glacier or --fold GLACIER=MODEL (once per fold)")
    folds = {}
    for item in args.fold:
        glacier, _, path = item.partition("=")
        if not (glacier and path):
            parser.error(f"--fold {item!r}: expected GLACIER=MODEL")
        if not Path(path).is_file():
            parser.error(f"--fold {item!r}: no model file {path}")
        folds[glacier] = Path(path)
    try:
        args.model = find_model(args.model)
    except ModelNotFound as error:
        parser.error(str(error))
    # A held-out glacier is the one-fold case: the model itself on the glacier it never saw.
    sources = folds or {args.glacier: args.model}
    fitted_on = ("folds held out " + ", ".join(folds) if folds else args.glacier) + (
        f" ({args.images})"
    )
    fits = {}
    for members in args.members:
        report = merge_fold_reports(
            {
                glacier: evaluate_folder(
                    args.images,
                    args.labels,
                    args.pixel_size,
                    path,
                    glacier=glacier,
                    members=members,
                    rejections=rejections,
                )
                for glacier, path in sources.items()
            }
        )
        fits[members] = calibrate_members(report, args.coverage, fitted_on)
    print(markdown_table(fits))
    for members, fit in sorted(fits.items()):
        calibration = Calibration(fit["scale"], fit["floor_px"], fit["coverage"])
        print(
            f"members {members}: uncertainty_m = hypot({calibration.floor_px} px, "
            f"{calibration.scale} x spread); pooled error {_metres(fit['pooled_mean_m'])} mean, "
            f"{_metres(fit['pooled_median_m'])} median, {fit['images_without_front']} of "
            f"{fit['images']} images without a front"
        )
    if args.write:
        print(f"written: {write_calibration(args.model, fits)}")
        card = args.model.with_suffix(".md")
        if card.exists():
            merged = json.loads(calibration_path(args.model).read_text())["members"]
            fits_all = {int(m): fit for m, fit in merged.items()}
            command = "calvingfronts calibrate-uncertainty " + " ".join(
                sys.argv[2:] if argv is None else argv
            )
            update_card(card, card_section(fits_all, command))
            print(f"updated: {card}")
    return 0


if __name__ == "__main__":
    sys.exit(calibrate_main())
