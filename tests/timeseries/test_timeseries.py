from pathlib import Path

import geopandas
import pyogrio
import pytest

from calvingfronts.timeseries.geopackage import build_time_series, read_records, write_time_series


def _record(scene_id, acquired, status="accepted", **extra):
    base = {
        "glacier": "demo",
        "sensor": "landsat8",
        "scene_id": scene_id,
        "acquired": acquired,
        "source": "synthetic",
        "pixel_size_m": 50.0,
        "status": status,
    }
    if status == "accepted":
        base.update(
            model_name="m",
            model_version="1",
            histogram="equalize",
            quality={"flags": ["touches_nodata"], "mean_probability": 0.8, "length_m": 5000.0},
            front_wkt="LINESTRING (-150000 -2200000, -149000 -2199000)",
        )
    base.update(extra)
    return base


def test_layers_hold_fronts_and_rejections_sorted_by_time(tmp_path):
    records = [
        _record("B", "2020-03-09T14:00:00Z"),
        _record("A", "2020-03-01T14:00:00Z"),
        _record("C", "2020-03-05T14:00:00Z", status="rejected", stage="fetch", reason="404"),
    ]
    fronts, rejected = build_time_series(records)
    path = tmp_path / "demo_fronts.gpkg"
    write_time_series(fronts, rejected, path)
    assert {tuple(layer) for layer in pyogrio.list_layers(path)} == {
        ("fronts", "LineString"),
        ("rejected", "LineString"),
    }
    read = geopandas.read_file(path, layer="fronts")
    assert list(read.scene_id) == ["A", "B"]
    assert read.crs.to_epsg() == 3413
    assert read.quality_flags[0] == "touches_nodata"
    assert read.q_mean_probability[0] == pytest.approx(0.8)
    gone = geopandas.read_file(path, layer="rejected")
    assert list(gone.scene_id) == ["C"] and gone.stage[0] == "fetch" and gone.reason[0] == "404"
    assert not list(tmp_path.glob("*.part*"))


def test_a_glacier_with_no_front_still_gets_both_layers(tmp_path):
    fronts, rejected = build_time_series(
        [_record("C", "2020-03-05T14:00:00Z", "rejected", stage="preprocess", reason="all nodata")]
    )
    write_time_series(fronts, rejected, tmp_path / "x.gpkg")
    assert len(geopandas.read_file(tmp_path / "x.gpkg", layer="fronts")) == 0
    assert len(geopandas.read_file(tmp_path / "x.gpkg", layer="rejected")) == 1


def test_unreadable_record_names_the_file(tmp_path):
    bad = tmp_path / "S1.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="S1.json"):
        read_records([bad])


def test_products_are_readable_by_others_like_any_new_file(tmp_path):
    import os
    import stat

    from calvingfronts.raster_io import atomic_path

    with atomic_path(tmp_path / "x.json") as tmp:
        Path(tmp).write_text("{}")
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "x.json").stat().st_mode) == 0o666 & ~umask
