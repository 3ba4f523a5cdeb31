"""Gross errors of the kinds a network makes, put into a record of real fronts on purpose,
so that the screening can be scored on how many it catches and how many real fronts it
flags (``benchmarks/gross_errors.py`` runs the suite; README "Screening" has its figures).

Four kinds, each drawn from what the workflow's fronts have shown on real scenes:

- ``shift``: the front's own shape, moved 1-3 km along the flow (up or down the fjord): a
  crevasse band or the mélange edge taken for the front;
- ``other_season``: the glacier's real front of another season (90-180 days away in the
  year, at most two years away, and at least 500 m away along the centreline): a choked
  spring fjord drawn where the summer front was, or the reverse;
- ``wrong_line``: a line that is no front, kilometres off: half are lines along the flow
  (a fjord wall, a rift, a medial moraine) placed 1-5 km from the front, half are the
  front's shape 4-10 km along the flow (a mélange edge far out, a crevasse band far up);
- ``partial``: a contiguous 25-60 % of the front (cloud, mélange, a weak wall).

Every injected line is cut to the fjord polygon, as the vectorizer cuts the network's.
Pure: a fronts table (LineStrings in EPSG:3413) and a seed in, the table with some of its
geometries replaced and the mask of those out.
"""

from __future__ import annotations

import math

import geopandas
import numpy as np
import pandas
import shapely
from shapely.geometry import LineString, Polygon
from shapely.ops import substring

from calvingfronts.timeseries.positions import front_positions
from calvingfronts.timeseries.screening import ScreeningSettings
from calvingfronts.timeseries.terminus import terminus_position, upstream_direction

GROSS_ERROR_KINDS = ("shift", "other_season", "wrong_line", "partial")

# Below this a front of another season is no gross error: the workflow's own fronts are
# 100-400 m off on unseen glaciers.
OTHER_SEASON_MIN_M = 500.0


def inject_gross_errors(
    fronts: geopandas.GeoDataFrame,
    kind: str,
    rate: float,
    seed: int,
    *,
    centreline: LineString,
    fjord: Polygon,
) -> tuple[geopandas.GeoDataFrame, np.ndarray]:
    """``fronts`` with about ``rate`` of them replaced by gross errors of ``kind``, and the
    boolean mask of the replaced rows. Rows where an error of that kind cannot be made
    (no front of another season far enough away, a line that leaves the fjord) are left
    real, so the mask may hold a little fewer than ``rate``."""
    if kind not in GROSS_ERROR_KINDS:
        raise ValueError(f"unknown gross-error kind {kind!r}; known: {list(GROSS_ERROR_KINDS)}")
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must lie between 0 and 1, got {rate}")
    rng = np.random.default_rng(seed)
    count = len(fronts)
    chosen = np.sort(rng.choice(count, size=max(1, round(rate * count)), replace=False))
    geometries = list(fronts.geometry)
    injected = np.zeros(count, dtype=bool)
    positions = _positions(geometries, centreline) if kind == "other_season" else None
    days = _days(fronts) if kind == "other_season" else None
    for index in chosen:
        front = geometries[index]
        if kind == "other_season":
            other = _other_season(int(index), days, positions)
            line = None if other is None else fronts.geometry.iloc[other]
        else:
            line = _made_error(kind, front, rng, centreline)
        line = None if line is None else _in_fjord(line, fjord)
        if line is not None:
            geometries[index] = line
            injected[index] = True
    out = fronts.copy()
    out["geometry"] = geopandas.GeoSeries(geometries, index=fronts.index, crs=fronts.crs)
    return out, injected


def _made_error(kind: str, front: LineString, rng, centreline: LineString) -> LineString | None:
    downstream = -upstream_direction(front, centreline)
    if kind == "shift":
        return _moved(front, downstream * rng.uniform(1000.0, 3000.0) * rng.choice([-1, 1]))
    if kind == "partial":
        share = rng.uniform(0.25, 0.6)
        start = rng.uniform(0.0, 1.0 - share)
        return substring(front, start, start + share, normalized=True)
    # wrong_line
    if rng.random() < 0.5:
        return _along_flow_line(front, downstream, rng)
    return _moved(front, downstream * rng.uniform(4000.0, 10000.0) * rng.choice([-1, 1]))


def _moved(line: LineString, offset: np.ndarray) -> LineString:
    return shapely.transform(line, lambda xy: xy + offset)


def _along_flow_line(front: LineString, downstream: np.ndarray, rng) -> LineString:
    """A gently wiggling line within 25 degrees of the flow, 30-80 % of the front's span
    long, centred 1-5 km up or down the fjord from the front's middle and up to a third of
    the span across it."""
    coords = np.asarray(front.coords)[:, :2]
    span = float(np.hypot(*(coords[-1] - coords[0]))) or front.length
    across = np.array([-downstream[1], downstream[0]])
    middle = np.asarray(front.interpolate(0.5, normalized=True).coords[0])[:2]
    centre = (
        middle
        + downstream * rng.uniform(1000.0, 5000.0) * rng.choice([-1, 1])
        + across * rng.uniform(-span / 3.0, span / 3.0)
    )
    angle = math.radians(rng.uniform(-25.0, 25.0))
    direction = downstream * math.cos(angle) + across * math.sin(angle)
    normal = np.array([-direction[1], direction[0]])
    length = rng.uniform(0.3, 0.8) * span
    along = np.linspace(-length / 2.0, length / 2.0, 12)
    wiggle = rng.normal(0.0, 0.02 * length, along.size)
    return LineString(centre + along[:, None] * direction + wiggle[:, None] * normal)


def _in_fjord(line: LineString, fjord: Polygon) -> LineString | None:
    """The longest part of ``line`` inside the fjord; None where less than 200 m is left."""
    parts = [p for p in shapely.get_parts(line.intersection(fjord)) if p.geom_type == "LineString"]
    if not parts:
        return None
    longest = max(parts, key=lambda part: part.length)
    return longest if longest.length >= 200.0 else None


def _positions(geometries, centreline: LineString) -> np.ndarray:
    values = [terminus_position(g, centreline) for g in geometries]
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _days(fronts: geopandas.GeoDataFrame) -> np.ndarray:
    times = pandas.to_datetime(fronts["acquired"], utc=True)
    return (times - pandas.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy()


def _other_season(index: int, seconds: np.ndarray, positions: np.ndarray) -> int | None:
    """The front nearest in time to ``index`` that is 90-180 days away in the year, at most
    two years away, and at least OTHER_SEASON_MIN_M away along the centreline."""
    apart = np.abs(seconds - seconds[index]) / 86400.0
    in_year = np.minimum(apart % 365.25, 365.25 - apart % 365.25)
    candidates = np.nonzero(
        (in_year >= 90.0)
        & (in_year <= 180.0)
        & (apart <= 730.0)
        & (np.abs(positions - positions[index]) >= OTHER_SEASON_MIN_M)
    )[0]
    if not len(candidates):
        return None
    return int(candidates[np.argmin(apart[candidates])])


def screening_scores(
    fronts: geopandas.GeoDataFrame,
    *,
    centreline: LineString,
    fjord: Polygon,
    box: Polygon | None,
    screening: ScreeningSettings,
    kinds=GROSS_ERROR_KINDS,
    rates=(0.05, 0.1, 0.2),
    seeds=range(5),
) -> pandas.DataFrame:
    """One row per (kind, rate, seed): gross errors injected, caught (screened), and real
    fronts screened among the rest, through the workflow's own positions and screening."""
    rows = []
    for kind in kinds:
        for rate in rates:
            for seed in seeds:
                record, injected = inject_gross_errors(
                    fronts, kind, rate, seed, centreline=centreline, fjord=fjord
                )
                positions = front_positions(record, centreline, box, screening)
                screened = (positions["status"] == "screened").to_numpy()
                rows.append(
                    {
                        "kind": kind,
                        "rate": rate,
                        "seed": seed,
                        "injected": int(injected.sum()),
                        "caught": int((screened & injected).sum()),
                        "real": int((~injected).sum()),
                        "real_screened": int((screened & ~injected).sum()),
                    }
                )
    return pandas.DataFrame(rows)


def score_summary(scores: pandas.DataFrame) -> pandas.DataFrame:
    """Per kind and over all: the share of gross errors caught and of real fronts screened."""
    groups = {kind: part for kind, part in scores.groupby("kind", sort=False)}
    groups["all"] = scores
    return pandas.DataFrame(
        [
            {
                "kind": kind,
                "injected": int(part.injected.sum()),
                "caught_share": part.caught.sum() / max(part.injected.sum(), 1),
                "real_screened_share": part.real_screened.sum() / max(part.real.sum(), 1),
            }
            for kind, part in groups.items()
        ]
    )
