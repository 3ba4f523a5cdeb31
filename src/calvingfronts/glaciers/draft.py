"""Draft a new glacier's configuration from terminus traces (TermPicks, MEaSUREs, ...).

Traces of where a front has been are what a glaciologist has at hand for a glacier not yet
configured, and they say most of what the workflow needs:

- the **flow direction** is normal to the mean trace (fronts run across the fjord); of the
  two normals, the one the traces retreated against over time is upstream (Greenland's
  outlet glaciers have retreated over the decades that traces cover). Without dates the
  fronts' bulge decides: a front's middle usually sits downstream of its ends, held back by
  the walls;
- the **fjord** follows the walls because a complete trace ends on them: the hull of each
  pair of traces neighbouring along the flow spans the fjord between their positions, and
  the union of these hulls joins the fjord along the flow; a buffer lets fronts beyond the
  record (and the network's slightly longer lines) still fit;
- the **centreline** runs through the middles of the traces' across-flow extents, smoothed
  along the flow, and continues straight past the most retreated and the most advanced
  trace, so every front that spans the fjord crosses it;
- the **box** (Moon & Joughin 2008) is the centreline widened to a little less than the
  narrowest span of the traces, so (nearly) every front crosses it from side to side.

Everything works in a frame along (s, downstream) and across (n) the flow. The functions
above the I/O section are pure: geometries in, geometries out, EPSG:3413 metres.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, Polygon
from shapely.ops import split, unary_union

# Vertices of traces are taken at most this far apart (m) when measuring their extents.
_SAMPLE_M = 50.0


@dataclass(frozen=True)
class GlacierDraft:
    """A drafted configuration entry: outlines in EPSG:3413 and how they were found."""

    aoi: tuple[float, float, float, float]
    fjord: Polygon
    centreline: LineString
    box: Polygon
    flow_azimuth: float
    azimuth_from: str  # "given", "retreat over time" or "front bulge"
    n_traces: int
    n_in_fjord: int
    n_crossing_centreline: int
    n_crossing_box: int
    first: datetime | None = None
    last: datetime | None = None


def draft_glacier(
    traces: Sequence[LineString],
    dates: Sequence[datetime | None] | None = None,
    *,
    buffer_m: float = 1000.0,
    margin_m: float = 5000.0,
    flow_azimuth: float | None = None,
    box_width_m: float | None = None,
) -> GlacierDraft:
    """The configuration entry drafted from ``traces`` (EPSG:3413) and their dates."""
    if not traces:
        raise ValueError("no terminus traces to draft from")
    if flow_azimuth is None:
        flow_azimuth, azimuth_from = flow_azimuth_from_traces(traces, dates)
    else:
        azimuth_from = "given"
    fjord = fjord_from_traces(traces, flow_azimuth, buffer_m)
    centreline = centreline_from_traces(traces, flow_azimuth, extend_m=buffer_m)
    box = box_along(centreline, traces, flow_azimuth, box_width_m)
    known = sorted(d for d in (dates or []) if d is not None)
    return GlacierDraft(
        aoi=area_of_interest(unary_union([fjord, box]), margin_m),
        fjord=fjord,
        centreline=centreline,
        box=box,
        flow_azimuth=round(flow_azimuth % 360.0, 1),
        azimuth_from=azimuth_from,
        n_traces=len(traces),
        n_in_fjord=sum(fjord.covers(t) for t in traces),
        n_crossing_centreline=sum(t.intersects(centreline) for t in traces),
        n_crossing_box=sum(_crosses_box(t, box) for t in traces),
        first=known[0] if known else None,
        last=known[-1] if known else None,
    )


def flow_azimuth_from_traces(
    traces: Sequence[LineString], dates: Sequence[datetime | None] | None = None
) -> tuple[float, str]:
    """The direction of ice flow (degrees clockwise from grid north) and how its sense was
    decided: normal to the traces' length-weighted mean direction."""
    chords = np.array([np.subtract(t.coords[-1][:2], t.coords[0][:2]) for t in traces])
    weights = np.hypot(*chords.T) * _per_year_weights(dates, len(traces))
    azimuths = np.arctan2(chords[:, 0], chords[:, 1])
    # Doubled angles: a trace drawn left-to-right and one drawn right-to-left agree.
    mean = 0.5 * math.atan2(
        np.sum(weights * np.sin(2 * azimuths)), np.sum(weights * np.cos(2 * azimuths))
    )
    normal = math.degrees(mean) + 90.0
    trend = _retreat_trend(traces, dates, normal)
    if trend is not None:
        # Positions along the flow fall over time where the glacier retreated.
        return (normal if trend < 0 else normal + 180.0) % 360.0, "retreat over time"
    bulge = np.median([_bulge(t, normal) for t in traces])
    return (normal if bulge >= 0 else normal + 180.0) % 360.0, "front bulge"


def fjord_from_traces(
    traces: Sequence[LineString], flow_azimuth: float, buffer_m: float
) -> Polygon:
    """The fjord: hulls of neighbouring traces (along the flow) joined, then buffered."""
    order = np.argsort([np.median(_frame(t, flow_azimuth)[:, 0]) for t in traces])
    ordered = [traces[i] for i in order]
    if len(ordered) == 1:
        hulls = [ordered[0].convex_hull]
    else:
        hulls = [
            shapely.convex_hull(shapely.union(a, b))
            for a, b in zip(ordered[:-1], ordered[1:], strict=True)
        ]
    joined = unary_union(hulls).buffer(buffer_m)
    # The traces' own wiggles do not make the wall; simplify well below the buffer.
    outline = joined.simplify(buffer_m / 10.0)
    if outline.geom_type != "Polygon":
        # Traces far apart along the flow with a gap between: keep the hull of all.
        outline = outline.convex_hull
    return Polygon(outline.exterior)


def centreline_from_traces(
    traces: Sequence[LineString], flow_azimuth: float, extend_m: float, step_m: float = 250.0
) -> LineString:
    """The centreline upstream -> downstream through the middles of the traces' extents
    across the flow, smoothed, continued ``extend_m`` past the first and last trace."""
    frames = [_frame(t, flow_azimuth) for t in traces]
    # Every trace counts, partial ones too: where a front has split and only one branch is
    # traced (Jakobshavn since 2015), the line follows that branch, so those fronts cross
    # it as well and their positions show the branch's seasonal cycle.
    s_all = np.concatenate([f[:, 0] for f in frames])
    s_mid = np.array([np.median(f[:, 0]) for f in frames])
    n_mid = np.array([0.5 * (f[:, 1].min() + f[:, 1].max()) for f in frames])
    s0, s1 = s_all.min() - extend_m, s_all.max() + extend_m
    s = np.linspace(s0, s1, max(int(math.ceil((s1 - s0) / step_m)), 2) + 1)
    # Median middle per step (robust to a partial trace), interpolated over steps without a
    # trace and held level beyond the first and last.
    edges = np.append(s - 0.5 * step_m, s[-1] + 0.5 * step_m)
    which = np.digitize(s_mid, edges) - 1
    filled = [i for i in range(len(s)) if np.any(which == i)]
    medians = [np.median(n_mid[which == i]) for i in filled]
    n = np.interp(s, s[filled], medians)
    n = _moving_average(n, half_width=max(int(round(1000.0 / step_m)), 1))
    line = LineString(_from_frame(np.column_stack([s, n]), flow_azimuth))
    return line.simplify(5.0)


def box_along(
    centreline: LineString,
    traces: Sequence[LineString],
    flow_azimuth: float,
    width_m: float | None = None,
) -> Polygon:
    """The box of the box method: the centreline widened to ``width_m`` (default 80 % of
    the 10th percentile of the traces' spans across the flow), with square ends."""
    if width_m is None:
        spans = [np.ptp(_frame(t, flow_azimuth)[:, 1]) for t in traces]
        width_m = 0.8 * float(np.percentile(spans, 10))
    return centreline.buffer(0.5 * width_m, cap_style="flat", join_style="round")


def area_of_interest(geometry, margin_m: float, step_m: float = 1000.0) -> tuple:
    """Bounds of ``geometry`` widened by ``margin_m`` and rounded outward to ``step_m``."""
    xmin, ymin, xmax, ymax = geometry.bounds
    return (
        math.floor((xmin - margin_m) / step_m) * step_m,
        math.floor((ymin - margin_m) / step_m) * step_m,
        math.ceil((xmax + margin_m) / step_m) * step_m,
        math.ceil((ymax + margin_m) / step_m) * step_m,
    )


# Every sensor with a built-in archive that needs no account (README "Online use"): the
# optical record from Landsat 8 on and the radar record that fills the polar night.
ARCHIVE_SENSOR_LINES = (
    "landsat8: {source: stac, pixel_size: 30, start: 2013-04-01}",
    "landsat9: {source: stac, pixel_size: 30, start: 2021-10-31}",
    "sentinel2: {source: stac, pixel_size: 20, start: 2015-07-01}",
    "sentinel1: {source: stac, pixel_size: 40, start: 2014-10-01}",
)


def config_block(
    name: str,
    draft: GlacierDraft,
    paths: dict[str, str],
    source: str,
    description: str | None = None,
    extra: dict[str, str] | None = None,
) -> str:
    """The YAML entry to paste under ``glaciers:`` in config/config.yaml; ``extra`` adds
    keys (already YAML) after the outlines."""
    if description is None:
        span = ""
        if draft.first and draft.last:
            span = f" {draft.first:%Y}" + (
                "" if draft.first.year == draft.last.year else f"-{draft.last:%Y}"
            )
        description = (
            f"Drafted by calvingfronts draft-glacier from {draft.n_traces} terminus traces"
            f"{span} ({source})."
        )
    aoi = ", ".join(f"{v:.0f}" for v in draft.aoi)
    lines = [
        f"  {name}:",
        "    description: >-",
        *(f"      {line}" for line in _wrap(description, 84)),
        f"    aoi: [{aoi}]",
        *(f"    {key}: {paths[key]}" for key in ("fjord", "centreline", "box")),
        f"    flow_azimuth: {draft.flow_azimuth:g}",
        *(f"    {key}: {value}" for key, value in (extra or {}).items()),
        "    sensors:",
        *(f"      {line}" for line in ARCHIVE_SENSOR_LINES),
    ]
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width) or [""]


def _frame(line: LineString, flow_azimuth: float) -> np.ndarray:
    """Vertices (densified) as (s along the flow, n across it to its right)."""
    xy = shapely.get_coordinates(shapely.segmentize(line, _SAMPLE_M))
    flow, right = _axes(flow_azimuth)
    return np.column_stack([xy @ flow, xy @ right])


def _from_frame(sn: np.ndarray, flow_azimuth: float) -> np.ndarray:
    flow, right = _axes(flow_azimuth)
    return sn[:, :1] * flow + sn[:, 1:] * right


def _axes(flow_azimuth: float) -> tuple[np.ndarray, np.ndarray]:
    a = math.radians(flow_azimuth)
    return np.array([math.sin(a), math.cos(a)]), np.array([math.cos(a), -math.sin(a)])


def _per_year_weights(dates, count: int) -> np.ndarray:
    """1 / (traces of the same year): each year counts once, so a dense recent record (a
    trace a week) does not outvote the decades before it. Equal weights without dates."""
    if not dates:
        return np.ones(count)
    years = [None if d is None else d.year for d in dates]
    counts = {y: years.count(y) for y in set(years)}
    return np.array([1.0 / counts[y] for y in years])


def _retreat_trend(traces, dates, azimuth: float) -> float | None:
    """Slope of the traces' positions along ``azimuth`` over time (m/yr), or None where
    fewer than two years separate the dated traces."""
    if not dates:
        return None
    pairs = [(d, t) for d, t in zip(dates, traces, strict=True) if d is not None]
    years = np.array([d.year + (d.timetuple().tm_yday - 0.5) / 365.25 for d, _ in pairs])
    if len(pairs) < 3 or np.ptp(years) < 2.0:
        return None
    along = [np.median(_frame(t, azimuth)[:, 0]) for _, t in pairs]
    return float(np.polyfit(years, along, 1)[0])


def _bulge(trace: LineString, azimuth: float) -> float:
    """How far the trace's middle sits along ``azimuth`` beyond the mean of its ends."""
    sn = _frame(trace, azimuth)
    middle = np.argmin(np.abs(sn[:, 1] - 0.5 * (sn[0, 1] + sn[-1, 1])))
    return float(sn[middle, 0] - 0.5 * (sn[0, 0] + sn[-1, 0]))


def _moving_average(values: np.ndarray, half_width: int) -> np.ndarray:
    """Moving average with the ends held (edge padding): the line stays level there."""
    if len(values) < 3:
        return values
    k = min(half_width, len(values) - 1)
    padded = np.pad(values, k, mode="edge")
    return np.convolve(padded, np.ones(2 * k + 1) / (2 * k + 1), mode="valid")


def _crosses_box(trace: LineString, box: Polygon) -> bool:
    """Whether the trace runs from one side of the box to the other (two distinct sides:
    its crossing splits the box in two)."""
    if not trace.intersects(box):
        return False
    return len(shapely.get_parts(split(box, trace))) >= 2


# --- I/O at the edges --------------------------------------------------------------------

_DATE_COLUMNS = ("date", "acquired", "acq_date", "datetime", "date_time", "time", "imagedate")


def read_traces(path: str | Path) -> tuple[list[LineString], list[datetime | None]]:
    """The traces of a vector file (any format and CRS) in EPSG:3413, with their dates
    where a date column is found (TermPicks ``Date``, MEaSUREs ``DATE``, ...)."""
    import geopandas
    import pandas

    from calvingfronts.grid import GLACIER_CRS

    frame = geopandas.read_file(path)
    if frame.crs is None:
        raise ValueError(f"{path} has no CRS: say which (e.g. a .prj file) before drafting")
    frame = frame.to_crs(GLACIER_CRS)
    columns = {c.lower(): c for c in frame.columns}
    column = next((columns[c] for c in _DATE_COLUMNS if c in columns), None)
    parsed = (
        pandas.to_datetime(frame[column].astype(str), errors="coerce", format="mixed")
        if column
        else [None] * len(frame)
    )
    traces, dates = [], []
    for geometry, when in zip(frame.geometry, parsed, strict=True):
        line = _as_line(geometry)
        if line is not None:
            traces.append(line)
            dates.append(None if when is None or pandas.isna(when) else when.to_pydatetime())
    return traces, dates


def _as_line(geometry) -> LineString | None:
    """One LineString per trace: multi-part traces are merged, else their longest part."""
    if geometry is None or geometry.is_empty:
        return None
    merged = shapely.line_merge(geometry) if geometry.geom_type == "MultiLineString" else geometry
    parts = [p for p in shapely.get_parts(merged) if p.geom_type == "LineString" and p.length > 0]
    if not parts:
        return None
    line = max(parts, key=lambda p: p.length)
    return LineString(shapely.get_coordinates(line))  # drop Z: traces are mapped flat
