"""A small screened time series written as a GeoPackage: the input of the dataset tests
(the test modules make their fixture of write_straight_series)."""

from __future__ import annotations

from datetime import date

import pandas
from shapely.geometry import LineString, box

from calvingfronts.glaciers.config import GlacierConfig, SensorSettings
from calvingfronts.timeseries.geopackage import (
    build_time_series,
    screen_time_series,
    write_positions,
    write_time_series,
)
from calvingfronts.timeseries.screening import ScreeningSettings

# A straight fjord along +x near Jakobshavn (ice flows east, azimuth 90), 4 km wide.
X0, Y0 = -190_000.0, -2_270_000.0
FJORD = box(X0, Y0, X0 + 10_000, Y0 + 4_000)
CENTRELINE = LineString([(X0, Y0 + 2_000), (X0 + 10_000, Y0 + 2_000)])


def _record(scene_id, when, x, uncertainty=100.0, sensor="landsat8", flags=()):
    return {
        "glacier": "straight",
        "sensor": sensor,
        "scene_id": scene_id,
        "acquired": when.strftime("%Y-%m-%dT12:00:00Z"),
        "source": "stac",
        "pixel_size_m": 30.0,
        "status": "accepted",
        "model_name": "m",
        "model_version": "1",
        "histogram": "equalize",
        "uncertainty_m": uncertainty,
        "quality": {
            "flags": list(flags),
            "mean_probability": 0.9,
            "length_m": 4000.0,
            "span_fraction": 1.0,
            "members": 8,
        },
        "front_wkt": f"LINESTRING ({X0 + x} {Y0}, {X0 + x} {Y0 + 4000})",
    }


def write_straight_series(tmp_path):
    """12 fronts 4 days apart (one 2.3 km off, one 400 m off with a 1.8 km bound: both
    screened) and
    one rejected scene, as results/straight_fronts.gpkg with its positions tables."""
    days = pandas.date_range("2020-03-01", periods=12, freq="4D")
    records = [
        _record(
            f"LC08_L2SP_{k:02d}" if k % 2 else f"S1A_IW_GRDH_{k:02d}",
            day,
            6000 + 10 * (k % 3),
            sensor="landsat8" if k % 2 else "sentinel1",
            flags=("open_end", "several_candidates") if k == 3 else (),
        )
        for k, day in enumerate(days)
    ]
    records[5]["front_wkt"] = f"LINESTRING ({X0 + 8300} {Y0}, {X0 + 8300} {Y0 + 4000})"
    # A doubtful front 400 m off: its neighbours contradict it (an agreeing one would stay).
    records[8]["uncertainty_m"] = 1800.0
    records[8]["front_wkt"] = f"LINESTRING ({X0 + 6400} {Y0}, {X0 + 6400} {Y0 + 4000})"
    records.append({**_record("X", days[2], 0), "status": "rejected", "stage": "preprocess",
                    "reason": "all nodata"})  # fmt: skip
    settings = SensorSettings("landsat8", "stac", 30.0, date(2020, 1, 1), None)
    glacier = GlacierConfig("straight", FJORD.bounds, FJORD, 90.0, {"landsat8": settings},
                            centreline=CENTRELINE)  # fmt: skip
    fronts, rejected = build_time_series(records)
    series = screen_time_series(fronts, rejected, glacier, ScreeningSettings())
    results = tmp_path / "results"
    path = results / "straight_fronts.gpkg"
    write_time_series(series.fronts, series.rejected, path, series.screened, series.positions)
    write_positions(
        series.positions, results / "straight_positions.csv", results / "straight_positions.parquet"
    )
    return path
