"""Positions and the screened time series: known geometry in, known numbers and layers out."""

from datetime import date

import geopandas
import numpy as np
import pandas
import pyogrio
import pytest
from shapely.geometry import LineString, box

from calvingfronts.glaciers.config import GlacierConfig, SensorSettings
from calvingfronts.timeseries.geopackage import (
    build_time_series,
    screen_time_series,
    write_positions,
    write_time_series,
)
from calvingfronts.timeseries.positions import POSITION_COLUMNS, decimal_year
from calvingfronts.timeseries.screening import ScreeningSettings

# A straight fjord along +x (ice flows east, azimuth 90), 4 km wide.
FJORD = box(0, 0, 10000, 4000)
CENTRELINE = LineString([(0, 2000), (10000, 2000)])
BOX = box(2000, 500, 9000, 3500)  # 3 km wide across the flow


def _glacier(centreline=CENTRELINE, box_polygon=BOX):
    settings = SensorSettings("landsat8", "synthetic", 50.0, date(2020, 1, 1), None)
    return GlacierConfig(
        "straight",
        (0, 0, 10000, 4000),
        FJORD,
        90.0,
        {"landsat8": settings},
        centreline=centreline,
        box=box_polygon,
    )


def _record(scene_id, day, x, uncertainty=100.0, sensor="landsat8"):
    return {
        "glacier": "straight",
        "sensor": sensor,
        "scene_id": scene_id,
        "acquired": f"2020-{day}T12:00:00Z",
        "source": "synthetic",
        "pixel_size_m": 50.0,
        "status": "accepted",
        "model_name": "m",
        "model_version": "1",
        "histogram": "equalize",
        "uncertainty_m": uncertainty,
        "quality": {"flags": [], "mean_probability": 0.9},
        "front_wkt": f"LINESTRING ({x} 0, {x} 4000)",
    }


def _series():
    days = pandas.date_range("2020-03-01", periods=12, freq="4D")
    records = [
        _record(f"S{k:02d}", day.strftime("%m-%d"), 6000 + 10 * (k % 3))
        for k, day in enumerate(days)
    ]
    records[5]["front_wkt"] = "LINESTRING (8300 0, 8300 4000)"  # 2.3 km off, alone
    records[8]["uncertainty_m"] = 1800.0
    records.append(
        {
            **_record("X", "03-09", 0),
            "status": "rejected",
            "stage": "preprocess",
            "reason": "all nodata",
        }
    )
    return records


def test_decimal_year_counts_leap_years():
    times = pandas.Series(pandas.to_datetime(["2020-01-01", "2020-07-02", "2021-01-01"], utc=True))
    years = decimal_year(times)
    assert years[0] == 2020.0 and years[2] == 2021.0
    assert years[1] == pytest.approx(2020 + 183 / 366)


def test_positions_and_box_areas_of_straight_fronts():
    fronts, rejected = build_time_series(_series())
    series = screen_time_series(fronts, rejected, _glacier(), ScreeningSettings())
    positions = series.positions
    assert list(positions.columns[:-1]) == POSITION_COLUMNS
    first = positions.iloc[0]
    assert first.position_m == pytest.approx(6000.0)
    assert first.box_width_m == pytest.approx(3000.0)
    assert first.area_change_m2 == pytest.approx((6000 - 2000) * 3000.0)
    assert first.geometry.x == pytest.approx(6000.0) and first.geometry.y == pytest.approx(2000.0)
    assert first.date == "2020-03-01"


def test_an_uncertain_front_that_its_neighbours_agree_with_is_kept_with_a_flag():
    fronts, rejected = build_time_series(_series())
    series = screen_time_series(fronts, rejected, _glacier(), ScreeningSettings())
    kept = series.fronts.set_index("scene_id")
    assert "S08" in kept.index and "S05" not in kept.index
    assert kept.quality_flags["S08"] == "uncertain"
    assert kept.quality_flags["S07"] == ""
    flags = series.positions.set_index("scene_id").screening_flags
    assert flags["S08"] == "uncertain" and flags["S05"] == ""


def test_screened_fronts_move_to_their_own_layer_and_to_rejected(tmp_path):
    fronts, rejected = build_time_series(_series())
    settings = ScreeningSettings(screen_uncertain=True)
    series = screen_time_series(fronts, rejected, _glacier(), settings)
    screened = series.positions[series.positions.status == "screened"]
    assert dict(zip(screened.scene_id, screened.screening_test, strict=True)) == {
        "S05": "temporal_outlier",
        "S08": "uncertainty",
    }
    assert len(series.fronts) == 10 and set(series.screened.scene_id) == {"S05", "S08"}
    moved = series.rejected[series.rejected.stage == "screening"]
    assert set(moved.scene_id) == {"S05", "S08"}
    assert moved.set_index("scene_id").reason["S08"].startswith("uncertainty: uncertainty 1.8 km")
    assert list(series.rejected.scene_id) == ["X", "S05", "S08"], "sorted by time"

    gpkg = tmp_path / "straight_fronts.gpkg"
    write_time_series(
        series.fronts, series.rejected, gpkg, screened=series.screened, positions=series.positions
    )
    layers = dict(pyogrio.list_layers(gpkg))
    assert layers == {
        "fronts": "LineString",
        "screened": "LineString",
        "rejected": "LineString",
        "positions": "Point",
    }
    # A screened front's line is on its rejected row; a scene without a front has none.
    gone = geopandas.read_file(gpkg, layer="rejected").set_index("scene_id")
    assert gone.geometry["X"] is None and gone.geometry["S05"].geom_type == "LineString"
    kept = geopandas.read_file(gpkg, layer="fronts")
    assert "S05" not in set(kept.scene_id) and kept.position_m.notna().all()
    assert kept.uncertainty_m.iloc[0] == pytest.approx(100.0)
    write_positions(series.positions, tmp_path / "p.csv", tmp_path / "p.parquet")
    csv = pandas.read_csv(tmp_path / "p.csv")
    parquet = pandas.read_parquet(tmp_path / "p.parquet")
    assert list(csv.columns) == POSITION_COLUMNS == list(parquet.columns)
    assert csv.acquired[0] == "2020-03-01T12:00:00Z"
    assert len(csv) == len(parquet) == 12
    assert np.allclose(csv.position_m, parquet.position_m)


def test_without_a_centreline_or_box_the_numbers_are_empty_not_wrong():
    fronts, rejected = build_time_series(_series())
    series = screen_time_series(
        fronts, rejected, _glacier(centreline=None, box_polygon=None), ScreeningSettings()
    )
    assert series.positions.position_m.isna().all()
    assert series.positions.area_change_m2.isna().all()
    # Nothing can contradict a front without a position: the uncertain one is only flagged.
    assert series.screened.empty
    assert series.fronts.set_index("scene_id").quality_flags["S08"] == "uncertain"


def test_a_line_along_the_fjord_wall_is_screened_as_unplaced():
    """A line running with the flow near a wall never crosses the centreline, even extended
    by its own span: it has no position, so it is screened rather than kept unchecked."""
    records = _series()
    records[3]["front_wkt"] = "LINESTRING (5000 300, 7000 350)"
    fronts, rejected = build_time_series(records)
    series = screen_time_series(fronts, rejected, _glacier(), ScreeningSettings())
    row = series.positions.set_index("scene_id").loc["S03"]
    assert np.isnan(row.position_m)
    assert row.status == "screened" and row.screening_test == "unplaced"
    assert "S03" in set(series.screened.scene_id)
