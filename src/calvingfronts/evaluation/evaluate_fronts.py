"""``evaluate-fronts``: produced calving fronts against reference traces.

Predictions and references are paired first, then measured with the CaFFe-style mean
distance error of :mod:`calvingfronts.evaluation.metrics`:

- by ``scene_id`` when both sides have that column and share at least one id (fronts traced
  on the very images the workflow processed);
- otherwise by acquisition date: a date column (``acquired``, ISO timestamps, or ``date`` /
  ``Date``, e.g. ``2019/07/15``) on each side; pairs within ``tolerance_days`` UTC calendar
  days are matched one-to-one, nearest first, so a reference is never counted twice.

Unpaired references are ``missing`` (the workflow found no front where a human did) and
unpaired predictions ``extra``; both are reported, not folded into the distance.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from scipy import stats

from calvingfronts.evaluation.metrics import DEFAULT_SPACING_M, front_distances
from calvingfronts.grid import GLACIER_CRS

DEFAULT_TOLERANCE_DAYS = 1.0
DEFAULT_PRED_LAYER = "fronts"
# Fronts whose extents are further apart than this are not of the same glacier.
OVERLAP_TOLERANCE_M = 2000.0
SCENE_ID_COLUMN = "scene_id"
# Date columns in order of preference; matched case-insensitively.
DATE_COLUMNS = ("acquired", "date")
PIXEL_SIZE_COLUMNS = ("pixel_size_m", "pixel_size")
LINE_TYPES = ("LineString", "MultiLineString")


class FrontsInputError(ValueError):
    """A fronts file or table that cannot be evaluated, with what is wrong with it."""


# ---------------------------------------------------------------------------------------
# Reading and checking inputs


def _layers(path: str | Path) -> list[str]:
    return [str(name) for name, _ in pyogrio.list_layers(path)]


def read_fronts(path: str | Path, layer: str | None = None, preferred: str | None = None):
    """A fronts layer as a GeoDataFrame. Without ``layer``: ``preferred`` if the file has
    it, else the file's only layer."""
    path = Path(path)
    if not path.exists():
        raise FrontsInputError(f"{path}: no such file")
    try:
        layers = _layers(path)
    except Exception as error:  # pyogrio raises several types for unreadable files
        raise FrontsInputError(f"{path}: cannot be read as a vector file ({error})") from None
    if layer is None:
        if preferred in layers:
            layer = preferred
        elif len(layers) == 1:
            layer = layers[0]
        else:
            raise FrontsInputError(
                f"{path}: holds layers {layers}; name the one to use with the layer option"
            )
    elif layer not in layers:
        raise FrontsInputError(f"{path}: no layer '{layer}' (layers: {layers})")
    frame = gpd.read_file(path, layer=layer)
    if not isinstance(frame, gpd.GeoDataFrame):
        raise FrontsInputError(f"{path}: layer '{layer}' has no geometry column")
    return frame


def _check_fronts(frame, name: str, warnings: list[str]):
    """The rows with a line geometry; errors for tables that cannot be evaluated."""
    try:
        geometry = frame.geometry  # a GeoDataFrame without an active geometry raises
    except AttributeError:
        raise FrontsInputError(f"{name}: no geometry column") from None
    if len(frame) == 0:
        raise FrontsInputError(f"{name}: is empty (no features)")
    usable = geometry.notna() & ~geometry.is_empty
    types = geometry[usable].geom_type
    wrong = types[~types.isin(LINE_TYPES)]
    if len(wrong):
        kinds = ", ".join(sorted(set(wrong)))
        raise FrontsInputError(
            f"{name}: holds {kinds} geometries ({len(wrong)} of {len(frame)}); fronts must be "
            "LineString or MultiLineString"
        )
    if not usable.any():
        raise FrontsInputError(f"{name}: every geometry is empty")
    if (~usable).any():
        warnings.append(f"{name}: ignored {int((~usable).sum())} features without geometry")
    return frame[usable]


def _column(frame, wanted: tuple[str, ...]) -> str | None:
    """The first column named like one of ``wanted`` (case-insensitive)."""
    by_lower = {str(c).lower(): c for c in frame.columns if c != frame.geometry.name}
    for name in wanted:
        if name.lower() in by_lower:
            return by_lower[name.lower()]
    return None


def _times(frame, name: str) -> pd.Series | None:
    """Acquisition times as UTC timestamps (naive values taken as UTC), or None without a
    date column."""
    column = _column(frame, DATE_COLUMNS)
    if column is None:
        return None
    values = frame[column]
    if pd.api.types.is_datetime64_any_dtype(values):
        times = pd.to_datetime(values, utc=True)
    else:
        text = values.astype("string").str.strip()
        times = pd.to_datetime(text, utc=True, format="mixed", errors="coerce")
        bad = text[times.isna() & text.notna() & (text != "")]
        if len(bad):
            raise FrontsInputError(
                f"{name}: column '{column}' holds values that are not dates, e.g. "
                f"{bad.iloc[0]!r} (expected ISO 8601 or YYYY/MM/DD)"
            )
    return pd.Series(times.to_numpy(), index=frame.index, name="time")


def _ids(frame) -> pd.Series | None:
    column = _column(frame, (SCENE_ID_COLUMN,))
    if column is None:
        return None
    return frame[column].astype("string")


def _to_common_crs(pred, truth, pred_name: str, truth_name: str, warnings: list[str]):
    """Both in the prediction's CRS (EPSG:3413 from the workflow); a geographic or missing
    CRS falls back to EPSG:3413 so distances are in metres."""
    if pred.crs is None:
        warnings.append(f"{pred_name}: no CRS; taken as {GLACIER_CRS}")
        pred = pred.set_crs(GLACIER_CRS)
    target = pred.crs if pred.crs.is_projected else GLACIER_CRS
    if truth.crs is None:
        warnings.append(f"{truth_name}: no CRS; taken as the prediction's ({target})")
        truth = truth.set_crs(target)
    return pred.to_crs(target), truth.to_crs(target)


def _check_overlap(pred, truth, pred_name: str, truth_name: str) -> None:
    """Fronts of another glacier (or in a wrong CRS) would still be "matched" by date and
    give a meaningless distance: refuse when the two sets of fronts are nowhere near."""
    if pred.empty or truth.empty:
        return
    pred_box = shapely.box(*pred.total_bounds)
    truth_box = shapely.box(*truth.total_bounds)
    if pred_box.distance(truth_box) > OVERLAP_TOLERANCE_M:
        raise FrontsInputError(
            f"{pred_name} and {truth_name} do not overlap in space: the predicted fronts lie "
            f"in {_extent_text(pred.total_bounds)}, the reference fronts in "
            f"{_extent_text(truth.total_bounds)} ({pred_box.distance(truth_box) / 1000:.1f} "
            "km apart); are they of the same glacier, and in the CRS their files say?"
        )


def _extent_text(bounds) -> str:
    xmin, ymin, xmax, ymax = (round(float(v)) for v in bounds)
    return f"x {xmin}..{xmax}, y {ymin}..{ymax}"


# ---------------------------------------------------------------------------------------
# Matching


def match_by_scene_id(pred_ids, truth_ids) -> list[tuple[int, int]]:
    """Positional ``(pred, truth)`` pairs with equal ids; each id pairs its first
    occurrence on either side (duplicates are merged before this is called)."""
    first_truth: dict[str, int] = {}
    for j, value in enumerate(truth_ids):
        if value is not None and not pd.isna(value):
            first_truth.setdefault(str(value), j)
    pairs, used = [], set()
    for i, value in enumerate(pred_ids):
        if value is None or pd.isna(value) or str(value) in used:
            continue
        j = first_truth.get(str(value))
        if j is not None:
            pairs.append((i, j))
            used.add(str(value))
    return pairs


def match_by_date(pred_times, truth_times, tolerance_days: float) -> list[tuple[int, int]]:
    """One-to-one positional ``(pred, truth)`` pairs at most ``tolerance_days`` UTC calendar
    days apart, nearest first (calendar days, then exact time, then order)."""
    pred_times = pd.DatetimeIndex(pred_times)
    truth_times = pd.DatetimeIndex(truth_times)
    pred_day = _day_number(pred_times)
    truth_day = _day_number(truth_times)
    candidates = []
    order = np.argsort(pred_day, kind="stable")
    sorted_days = pred_day[order]
    for j, day in enumerate(truth_day):
        if math.isnan(day):
            continue
        lo = np.searchsorted(sorted_days, day - tolerance_days, side="left")
        hi = np.searchsorted(sorted_days, day + tolerance_days, side="right")
        for i in order[lo:hi]:
            exact = abs((pred_times[i] - truth_times[j]).total_seconds())
            candidates.append((abs(pred_day[i] - day), exact, int(i), j))
    pairs, used_pred, used_truth = [], set(), set()
    for _, _, i, j in sorted(candidates):
        if i not in used_pred and j not in used_truth:
            pairs.append((i, j))
            used_pred.add(i)
            used_truth.add(j)
    return sorted(pairs)


def _day_number(times: pd.DatetimeIndex) -> np.ndarray:
    """UTC calendar day as a float day count (NaN where unknown)."""
    if times.tz is not None:
        times = times.tz_convert("UTC").tz_localize(None)
    values = times.to_numpy().astype("datetime64[D]").astype("float64")
    values[np.asarray(pd.isna(times))] = np.nan
    return values


def _merge_duplicate_ids(frame, ids: pd.Series):
    """One row per scene id: pieces of one front traced as separate features are joined."""
    if not ids.duplicated().any():
        return frame, ids
    groups = frame.assign(_id=ids.to_numpy()).groupby("_id", sort=False, dropna=False)
    rows = []
    for _, group in groups:
        parts = shapely.get_parts(group.geometry.to_numpy())
        first = group.iloc[[0]].copy()
        first[first.geometry.name] = gpd.GeoSeries(
            [shapely.multilinestrings(parts)], index=first.index, crs=frame.crs
        )
        rows.append(first)
    merged_frame = pd.concat(rows)
    return merged_frame.drop(columns="_id"), merged_frame["_id"].astype("string")


# ---------------------------------------------------------------------------------------
# Evaluation


def evaluate_fronts(
    pred,
    truth,
    tolerance_days: float = DEFAULT_TOLERANCE_DAYS,
    spacing_m: float = DEFAULT_SPACING_M,
    pixel_size_m: float | None = None,
    *,
    pred_name: str = "prediction",
    truth_name: str = "reference",
) -> dict:
    """Pair predicted and reference fronts and measure them; a JSON-able dict.

    Distances are also given in pixels when ``pixel_size_m`` is given, or when the
    prediction has a ``pixel_size_m`` (or ``pixel_size``) column (then per front).
    """
    if tolerance_days < 0:
        raise ValueError(f"tolerance_days must not be negative, got {tolerance_days}")
    warnings: list[str] = []
    pred = _check_fronts(pred, pred_name, warnings)
    truth = _check_fronts(truth, truth_name, warnings)
    pred, truth = _to_common_crs(pred, truth, pred_name, truth_name, warnings)
    _check_overlap(pred, truth, pred_name, truth_name)

    pred_ids, truth_ids = _ids(pred), _ids(truth)
    use_ids = (
        pred_ids is not None
        and truth_ids is not None
        and bool(set(pred_ids.dropna()) & set(truth_ids.dropna()))
    )
    if use_ids:
        pred, pred_ids = _merge_duplicate_ids(pred, pred_ids)
        truth, truth_ids = _merge_duplicate_ids(truth, truth_ids)
        pairs = match_by_scene_id(list(pred_ids), list(truth_ids))
    else:
        pred_times = _required_times(pred, pred_name)
        truth_times = _required_times(truth, truth_name)
        pairs = match_by_date(pred_times, truth_times, tolerance_days)
    pred_times, truth_times = _times(pred, pred_name), _times(truth, truth_name)
    pixel_sizes = _pixel_sizes(pred, pixel_size_m)

    per_front, pooled_m, pooled_px = [], [], []
    for i, j in pairs:
        distances = np.concatenate(
            front_distances(pred.geometry.iloc[i], truth.geometry.iloc[j], spacing_m)
        )
        record = {
            **_describe(pred_ids, pred_times, i, "pred"),
            **_describe(truth_ids, truth_times, j, "truth"),
            "days_apart": _days_apart(pred_times, truth_times, i, j),
            "mean_m": _round(np.mean(distances)),
            "median_m": _round(np.median(distances)),
            "n_points": int(len(distances)),
        }
        pooled_m.append(distances)
        if pixel_sizes is not None and np.isfinite(pixel_sizes[i]):
            in_px = distances / pixel_sizes[i]
            record["mean_px"] = _round(np.mean(in_px), 3)
            pooled_px.append(in_px)
        per_front.append(record)

    matched_pred = {i for i, _ in pairs}
    matched_truth = {j for _, j in pairs}
    all_m = np.concatenate(pooled_m) if pooled_m else np.zeros(0)
    result = {
        "matched_by": "scene_id" if use_ids else "date",
        "tolerance_days": None if use_ids else tolerance_days,
        "spacing_m": spacing_m,
        "crs": pred.crs.to_string(),
        "matched": len(pairs),
        "missing": len(truth) - len(matched_truth),
        "extra": len(pred) - len(matched_pred),
        "mean_distance_m": _round(np.mean(all_m)) if len(all_m) else None,
        "median_distance_m": _round(np.median(all_m)) if len(all_m) else None,
        "n_points": int(len(all_m)),
    }
    if pooled_px:
        all_px = np.concatenate(pooled_px)
        result["mean_distance_px"] = _round(np.mean(all_px), 3)
        result["median_distance_px"] = _round(np.median(all_px), 3)
        result["pixel_size_m"] = pixel_size_m if pixel_size_m is not None else "per front"
    result["missing_fronts"] = [
        _label(truth_ids, truth_times, j) for j in range(len(truth)) if j not in matched_truth
    ]
    result["extra_fronts"] = [
        _label(pred_ids, pred_times, i) for i in range(len(pred)) if i not in matched_pred
    ]
    result["per_front"] = per_front
    result["warnings"] = warnings
    return result


def screening_effect(
    kept, screened, truth, good_m: float = 200.0, far_m: float = 1000.0, **options
) -> dict:
    """What screening did to the error: the fronts before (kept and screened together) and
    after, against the same references; screened fronts that were good (per-front mean
    within ``good_m``) are lost, those more than ``far_m`` off are caught."""
    before = evaluate_fronts(pd.concat([kept, screened], ignore_index=True), truth, **options)
    after = evaluate_fronts(kept, truth, **options)
    screened_ids = set(screened[SCENE_ID_COLUMN]) if SCENE_ID_COLUMN in screened else set()
    tests = dict(
        zip(screened.get(SCENE_ID_COLUMN, []), screened.get("screening_test", []), strict=False)
    )
    screened_fronts = [
        {
            "scene_id": f["pred_scene_id"],
            "test": tests.get(f["pred_scene_id"]),
            "mean_m": f["mean_m"],
        }
        for f in before["per_front"]
        if f.get("pred_scene_id") in screened_ids
    ]

    def summary(result: dict) -> dict:
        means = [f["mean_m"] for f in result["per_front"]]
        return {
            "fronts": result["matched"],
            "mean_distance_m": result["mean_distance_m"],
            "median_distance_m": result["median_distance_m"],
            "mean_of_front_means_m": _round(np.mean(means)) if means else None,
        }

    stated = uncertainty_check(pd.concat([kept, screened], ignore_index=True), before)
    return {
        **stated,
        "before": summary(before),
        "after": summary(after),
        "screened": len(screened),
        "good_fronts_lost": sum(f["mean_m"] <= good_m for f in screened_fronts),
        "far_fronts_caught": sum(f["mean_m"] > far_m for f in screened_fronts),
        "good_m": good_m,
        "far_m": far_m,
        "screened_fronts": screened_fronts,
    }


def uncertainty_check(pred, result: dict) -> dict:
    """How well the fronts' ``uncertainty_m`` describes their measured errors: the share of
    fronts whose error is within it (its coverage; 0.9 for a 90 % bound) and the rank
    correlation of the two. Empty where the fronts have no uncertainty."""
    if "uncertainty_m" not in pred or SCENE_ID_COLUMN not in pred:
        return {}
    stated = dict(zip(pred[SCENE_ID_COLUMN], pred["uncertainty_m"], strict=True))
    pairs = [
        (stated.get(f.get("pred_scene_id")), f["mean_m"])
        for f in result["per_front"]
        if pd.notna(stated.get(f.get("pred_scene_id")))
    ]
    if len(pairs) < 3:
        return {}
    bound, error = np.array(pairs, dtype=float).T
    return {
        "uncertainty_fronts": len(pairs),
        "uncertainty_coverage": _round(float(np.mean(error <= bound)), 3),
        "uncertainty_spearman": _round(float(stats.spearmanr(bound, error).statistic), 3),
    }


def _required_times(frame, name: str) -> pd.Series:
    times = _times(frame, name)
    if times is None:
        raise FrontsInputError(
            f"{name}: no scene_id shared with the other side and no date column "
            f"(expected one of: {SCENE_ID_COLUMN}, acquired, date)"
        )
    return times


def _pixel_sizes(pred, pixel_size_m: float | None) -> np.ndarray | None:
    if pixel_size_m is not None:
        if not pixel_size_m > 0:
            raise ValueError(f"pixel size must be positive, got {pixel_size_m}")
        return np.full(len(pred), float(pixel_size_m))
    column = _column(pred, PIXEL_SIZE_COLUMNS)
    if column is None:
        return None
    sizes = pd.to_numeric(pred[column], errors="coerce").to_numpy(dtype=float, copy=True)
    sizes[~(sizes > 0)] = np.nan
    return sizes


def _describe(ids, times, k: int, side: str) -> dict:
    return {
        f"{side}_scene_id": None if ids is None or pd.isna(ids.iloc[k]) else str(ids.iloc[k]),
        f"{side}_acquired": _iso(times, k),
    }


def _label(ids, times, k: int) -> str:
    """How a front is named in missing/extra lists: its scene id, else its date."""
    if ids is not None and not pd.isna(ids.iloc[k]):
        return str(ids.iloc[k])
    return _iso(times, k) or f"feature {k}"


def _iso(times, k: int) -> str | None:
    if times is None or pd.isna(times.iloc[k]):
        return None
    value = times.iloc[k]
    if value == value.normalize():
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _days_apart(pred_times, truth_times, i: int, j: int) -> float | None:
    if pred_times is None or truth_times is None:
        return None
    a, b = pred_times.iloc[i], truth_times.iloc[j]
    if pd.isna(a) or pd.isna(b):
        return None
    return round(abs((a - b).total_seconds()) / 86400.0, 3)


def _round(value, digits: int = 2) -> float:
    return round(float(value), digits)


# ---------------------------------------------------------------------------------------
# Command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="evaluate-fronts",
        description="Compare produced calving fronts with reference traces; prints JSON with "
        "the mean and median distance (CaFFe-style, both directions pooled) and per-front "
        "values.",
    )
    parser.add_argument("--pred", required=True, help="GeoPackage of produced fronts")
    parser.add_argument("--truth", required=True, help="GeoPackage or shapefile of references")
    parser.add_argument(
        "--pred-layer", default=None, help=f"layer of --pred (default: '{DEFAULT_PRED_LAYER}')"
    )
    parser.add_argument("--truth-layer", default=None, help="layer of --truth (default: only)")
    parser.add_argument(
        "--tolerance-days",
        type=float,
        default=DEFAULT_TOLERANCE_DAYS,
        help="largest difference in UTC calendar days when matching by date "
        f"(default {DEFAULT_TOLERANCE_DAYS:g}; 0 = same day)",
    )
    parser.add_argument(
        "--spacing-m",
        type=float,
        default=DEFAULT_SPACING_M,
        help=f"spacing of the points measured along each front (default {DEFAULT_SPACING_M:g})",
    )
    parser.add_argument(
        "--pixel-size",
        type=float,
        default=None,
        help="pixel size in metres, to report distances in pixels too (default: from the "
        "prediction's pixel_size_m column if any)",
    )
    return parser


def evaluate_fronts_main(argv: list[str] | None = None) -> int:
    """The ``evaluate-fronts`` command; returns the exit status (1 for bad input)."""
    args = _parser().parse_args(argv)
    try:
        pred = read_fronts(args.pred, args.pred_layer, preferred=DEFAULT_PRED_LAYER)
        truth = read_fronts(args.truth, args.truth_layer)
        options = {
            "tolerance_days": args.tolerance_days,
            "spacing_m": args.spacing_m,
            "pixel_size_m": args.pixel_size,
            "pred_name": str(args.pred),
            "truth_name": str(args.truth),
        }
        result = evaluate_fronts(pred, truth, **options)
        if args.pred_layer is None and "screened" in _layers(args.pred):
            screened = read_fronts(args.pred, "screened")
            result["screening"] = screening_effect(pred, screened, truth, **options)
    except ValueError as error:  # FrontsInputError and bad option values
        print(f"evaluate-fronts: error: {error}", file=sys.stderr)
        return 1
    for warning in result["warnings"]:
        print(f"evaluate-fronts: warning: {warning}", file=sys.stderr)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(evaluate_fronts_main())
