"""Each front's uncertainty in metres, from the disagreement of the network's members.

The network sees every scene as it is, mirrored and turned (:data:`inference.MEMBER_VIEWS`),
and a front is extracted from each member's probability and from their mean (the consensus
front, the one the product keeps). Where the image shows the front clearly, every view puts
it in the same place; where the network is guessing - a faint front against rigid mélange, a
rock or cloud edge that looks like one - the views disagree, often by kilometres. The
*spread* is the mean distance between the members' fronts and the consensus front.

The spread is not yet an error: it is turned into one by a calibration measured on fronts of
glaciers the model was not trained on (:class:`Calibration`, fitted by :func:`fit_calibration`
and recorded in the model card), so that ``uncertainty_m`` is a 90 % bound: the true mean
distance error of about 90 % of fronts is within it.

All functions are pure: lines and numbers in, numbers out.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from shapely.geometry.base import BaseGeometry

from calvingfronts.evaluation.metrics import symmetric_mean_distance


def member_spread(
    member_fronts: Sequence[BaseGeometry | None], consensus: BaseGeometry
) -> tuple[float, int]:
    """(mean distance in metres between each member's front and the consensus front,
    members without a front).

    A member that finds no front at all disagrees with the consensus as much as a member can:
    it counts as the consensus front's whole length away, so a front that only the averaged
    map shows is never reported as certain.
    """
    if consensus is None or consensus.is_empty:
        raise ValueError("the consensus front is empty")
    distances, missing = [], 0
    for front in member_fronts:
        if front is None or front.is_empty:
            missing += 1
            distances.append(consensus.length)
        else:
            distances.append(symmetric_mean_distance(front, consensus))
    if not distances:
        raise ValueError("no members to compare with the consensus front")
    return float(np.mean(distances)), missing


@dataclass(frozen=True)
class Calibration:
    """``uncertainty_m = hypot(floor_px * pixel_size_m, scale * spread_m)``.

    ``floor_px`` is the error left when every member agrees (the line's own placement error,
    in pixels of the scene's grid), ``scale`` turns the members' spread into the error's
    bound; ``coverage`` is the share of calibration fronts whose error is within the bound.

    ``position_floor_px`` and ``position_scale`` do the same for the terminus position (the
    crossing with a centreline along the flow), fitted where a true position exists; None
    where the calibration has none.
    """

    scale: float
    floor_px: float
    coverage: float = 0.9
    fitted_on: str = ""
    n_fronts: int = 0
    position_scale: float | None = None
    position_floor_px: float | None = None

    def uncertainty_m(self, spread_m: float, pixel_size_m: float) -> float:
        return float(math.hypot(self.floor_px * pixel_size_m, self.scale * spread_m))

    def position_uncertainty_m(self, spread_m: float, pixel_size_m: float) -> float | None:
        if self.position_scale is None or self.position_floor_px is None:
            return None
        return float(
            math.hypot(self.position_floor_px * pixel_size_m, self.position_scale * spread_m)
        )

    def as_dict(self) -> dict:
        return asdict(self)


def fit_calibration(
    spreads_m: Sequence[float],
    errors_m: Sequence[float],
    pixel_sizes_m: Sequence[float],
    coverage: float = 0.9,
    fitted_on: str = "",
) -> Calibration:
    """The smallest bounds that hold for ``coverage`` of the given fronts.

    The floor is the ``coverage`` quantile of the error in pixels among fronts whose members
    agree to within a pixel; the scale is then the smallest that makes the bound hold for
    ``coverage`` of all fronts (searched on a fine grid, so the fit is exact for the data).
    """
    spreads = np.asarray(spreads_m, dtype=float)
    errors = np.asarray(errors_m, dtype=float)
    pixels = np.asarray(pixel_sizes_m, dtype=float)
    if not (len(spreads) == len(errors) == len(pixels)) or len(spreads) < 5:
        raise ValueError("calibration needs at least 5 fronts with spread, error and pixel size")
    if not 0.0 < coverage < 1.0:
        raise ValueError(f"coverage must lie in (0, 1), got {coverage}")
    agreeing = spreads <= pixels
    reference = errors[agreeing] / pixels[agreeing] if agreeing.sum() >= 3 else errors / pixels
    floor_px = float(np.quantile(reference, coverage))
    best = None
    for scale in np.arange(0.0, 20.0001, 0.01):
        bound = np.hypot(floor_px * pixels, scale * spreads)
        if np.mean(errors <= bound) >= coverage:
            best = float(scale)
            break
    if best is None:
        best = 20.0
    return Calibration(
        scale=round(best, 2),
        floor_px=round(floor_px, 2),
        coverage=coverage,
        fitted_on=fitted_on,
        n_fronts=len(spreads),
    )


def calibration_report(
    uncertainties_m: Sequence[float],
    errors_m: Sequence[float],
    cutoffs_m: Sequence[float] = (150.0, 200.0, 300.0, 500.0),
    far_m: float = 1000.0,
    near_m: float = 200.0,
) -> dict:
    """How well the stated uncertainty describes the true errors, and what cut-offs on it do.

    - ``coverage``: the share of fronts whose true error is within ``uncertainty_m``;
    - ``spearman``: the rank correlation of uncertainty and error;
    - per cut-off: fronts kept, fronts more than ``far_m`` off caught (dropped), fronts
      within ``near_m`` lost (dropped), and the mean error of the kept fronts.
    """
    uncertainty = np.asarray(uncertainties_m, dtype=float)
    errors = np.asarray(errors_m, dtype=float)
    far, near = errors > far_m, errors <= near_m
    from scipy import stats  # here: the workflow reads calibrations at every start

    rho = stats.spearmanr(uncertainty, errors).statistic if len(errors) > 2 else float("nan")
    rows = []
    for cutoff in cutoffs_m:
        kept = uncertainty <= cutoff
        rows.append(
            {
                "cutoff_m": float(cutoff),
                "kept": int(kept.sum()),
                "far_caught": int((far & ~kept).sum()),
                "near_lost": int((near & ~kept).sum()),
                "mean_kept_m": float(errors[kept].mean()) if kept.any() else None,
                "median_kept_m": float(np.median(errors[kept])) if kept.any() else None,
            }
        )
    return {
        "n_fronts": int(len(errors)),
        "n_far": int(far.sum()),
        "n_near": int(near.sum()),
        "coverage": float(np.mean(errors <= uncertainty)) if len(errors) else None,
        "spearman": float(rho),
        "mean_m": float(errors.mean()) if len(errors) else None,
        "median_m": float(np.median(errors)) if len(errors) else None,
        "cutoffs": rows,
    }


def calibration_path(model_path: str | Path) -> Path:
    """The model's calibration file: ``models/NAME.uncertainty.json`` beside ``NAME.onnx``."""
    model_path = Path(model_path)
    return model_path.with_name(f"{model_path.stem}.uncertainty.json")


def read_calibration(model_path: str | Path, members: int) -> Calibration | None:
    """The calibration of ``model_path`` for ``members`` members, or None where the model
    has none for that count. A calibration made for another version of the model file
    (its sha256 differs) is an error: it would state bounds that do not hold."""
    path = calibration_path(model_path)
    if members < 2 or not path.exists():
        return None
    try:
        document = json.loads(path.read_text())
        entry = document["members"].get(str(members))
        model_sha256 = document["model_sha256"]
    except (OSError, ValueError, KeyError, AttributeError) as error:
        raise ValueError(f"{path}: not a calibration file: {error}") from None
    actual = hashlib.sha256(Path(model_path).read_bytes()).hexdigest()
    if model_sha256 != actual:
        raise ValueError(
            f"{path} calibrates another version of {model_path} (sha256 {model_sha256[:12]}, "
            f"the file is {actual[:12]}): run `calvingfronts calibrate-uncertainty` again"
        )
    if entry is None:
        return None
    fields = {k: entry[k] for k in ("scale", "floor_px", "coverage", "fitted_on", "n_fronts")}
    position = entry.get("position") or {}
    return Calibration(
        **fields,
        position_scale=position.get("scale"),
        position_floor_px=position.get("floor_px"),
    )
