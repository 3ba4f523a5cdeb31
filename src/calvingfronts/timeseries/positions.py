"""The positions table: one row per front, the numbers a glaciologist plots against time.

For every front (kept or screened) of a glacier: when (date, decimal year), which scene,
where along the centreline it crosses (``position_m``, larger = more advanced; see
:mod:`calvingfronts.timeseries.terminus`), the box method's area change and the box width used for
it,
the front's ``uncertainty_m``, and its screening status and reason
(:mod:`calvingfronts.timeseries.screening`). Pure: tables and geometries in, a table out.
"""

from __future__ import annotations

import geopandas
import numpy as np
import pandas
from shapely.geometry import LineString, Polygon

from calvingfronts.grid import GLACIER_CRS
from calvingfronts.timeseries.screening import ScreeningSettings, screen_fronts
from calvingfronts.timeseries.terminus import box_area_change, terminus_position

POSITION_COLUMNS = [
    "glacier",
    "sensor",
    "scene_id",
    "acquired",
    "date",
    "decimal_year",
    "position_m",
    "area_change_m2",
    "box_width_m",
    "uncertainty_m",
    "position_uncertainty_m",
    "status",
    "screening_test",
    "screening_reason",
    "screening_flags",
]


def decimal_year(times: pandas.Series) -> np.ndarray:
    """UTC times as decimal years: 2020.0 is 1 January 2020 00:00, leap years included."""
    times = pandas.to_datetime(times, utc=True)
    start = pandas.to_datetime(times.dt.year.astype(str) + "-01-01", utc=True)
    end = pandas.to_datetime((times.dt.year + 1).astype(str) + "-01-01", utc=True)
    return (times.dt.year + (times - start) / (end - start)).to_numpy(dtype=float)


def front_positions(
    fronts: geopandas.GeoDataFrame,
    centreline: LineString | None,
    box: Polygon | None,
    screening: ScreeningSettings,
) -> geopandas.GeoDataFrame:
    """The positions table of ``fronts`` (one row each, same order), screened, with the
    point where each front crosses the centreline as its geometry (none where it does
    not)."""
    positions, areas, widths, points = [], [], [], []
    for front in fronts.geometry:
        position = None if centreline is None else terminus_position(front, centreline)
        positions.append(np.nan if position is None else position)
        points.append(None if position is None else centreline.interpolate(position))
        area, width = (None, np.nan) if box is None else box_area_change(front, box, centreline)
        areas.append(np.nan if area is None else area)
        widths.append(width)
    acquired = pandas.to_datetime(fronts["acquired"], utc=True)

    def bound(column: str) -> np.ndarray:
        """A bound column as floats; NaN where the fronts have none."""
        if column not in fronts:
            return np.full(len(fronts), np.nan)
        return pandas.to_numeric(fronts[column], errors="coerce").to_numpy(dtype=float)

    table = pandas.DataFrame(
        {
            "glacier": fronts["glacier"].to_numpy(),
            "sensor": fronts["sensor"].to_numpy(),
            "scene_id": fronts["scene_id"].to_numpy(),
            "acquired": acquired.to_numpy(),
            "date": acquired.dt.strftime("%Y-%m-%d").to_numpy(),
            "decimal_year": decimal_year(acquired),
            "position_m": np.asarray(positions, dtype=float),
            "area_change_m2": np.asarray(areas, dtype=float),
            "box_width_m": np.asarray(widths, dtype=float),
            "uncertainty_m": bound("uncertainty_m"),
            "position_uncertainty_m": bound("position_uncertainty_m"),
            "length_m": fronts.geometry.length.to_numpy(dtype=float),
        }
    )
    table = screen_fronts(table, screening, on_centreline=centreline is not None)
    table["acquired"] = pandas.to_datetime(table["acquired"], utc=True)
    return geopandas.GeoDataFrame(
        table[POSITION_COLUMNS],
        geometry=geopandas.GeoSeries(points, index=table.index),
        crs=GLACIER_CRS,
    )
