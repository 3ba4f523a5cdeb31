"""Where a calving front is, as numbers a glaciologist plots against time.

Two measures, both in EPSG:3413 metres, both pure functions of shapely geometries:

- the **terminus position**: the distance along a glacier's centreline to where the front
  crosses it;
- the **box method** (Moon & Joughin 2008, JGR 113:F02022): the ice area inside a box
  drawn along the fjord, between the box's upstream edge and the front; divided by the
  box's width it is the front's mean position across the box, less sensitive to where
  exactly a wiggly front happens to cross one line.

Convention: a centreline is drawn from upstream (on grounded ice, behind every front)
towards the fjord mouth, so positions are measured from its first vertex and a larger
position (or area) is a more advanced front. A box's upstream edge is the side towards the
centreline's first vertex.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon

# How far back from an end the direction of a straight extension is measured: the last
# vertex pair alone is noisy on a digitised front.
_END_DIRECTION_M = 500.0


def terminus_position(
    front: LineString, centreline: LineString, *, reach_m: float | None = None
) -> float | None:
    """Distance (m) along ``centreline`` from its first vertex to where ``front`` crosses it.

    A front that stops short of the centreline (a partial trace, a gap at one wall) is
    extended straight from its ends by up to ``reach_m`` (default: the front's own
    end-to-end span, about the fjord's width, so a front is never extrapolated across more
    than one more fjord width); ``None`` if it still does not cross. Where the front
    crosses several times, the crossing nearest the front's middle (along the front) is
    taken: the middle of a front is its most reliably traced part and moves least between
    scenes, whereas extra crossings come from wiggles near the walls or from a centreline
    running along a ragged front, and would make the series jump between them.
    """
    _check_line(front, "front")
    _check_line(centreline, "centreline")
    middle = front.interpolate(0.5, normalized=True)
    crossing = _crossing_nearest(front, centreline, middle)
    if crossing is None:
        reach = _span(front) if reach_m is None else float(reach_m)
        extended = extend_ends(front, reach)
        crossing = _crossing_nearest(extended, centreline, middle)
    if crossing is None:
        return None
    return float(centreline.project(crossing))


def box_area_change(
    front: LineString, box: Polygon, centreline: LineString
) -> tuple[float | None, float]:
    """``(area_change_m2, box_width_m)`` of ``front`` in ``box`` by the box method.

    ``area_change_m2`` is the area of the box between its upstream edge (towards the
    centreline's first vertex) and the front: the ice in the box. Divided by
    ``box_width_m`` (box area / box length along the centreline) it is the box-mean
    terminus position relative to the upstream edge. A front that does not span the box is
    extended straight from its ends to the box's sides; ``None`` when the front does not
    touch the box at all (it lies wholly upstream or downstream of it, or beside it).
    """
    _check_line(front, "front")
    _check_line(centreline, "centreline")
    if not isinstance(box, Polygon) or box.is_empty or not box.is_valid:
        raise ValueError("box must be a non-empty valid shapely Polygon")
    inside = centreline.intersection(box).length
    if inside <= 0:
        raise ValueError("the centreline does not run through the box")
    width = float(box.area / inside)
    if not front.intersects(box):
        return None, width
    xmin, ymin, xmax, ymax = box.bounds
    reach = 2.0 * math.hypot(xmax - xmin, ymax - ymin)
    extended = extend_ends(front, reach)
    behind = _region_behind(extended, upstream_direction(front, centreline), reach)
    return float(behind.intersection(box).area), width


def extend_ends(line: LineString, reach_m: float) -> LineString:
    """``line`` with both ends continued straight by ``reach_m``, each along the direction
    of its last stretch (up to 500 m, or a third of the line)."""
    _check_line(line, "line")
    if reach_m <= 0:
        return line
    coords = np.asarray(line.coords, dtype=float)[:, :2]
    back = min(_END_DIRECTION_M, line.length / 3.0)
    start_dir = coords[0] - np.asarray(line.interpolate(back).coords[0])[:2]
    end_dir = coords[-1] - np.asarray(line.interpolate(line.length - back).coords[0])[:2]
    head = [coords[0] + _unit(start_dir) * reach_m] if np.any(start_dir) else []
    tail = [coords[-1] + _unit(end_dir) * reach_m] if np.any(end_dir) else []
    return LineString(np.vstack([*head, coords, *tail]))


def straight_centreline(fjord: Polygon, flow_azimuth: float) -> LineString | None:
    """A stand-in centreline: the straight line through the fjord's centroid along the
    flow direction (degrees clockwise from grid north), clipped to the fjord and drawn
    upstream -> downstream. ``None`` if the line misses the fjord."""
    centre = fjord.centroid if fjord.contains(fjord.centroid) else fjord.representative_point()
    flow = _flow_unit(flow_azimuth)
    xmin, ymin, xmax, ymax = fjord.bounds
    reach = 2.0 * math.hypot(xmax - xmin, ymax - ymin)
    c = np.asarray(centre.coords[0])
    line = LineString([c - flow * reach, c + flow * reach])
    pieces = [p for p in shapely.get_parts(line.intersection(fjord)) if p.geom_type == "LineString"]
    if not pieces:
        return None
    # On a bent fjord the line leaves and re-enters it: keep the stretch through the centre.
    piece = min(pieces, key=lambda p: p.distance(centre))
    return orient_downstream(piece, flow_azimuth)


def orient_downstream(line: LineString, flow_azimuth: float) -> LineString:
    """``line`` drawn so that it runs with the flow (its last vertex farther downstream)."""
    coords = np.asarray(line.coords)
    if float((coords[-1] - coords[0])[:2] @ _flow_unit(flow_azimuth)) < 0:
        return LineString(coords[::-1])
    return line


def line_azimuth(line: LineString) -> float:
    """Azimuth (degrees clockwise from grid north, 0-360) from the first to the last vertex."""
    (x0, y0), (x1, y1) = line.coords[0][:2], line.coords[-1][:2]
    return math.degrees(math.atan2(x1 - x0, y1 - y0)) % 360.0


def _flow_unit(flow_azimuth: float) -> np.ndarray:
    azimuth = math.radians(flow_azimuth)
    return np.array([math.sin(azimuth), math.cos(azimuth)])


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.hypot(*vector)), 1e-12)


def _span(line: LineString) -> float:
    return Point(line.coords[0]).distance(Point(line.coords[-1]))


def _check_line(line, what: str) -> None:
    if not isinstance(line, LineString) or line.is_empty or line.length == 0:
        raise ValueError(f"{what} must be a non-empty shapely LineString")


def _crossing_nearest(front: LineString, centreline: LineString, middle: Point) -> Point | None:
    """The crossing of the two lines nearest, along ``front``, to ``middle``."""
    hit = front.intersection(centreline)
    if hit.is_empty:
        return None
    # A stretch where the lines overlap gives its vertices as candidate crossings.
    points = [Point(xy) for xy in shapely.get_coordinates(hit)]
    at_middle = front.project(middle)
    return min(points, key=lambda p: abs(front.project(p) - at_middle))


def upstream_direction(front: LineString, centreline: LineString) -> np.ndarray:
    """Unit vector pointing upstream along the centreline where the front is (the local
    direction, so a curving fjord and a curving box are followed)."""
    at = centreline.project(front.interpolate(0.5, normalized=True))
    step = min(_END_DIRECTION_M, centreline.length / 2.0)
    a = np.asarray(centreline.interpolate(max(at - step, 0.0)).coords[0])[:2]
    b = np.asarray(centreline.interpolate(min(at + step, centreline.length)).coords[0])[:2]
    return _unit(a - b)


def _region_behind(front: LineString, upstream: np.ndarray, reach: float):
    """The polygon bounded by the front and closed far upstream: everything behind it."""
    coords = np.asarray(front.coords)[:, :2]
    ring = np.vstack([coords, coords[-1] + upstream * reach, coords[0] + upstream * reach])
    region = Polygon(ring)
    # A front that doubles back on itself makes a self-touching ring; mend it, keeping area.
    return region if region.is_valid else shapely.make_valid(region)
