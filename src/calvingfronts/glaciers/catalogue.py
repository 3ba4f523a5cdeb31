"""Glacier entries drafted from published front polygons: a catalogue beyond the shipped glaciers.

Loebel et al. (2024, The Cryosphere 18:3315) publish, for 23 Greenland glaciers, a polygon
that covers the reach of the fjord where the front has been and may go, bounded by the fjord
walls, and one or more points on the front ("front centres"). A polygon is a fjord outline,
but it is neither a centreline nor a flow direction, so those are drafted by rules:

- the **flow direction** is normal to the front. Where several centres are published along
  one wide front (Humboldt, 79N, Zachariae), the front runs along their principal axis.
  Elsewhere the front is taken as the narrowest chord of the polygon through the centre: a
  front spans the fjord from wall to wall, across its narrow dimension. Of the two normals,
  the one pointing away from the ice sheet's summit is downstream: outlet glaciers drain
  the ice sheet towards the coast. Checked on the three glaciers whose flow is known from
  traces or imagery, the rule is 5 (Helheim), 29 (Jakobshavn) and 31 (Kangerlussuaq) degrees
  off. Drafted entries are marked ``drafted: true`` so a user checks them against a plot;
- the **centreline** is straight, along that flow through the front centre (the middle of
  the centres), from 1 km behind the polygon's upstream end to 1 km past its downstream
  end: every front that spans the fjord near the published one crosses it. A polygon's
  cross-sections do not give a better line: its straight end cuts are oblique to the flow,
  and the middles of the sections follow the cuts rather than the fjord;
- the **box** is that centreline widened to 80 % of the cross-section through the centre
  (the front's width), as :func:`calvingfronts.glaciers.draft.box_along` widens it;
- the **area of interest** is the polygon and the box with a 5 km margin.

The functions above the I/O section are pure: geometries in, geometries out, EPSG:3413.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Point, Polygon
from shapely.ops import nearest_points, unary_union

from calvingfronts.glaciers.draft import GlacierDraft, area_of_interest, box_along

# Summit Station (72.58 N, 38.46 W), the ice sheet's highest point, in EPSG:3413 metres.
ICE_SHEET_SUMMIT = (216535.0, -1888775.0)
# Chords are tried every this many degrees when looking for the narrowest.
_CHORD_STEP_DEG = 1.0
# A line this long crosses any polygon of Greenland's grid.
_FAR_M = 1.0e7


def flow_azimuth_from_polygon(
    polygon: Polygon, centres: Sequence[tuple[float, float]]
) -> tuple[float, str]:
    """The drafted direction of ice flow (degrees clockwise from grid north) and the rule
    that gave it: "front centres" (several points along the front) or "narrowest chord"."""
    points = np.asarray(centres, dtype=float).reshape(-1, 2)
    if len(points) >= 2:
        spread = np.cov((points - points.mean(axis=0)).T)
        along = np.linalg.eigh(spread)[1][:, 1]
        front = math.degrees(math.atan2(along[0], along[1]))
        rule = "front centres"
    else:
        centre = inside_point(polygon, points[0] if len(points) else None)
        angles = np.arange(0.0, 180.0, _CHORD_STEP_DEG)
        lengths = [chord_length(polygon, centre, a) for a in angles]
        front = float(angles[int(np.argmin(lengths))])
        rule = "narrowest chord"
    flow = front + 90.0
    middle = points.mean(axis=0) if len(points) else np.asarray(polygon.centroid.coords[0])
    if np.dot(_unit(flow), middle - np.asarray(ICE_SHEET_SUMMIT)) < 0:
        flow += 180.0
    return round(flow % 360.0, 1), rule


def inside_point(polygon: Polygon, point) -> np.ndarray:
    """``point`` where it lies in the polygon, else the polygon's nearest point moved 200 m
    towards its interior (some published centres lie just outside their polygon)."""
    if point is not None and polygon.contains(Point(point)):
        return np.asarray(point, dtype=float)
    inner = polygon.buffer(-200.0)
    target = inner if not inner.is_empty else polygon
    if point is None:
        return np.asarray(target.representative_point().coords[0])
    nearest = nearest_points(target, Point(point))[0]
    return np.asarray(nearest.coords[0])


def chord_length(polygon: Polygon, point, azimuth: float) -> float:
    """Length of the polygon's chord through ``point`` along ``azimuth`` (the piece of the
    line inside the polygon that holds the point)."""
    point = np.asarray(point, dtype=float)
    line = LineString([point - _FAR_M * _unit(azimuth), point + _FAR_M * _unit(azimuth)])
    pieces = shapely.get_parts(line.intersection(polygon))
    here = Point(point)
    held = [p for p in pieces if p.geom_type == "LineString" and p.distance(here) < 1.0]
    return held[0].length if held else 0.0


def cross_sections(polygon: Polygon, flow_azimuth: float, step_m: float = 250.0) -> list:
    """The polygon's cross-sections normal to the flow, every ``step_m`` along it: at each
    step the longest piece of the line inside the polygon (the main channel)."""
    flow, right = _unit(flow_azimuth), _unit(flow_azimuth + 90.0)
    along = shapely.get_coordinates(polygon.exterior) @ flow
    sections = []
    for s in np.arange(along.min() + 0.5 * step_m, along.max(), step_m):
        centre = s * flow
        line = LineString([centre - _FAR_M * right, centre + _FAR_M * right])
        pieces = [
            p
            for p in shapely.get_parts(line.intersection(polygon))
            if p.geom_type == "LineString" and p.length > 0
        ]
        if pieces:
            sections.append(max(pieces, key=lambda p: p.length))
    return sections


def draft_from_polygon(
    polygon: Polygon,
    centres: Sequence[tuple[float, float]] = (),
    *,
    flow_azimuth: float | None = None,
    margin_m: float = 5000.0,
    extend_m: float = 1000.0,
    simplify_m: float = 25.0,
) -> GlacierDraft:
    """The configuration entry drafted from a front polygon (EPSG:3413) and its centres;
    ``flow_azimuth``, where known, replaces the drafted direction."""
    if polygon.is_empty or polygon.geom_type != "Polygon":
        raise ValueError("a front polygon must be one non-empty Polygon")
    if flow_azimuth is None:
        flow_azimuth, azimuth_from = flow_azimuth_from_polygon(polygon, centres)
    else:
        azimuth_from = "given"
    fjord = Polygon(polygon.exterior.simplify(simplify_m))
    points = np.asarray(centres, dtype=float).reshape(-1, 2)
    centre = inside_point(fjord, points.mean(axis=0) if len(points) else None)
    centreline = straight_centreline(fjord, centre, flow_azimuth, extend_m)
    front_width = chord_length(fjord, centre, flow_azimuth + 90.0)
    if front_width <= 0:
        raise ValueError("the polygon has no cross-section through its front centre")
    box = box_along(centreline, [], flow_azimuth, width_m=0.8 * front_width)
    sections = cross_sections(fjord, flow_azimuth)
    return GlacierDraft(
        aoi=area_of_interest(unary_union([fjord, box]), margin_m),
        fjord=fjord,
        centreline=centreline,
        box=box,
        flow_azimuth=round(flow_azimuth % 360.0, 1),
        azimuth_from=azimuth_from,
        n_traces=len(sections),
        n_in_fjord=len(sections),
        n_crossing_centreline=sum(s.intersects(centreline) for s in sections),
        n_crossing_box=sum(s.intersects(box) for s in sections),
    )


def straight_centreline(
    polygon: Polygon, centre, flow_azimuth: float, extend_m: float
) -> LineString:
    """The straight line along ``flow_azimuth`` through ``centre``, upstream -> downstream,
    from ``extend_m`` behind the polygon's upstream end to ``extend_m`` past its other end."""
    flow = _unit(flow_azimuth)
    centre = np.asarray(centre, dtype=float)
    along = (shapely.get_coordinates(polygon.exterior) - centre) @ flow
    start, end = along.min() - extend_m, along.max() + extend_m
    return LineString([centre + start * flow, centre + end * flow])


def _unit(azimuth: float) -> np.ndarray:
    a = math.radians(azimuth)
    return np.array([math.sin(a), math.cos(a)])


# --- I/O at the edges --------------------------------------------------------------------


def read_front_centres(path: str | Path) -> dict[str, list[tuple[float, float]]]:
    """The published front centres (lines ``name x y``, EPSG:3413; ``#`` comments) by
    name; several centres of one front share a prefix (``humboldt_a``, ``humboldt_b``)."""
    centres: dict[str, list[tuple[float, float]]] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split()
        try:
            name, x, y = parts[0], float(parts[1]), float(parts[2])
        except (IndexError, ValueError):
            raise ValueError(f"{path} line {number}: not 'name x y': {line!r}") from None
        centres.setdefault(name, []).append((x, y))
    return centres


def centres_of(name: str, centres: dict[str, list[tuple[float, float]]]) -> list:
    """The centres of glacier ``name``: its own entry, or every ``name_<suffix>`` entry."""
    if name in centres:
        return list(centres[name])
    return [
        p for key, points in sorted(centres.items()) if key.startswith(f"{name}_") for p in points
    ]


def read_front_polygon(path: str | Path) -> Polygon:
    """The one polygon of a published front-polygon file, in EPSG:3413."""
    import geopandas

    from calvingfronts.grid import GLACIER_CRS

    frame = geopandas.read_file(path)
    if frame.crs is None:
        raise ValueError(f"{path} has no CRS")
    shape = frame.to_crs(GLACIER_CRS).geometry.union_all()
    if shape.geom_type == "MultiPolygon":
        shape = max(shape.geoms, key=lambda p: p.area)
    if shape.geom_type != "Polygon" or shape.is_empty:
        raise ValueError(f"{path} holds no polygon")
    return shape


def draft_catalogue(
    polygons: Path,
    centres_path: Path,
    out_dir: Path,
    *,
    exclude: set[str] = frozenset(),
    citation: str,
) -> str:
    """Draft every ``<glacier>.shp`` polygon of ``polygons`` (less ``exclude``), write its
    outlines into ``out_dir`` and return the catalogue YAML (a ``glaciers:`` mapping)."""
    from calvingfronts.glaciers.draft import config_block
    from calvingfronts.glaciers.outlines import write_outline

    centres = read_front_centres(centres_path)
    files = sorted(p for p in Path(polygons).glob("*.shp") if p.stem not in exclude)
    if not files:
        raise ValueError(f"no *.shp front polygon in {polygons}")
    blocks = []
    for path in files:
        name = path.stem
        if not name.replace("_", "").isalnum() or name != name.lower():
            raise ValueError(f"{path}: a glacier key must be lower case letters, digits and _")
        points = centres_of(name, centres)
        try:
            draft = draft_from_polygon(read_front_polygon(path), points)
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None
        provenance = (
            f"{path.name} ({citation}): fjord = the published polygon; flow azimuth by the "
            f"'{draft.azimuth_from}' rule; straight centreline through the front centre; box "
            "80 % of the fjord's width there (calvingfronts.glaciers.catalogue); drafted, "
            "check against a plot"
        )
        paths = {}
        for kind in ("fjord", "centreline", "box"):
            out = Path(out_dir) / f"{name}_{kind}.geojson"
            write_outline(
                out,
                getattr(draft, kind),
                {"glacier": name, "outline": kind, "provenance": provenance},
            )
            paths[kind] = out.as_posix()
        where = ", ".join(f"[{x:.0f}, {y:.0f}]" for x, y in points) or "none published"
        description = (
            f"{name.replace('_', ' ').title()}: drafted from the front polygon of {citation} "
            f"(flow azimuth by the '{draft.azimuth_from}' rule; front centres {where})."
        )
        extra = {"drafted": "true", "provenance": f'"{provenance}"'}
        blocks.append(config_block(name, draft, paths, citation, description, extra))
    header = (
        "# A glacier catalogue: entries drafted by `calvingfronts draft-catalogue`\n"
        f"# (config/README.md, Glacier catalogue) from {citation}.\n"
        "# Regenerate rather than edit; override a key of an entry under glaciers: in\n"
        "# config/config.yaml (entries merge key by key).\n"
        "glaciers:\n"
    )
    return header + "\n".join(blocks)
