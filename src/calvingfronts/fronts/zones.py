"""The calving front as the boundary between the glacier and ocean zones inside the fjord.

A network with a zone head (training ``zone_weight``) says, for every pixel, how likely it
is rock, glacier or ocean. Inside the fjord polygon the front is where the glacier meets
the ocean: a boundary that spans the fjord from wall to wall by construction, where a thin
front line drawn by the front head stops wherever the network loses it (the walls, a
choked fjord, radar speckle). Best-performing peers take the front this way (Loebel et al.
2024; the CaFFe benchmark, Gourmelon et al. 2022; HED-UNet, Heidler et al. 2021).

The zones are coarse where the front head is sharp, so the boundary is then moved, across
itself, onto the front head's ridge within a few pixels (:func:`vectorize.onto_ridge`):
the zones give where the front runs, the head where exactly it lies. The two readings are
independent enough that their disagreement (:func:`reading_distance_m`) is evidence of
how far to trust a front.

All functions are pure: arrays and geometries in, geometries and numbers out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from affine import Affine
from rasterio.features import geometry_mask
from scipy import ndimage
from shapely.geometry import LineString
from skimage.measure import find_contours

from calvingfronts.evaluation.metrics import symmetric_mean_distance
from calvingfronts.fronts.quality import line_quality, pixel_size, quality_flags
from calvingfronts.fronts.vectorize import (
    DEFAULT_MIN_LENGTH_M,
    FrontResult,
    accepted_front,
    fjord_window,
    placed_in_fjord,
    smooth_line,
)


def zone_front(
    zones: np.ndarray,
    zone_names: Sequence[str],
    transform: Affine,
    fjord,
    valid: np.ndarray | None = None,
    front_probability: np.ndarray | None = None,
    *,
    threshold: float = 0.5,
    min_length_m: float = DEFAULT_MIN_LENGTH_M,
    ridge_px: float | None = None,
    smooth_px: int = 2,
    extend_px: float = 6.0,
    min_span_fraction: float = 0.0,
    flow_azimuth: float | None = None,
    min_angle_to_flow: float = 0.0,
) -> FrontResult:
    """The glacier-ocean boundary in ``zones`` (zones, H, W; classes named by
    ``zone_names``, which must include ``glacier`` and ``ocean``) inside ``fjord``.

    Each pixel in the fjord takes its most likely zone. The ocean is the largest connected
    region of ocean pixels, the glacier the largest of glacier pixels: icebergs in the
    mélange and patches of open water on the ice do not make fronts of their own. The
    front is the longest piece of the level line where the glacier's and the ocean's
    probabilities are equal, between those two regions only (not where the ocean meets
    rock, a coast). With ``front_probability`` (H, W), the line is moved onto its ridge
    within ``ridge_px`` pixels (default :data:`DEFAULT_RIDGE_PX`; 0 keeps the zones'
    line), and the quality figures are read along it, as for a front drawn by the head.
    """
    zones = np.asarray(zones, dtype=np.float32)
    names = list(zone_names)
    if zones.ndim != 3 or len(zones) != len(names):
        raise ValueError(f"zones must be ({len(names)}, H, W) for {names}, got {zones.shape}")
    missing = {"glacier", "ocean"} - set(names)
    if missing:
        raise ValueError(f"zone names {names} lack {sorted(missing)}")
    shape = zones.shape[1:]
    valid = np.ones(shape, bool) if valid is None else np.asarray(valid, bool)
    px = pixel_size(transform)
    quality: dict = {"threshold": float(threshold), "pixel_size_m": px, "drawn_from": "zones"}
    window = fjord_window(fjord, transform, shape, pad=2)
    if window is None:
        return FrontResult(None, "the fjord polygon does not overlap the image", quality)
    crop = zones[:, window.rows, window.cols]
    ok = valid[window.rows, window.cols] & np.isfinite(crop).all(axis=0)
    in_fjord = geometry_mask([fjord], out_shape=ok.shape, transform=window.transform, invert=True)
    inside = in_fjord & ok
    glacier_p, ocean_p = crop[names.index("glacier")], crop[names.index("ocean")]
    most_likely = np.argmax(np.where(np.isfinite(crop), crop, -1.0), axis=0)
    ocean = _largest_region(inside & (most_likely == names.index("ocean")))
    glacier = _largest_region(inside & (most_likely == names.index("glacier")))
    if not (ocean.any() and glacier.any()):
        absent = " and ".join(n for n, m in (("glacier", glacier), ("ocean", ocean)) if not m.any())
        return FrontResult(None, f"no {absent} zone inside the fjord", quality)
    line = _boundary_line(glacier_p - ocean_p, glacier, ocean, window.transform)
    if line is None:
        return FrontResult(None, "the glacier and ocean zones do not meet in the fjord", quality)
    xy = smooth_line(np.asarray(line.coords), smooth_px)
    prob = None
    if front_probability is not None:
        prob = np.asarray(front_probability, dtype=np.float32)[window.rows, window.cols]
        prob = np.where(inside & np.isfinite(prob), prob, 0.0).astype(np.float32)
    line = placed_in_fjord(xy, prob, window.transform, fjord, ridge_px, smooth_px, extend_px)
    if line is None:
        return FrontResult(None, "the zone boundary lies outside the fjord polygon", quality)
    if line.length < min_length_m:
        reason = f"zone boundary {line.length:.0f} m < minimum {min_length_m:.0f} m"
        return FrontResult(None, reason, quality)
    if prob is None:
        # Without the front head the zones' own confidence stands in for its probability.
        prob = np.where(inside, 1.0 - np.abs(glacier_p - ocean_p), 0.0).astype(np.float32)
    quality.update(line_quality(line, prob, inside, in_fjord, window.transform, fjord, threshold))
    quality["flags"] = quality_flags(quality)
    return accepted_front(line, quality, min_span_fraction, flow_azimuth, min_angle_to_flow)


def _largest_region(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected region of ``mask`` (all False where it has none)."""
    labels, count = ndimage.label(mask, structure=np.ones((3, 3)))
    if count == 0:
        return np.zeros(mask.shape, bool)
    sizes = np.bincount(labels.ravel())[1:]
    return labels == 1 + int(np.argmax(sizes))


def _boundary_line(
    difference: np.ndarray, glacier: np.ndarray, ocean: np.ndarray, transform: Affine
) -> LineString | None:
    """The longest level line (0) of ``difference`` (glacier minus ocean probability) on the
    squares of pixels that all belong to the glacier or the ocean region, in map units."""
    # The regions' own sign, so that a pixel of the largest glacier region that the
    # probabilities call a tie still lies on the glacier's side.
    field = np.where(glacier, np.maximum(difference, 1e-3), np.minimum(difference, -1e-3))
    contours = find_contours(field.astype(np.float64), 0.0, mask=glacier | ocean)
    best = None
    for rc in contours:
        if len(rc) < 2:
            continue
        # find_contours gives (row, col) of pixel centres: +0.5 to the transform's corners.
        xs, ys = transform * (rc[:, 1] + 0.5, rc[:, 0] + 0.5)
        line = LineString(np.column_stack([xs, ys]))
        if best is None or line.length > best.length:
            best = line
    return best


def reading_distance_m(head_front, zone_front_line) -> float | None:
    """Mean distance between the front head's line and the zone boundary, both ways (None
    where either reading has no front): how far the two readings disagree."""
    if head_front is None or zone_front_line is None:
        return None
    return float(symmetric_mean_distance(head_front, zone_front_line))
