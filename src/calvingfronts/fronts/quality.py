"""Quality figures of an extracted front: where its ends lie, how far it spans the fjord,
how strong the probability along it is, and the flags and reasons built from them
(calvingfronts.fronts.vectorize.extract_front puts them in ``FrontResult.quality``)."""

from __future__ import annotations

import math

import numpy as np
import shapely
from affine import Affine
from scipy import ndimage
from shapely.geometry import LineString, Point


def pixel_size(transform: Affine) -> float:
    """The side of a square pixel with the same area (metres for EPSG:3413 grids)."""
    return math.sqrt(abs(transform.a * transform.e - transform.b * transform.d))


def partial_cause(quality: dict) -> str:
    """Why a front spans too little: one cut short by cloud or mélange mostly still reaches
    a wall; a complete front in an outline much wider than the fjord reaches neither (the
    walls lie inside it). Geometry cannot tell them apart: reject, but name the outline."""
    if quality.get("ends_at_nodata"):
        return "; it stops at missing data (a gap or the scene's edge)"
    if not (quality["start_at_fjord_edge"] or quality["end_at_fjord_edge"]):
        return (
            "; neither end reaches the fjord outline or missing data, so if the front is "
            "complete the fjord outline may be too coarse (wider than the fjord): check the "
            "glacier's fjord in the config (calvingfronts draft-glacier drafts one from "
            "terminus traces) or lower its vectorize.min_span_fraction"
        )
    return ""


def line_quality(line, prob, inside, in_fjord, transform: Affine, fjord, threshold) -> dict:
    """Simple measures of how credible the front is; JSON-able values only."""
    px = pixel_size(transform)
    samples = shapely.line_interpolate_point(line, np.arange(0.0, line.length, 0.5 * px))
    xy = shapely.get_coordinates(samples)
    inverse = ~transform
    col = inverse.a * xy[:, 0] + inverse.b * xy[:, 1] + inverse.c - 0.5
    row = inverse.d * xy[:, 0] + inverse.e * xy[:, 1] + inverse.f - 0.5
    along = ndimage.map_coordinates(prob, [row, col], order=1, mode="nearest")
    touches_nodata = _near_any(in_fjord & ~inside, row, col, radius=2)
    boundary = fjord.boundary
    at_edge = [boundary.distance(Point(p)) <= 1.5 * px for p in (line.coords[0], line.coords[-1])]
    # Missing pixels or the image's edge at an end (4 px: skeletons stop short of a band's end).
    gaps = np.pad(in_fjord & ~inside, 1, constant_values=True)
    ends_at_nodata = sum(_near_any(gaps, row[[i]] + 1, col[[i]] + 1, 4) for i in (0, -1))
    # Both ends on the outline: wall to wall, even where its chord is oblique to a bend.
    width = _fjord_width(line, fjord)
    span = None if not width else round(min(1.0, _extent(line) / width), 4)
    return {
        "length_m": round(line.length, 1),
        "n_vertices": len(line.coords),
        "mean_probability": round(float(along.mean()), 4),
        "fraction_above_threshold": round(float(np.mean(along > threshold)), 4),
        "fjord_width_m": None if width is None else round(width, 1),
        "span_fraction": 1.0 if all(at_edge) else span,
        "ends_at_nodata": int(ends_at_nodata),
        "start_at_fjord_edge": bool(at_edge[0]),
        "end_at_fjord_edge": bool(at_edge[1]),
        "touches_nodata": touches_nodata,
    }


def _near_any(mask: np.ndarray, row: np.ndarray, col: np.ndarray, radius: int) -> bool:
    """Whether any pixel of ``mask`` lies within ``radius`` pixels (a square) of the
    samples; looking up the few pixels around the line beats dilating the whole mask."""
    offsets = np.arange(-radius, radius + 1)
    r = np.rint(row).astype(int)[:, None, None] + offsets[None, :, None]
    c = np.rint(col).astype(int)[:, None, None] + offsets[None, None, :]
    r, c = np.broadcast_arrays(r, c)
    inside = (r >= 0) & (r < mask.shape[0]) & (c >= 0) & (c < mask.shape[1])
    return bool(mask[r[inside], c[inside]].any())


def _extent(line: LineString) -> float:
    """Extent of the line along its end-to-end direction."""
    coords = np.asarray(line.coords)
    chord = coords[-1] - coords[0]
    norm = math.hypot(*chord)
    if norm == 0:
        return 0.0
    along = coords @ (chord / norm)
    return float(along.max() - along.min())


def _fjord_width(line: LineString, fjord) -> float | None:
    """Width of the fjord across the front: the length of the fjord's cross-section through
    the front's middle, along the front's end-to-end direction."""
    coords = np.asarray(line.coords)
    chord = coords[-1] - coords[0]
    norm = math.hypot(*chord)
    if norm == 0:
        return None
    unit = chord / norm
    middle = line.interpolate(0.5, normalized=True)
    centre = np.array(middle.coords[0])
    xmin, ymin, xmax, ymax = fjord.bounds
    reach = math.hypot(xmax - xmin, ymax - ymin)
    section = LineString([centre - unit * reach, centre + unit * reach]).intersection(fjord)
    parts = [p for p in shapely.get_parts(section) if p.geom_type == "LineString"]
    if not parts:
        return None
    return float(min(parts, key=lambda p: p.distance(middle)).length)


def quality_flags(quality: dict) -> list[str]:
    """Named warnings a reviewer (or a time-series filter) can act on."""
    flags = []
    if quality.get("n_candidates", 0) > 1:
        flags.append("several_candidates")
    if quality.get("bridged_gaps", 0) > 0:
        flags.append("bridged_gap")
    if quality["span_fraction"] is not None and quality["span_fraction"] < 0.5:
        flags.append("partial_span")
    if not (quality["start_at_fjord_edge"] and quality["end_at_fjord_edge"]):
        flags.append("open_end")
    if quality["touches_nodata"]:
        flags.append("touches_nodata")
    if quality["mean_probability"] < quality["threshold"]:
        flags.append("low_probability")
    return flags
