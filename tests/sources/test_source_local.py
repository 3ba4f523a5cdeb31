"""The local source: a user's manifest of GeoTIFFs in any CRS."""

from datetime import date

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.transform import from_origin
from shapely.geometry import box

from calvingfronts.glaciers.config import GlacierConfig, SensorSettings
from calvingfronts.raster_io import Raster, read_raster, write_raster
from calvingfronts.rejection import SceneRejected
from calvingfronts.sources import local

AOI = (-160000.0, -2207500.0, -140000.0, -2192500.0)


def _glacier(manifest, sensor="terrasarx"):
    settings = SensorSettings(
        sensor, "local", 100.0, date(2020, 1, 1), None, {"manifest": manifest}
    )
    return GlacierConfig("test", AOI, box(*AOI).buffer(-2000), 250.0, {sensor: settings})


def _ramp_tif(path, crs, transform, shape, nodata=0, fill=None):
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    data = (
        (100 + rows + cols).astype(np.uint16) if fill is None else np.full(shape, fill, np.uint16)
    )
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=shape[1],
        height=shape[0],
        count=1,
        dtype="uint16",
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)


@pytest.fixture
def scenes_folder(tmp_path):
    # The same area in the glacier's CRS and in UTM zone 22N, as Landsat delivers it.
    _ramp_tif(
        tmp_path / "polar.tif", "EPSG:3413", from_origin(-165000, -2187500, 50, 50), (500, 600)
    )
    to_utm = Transformer.from_crs("EPSG:3413", "EPSG:32622", always_xy=True)
    xs, ys = to_utm.transform([AOI[0], AOI[2], AOI[0], AOI[2]], [AOI[1], AOI[1], AOI[3], AOI[3]])
    west, north = min(xs) - 3000, max(ys) + 3000
    _ramp_tif(tmp_path / "utm.tif", "EPSG:32622", from_origin(west, north, 30, 30), (1000, 1000))
    _ramp_tif(
        tmp_path / "empty.tif",
        "EPSG:3413",
        from_origin(-165000, -2187500, 50, 50),
        (500, 600),
        fill=0,
    )
    (tmp_path / "corrupt.tif").write_bytes(b"II*\x00" + bytes(range(256)) * 4)
    (tmp_path / "manifest.csv").write_text(
        "path,sensor,acquired,scene_id\n"
        "polar.tif,terrasarx,2020-05-01T10:00:00Z,\n"
        "utm.tif,terrasarx,2020-05-02,utm_scene\n"
        "empty.tif,terrasarx,2020-05-03T10:00:00+02:00,\n"
        "corrupt.tif,terrasarx,2020-05-04,\n"
        "gone.tif,terrasarx,2020-05-05,\n"
        "old.tif,terrasarx,2019-05-05,\n"
        "polar.tif,alos2,2020-05-06,polar_alos\n"
    )
    return tmp_path


def test_listing_reads_rows_of_this_sensor_and_dates(scenes_folder):
    glacier = _glacier(str(scenes_folder / "manifest.csv"))
    scenes = local.list_scenes(
        glacier, glacier.sensors["terrasarx"], {"manifest": str(scenes_folder / "manifest.csv")}
    )
    ids = [s.scene_id for s in scenes]
    assert ids == ["polar", "utm_scene", "empty", "corrupt", "gone"]
    assert scenes[2].acquired.hour == 8  # converted to UTC
    assert scenes[0].href == str(scenes_folder / "polar.tif")


def test_fetch_reprojects_any_crs_onto_the_grid(scenes_folder, tmp_path):
    manifest = str(scenes_folder / "manifest.csv")
    glacier = _glacier(manifest)
    grid = glacier.grid("terrasarx")
    scenes = {
        s.scene_id: s
        for s in local.list_scenes(glacier, glacier.sensors["terrasarx"], {"manifest": manifest})
    }
    for scene_id in ("polar", "utm_scene"):
        raster = local.fetch_scene(scenes[scene_id], glacier, grid, {})
        assert raster.band.shape == grid.shape
        assert np.isfinite(raster.band).mean() > 0.99
        assert raster.tags["SAR_QUANTITY"] == "amplitude"
        write_raster(tmp_path / f"{scene_id}_fetched.tif", raster)
        again = read_raster(tmp_path / f"{scene_id}_fetched.tif")
        assert again.crs == "EPSG:3413" and again.transform == grid.transform
    # The polar file is a ramp on a 50 m grid; averaged onto 100 m it stays a ramp.
    polar = local.fetch_scene(scenes["polar"], glacier, grid, {}).band
    assert np.all(np.diff(polar[5, 5:-5]) > 0)


@pytest.mark.parametrize(
    "scene_id, words",
    [("empty", "no valid pixels"), ("corrupt", "cannot read"), ("gone", "file not found")],
)
def test_bad_files_are_rejected_with_the_reason(scenes_folder, scene_id, words):
    manifest = str(scenes_folder / "manifest.csv")
    glacier = _glacier(manifest)
    scenes = {
        s.scene_id: s
        for s in local.list_scenes(glacier, glacier.sensors["terrasarx"], {"manifest": manifest})
    }
    with pytest.raises(SceneRejected, match=words) as caught:
        local.fetch_scene(scenes[scene_id], glacier, glacier.grid("terrasarx"), {})
    assert caught.value.stage == "fetch"


def test_a_manifest_without_a_required_column_is_an_error(tmp_path):
    manifest = tmp_path / "bad.csv"
    manifest.write_text("file,sensor,acquired\nx.tif,terrasarx,2020-01-01\n")
    glacier = _glacier(str(manifest))
    with pytest.raises(local.ManifestError, match=r"missing column\(s\) path") as caught:
        local.list_scenes(glacier, glacier.sensors["terrasarx"], {"manifest": str(manifest)})
    assert str(manifest) in str(caught.value)


BAD_ROWS = {  # line: (row, words of the reason)
    3: ("b.tif,terrasarx,2020-02-02,a\n", "scene_id 'a' is already used on line 2"),
    4: ("c.tif,terrasarx,29/03/2020,c\n", "acquired '29/03/2020' is not an ISO 8601 date"),
    5: ("d.tif,tsx,2020-02-04,d\n", "unknown sensor 'tsx'"),
    6: ("e.tif,terrasarx\n", "2 field(s) where the header has 4"),
    7: ("f.tif,terrasarx,2020-02-06,f,extra\n", "5 fields where the header has 4"),
    8: ("Gl\u00e9.tif,terrasarx,2020-02-07,g\n", "byte 0xe9 is not UTF-8"),
    9: (",terrasarx,2020-02-08,h\n", "empty path"),
}


def test_bad_rows_are_rejected_with_file_line_and_reason_and_the_rest_listed(tmp_path):
    manifest = tmp_path / "mixed.csv"
    rows = {2: "a.tif,terrasarx,2020-02-01,a\n", **{n: row for n, (row, _) in BAD_ROWS.items()}}
    rows[10] = "k.tif,terrasarx,2020-02-09,k\n"
    rows[11] = "s.tif,sentinel1,2020-02-10,s\n"  # another sensor's row: not ours to judge
    text = "path,sensor,acquired,scene_id\n" + "".join(rows[n] for n in sorted(rows))
    # Latin-1, as an older spreadsheet saves it: only the row with the accent is not UTF-8.
    manifest.write_bytes(text.encode("latin-1"))
    glacier = _glacier(str(manifest))
    listed = local.list_scenes(glacier, glacier.sensors["terrasarx"], {"manifest": str(manifest)})
    assert [scene.scene_id for scene in listed] == ["a", "k"]
    reasons = {row.reason.split(": ", 1)[0]: row.reason for row in listed.rejected}
    assert len(listed.rejected) == len(BAD_ROWS)
    for line, (_, words) in BAD_ROWS.items():
        reason = reasons[f"{manifest}, line {line}"]
        assert words in reason, reason
    duplicate = next(row for row in listed.rejected if "already used" in row.reason)
    assert duplicate.scene_id == "a" and duplicate.sensor == "terrasarx"
    assert duplicate.acquired.isoformat().startswith("2020-02-02")


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_a_manifest_that_is_not_utf8_at_all_is_one_clear_error(tmp_path, encoding):
    manifest = tmp_path / "manifest.csv"
    # In Latin-1 the header itself is not UTF-8 ("d\u00e9tails" in the header).
    header = (
        "path,sensor,acquired,d\u00e9tails\n" if encoding == "latin-1" else "path,sensor,acquired\n"
    )
    manifest.write_bytes((header + "a.tif,terrasarx,2020-02-01\n").encode(encoding))
    glacier = _glacier(str(manifest))
    with pytest.raises(local.ManifestError, match="cannot be read as UTF-8") as caught:
        local.list_scenes(glacier, glacier.sensors["terrasarx"], {"manifest": str(manifest)})
    assert str(manifest) in str(caught.value)


def test_a_byte_order_mark_is_read_as_utf8(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_bytes("path,sensor,acquired\na.tif,terrasarx,2020-02-01\n".encode("utf-8-sig"))
    glacier = _glacier(str(manifest))
    listed = local.list_scenes(glacier, glacier.sensors["terrasarx"], {"manifest": str(manifest)})
    assert [s.scene_id for s in listed] == ["a"] and not listed.rejected


def test_raster_round_trip_keeps_encoding(tmp_path):
    raster = Raster(
        np.arange(12, dtype=np.uint16).reshape(1, 3, 4),
        from_origin(0, 0, 1, 1),
        "EPSG:3413",
        nodata=0,
        scales=(2.75e-5,),
        offsets=(-0.2,),
        tags={"SENSOR": "landsat8"},
    )
    write_raster(tmp_path / "r.tif", raster)
    again = read_raster(tmp_path / "r.tif")
    assert (
        again.scales == (2.75e-5,)
        and again.offsets == (-0.2,)
        and again.tags["SENSOR"] == "landsat8"
    )
    np.testing.assert_array_equal(again.data, raster.data)
    assert not list(tmp_path.glob("*.part"))


def test_a_file_referenced_by_ground_control_points_is_warped(tmp_path):
    """SAR products in radar geometry carry GCPs (longitude/latitude) instead of a transform."""
    from rasterio.control import GroundControlPoint

    to_lonlat = Transformer.from_crs("EPSG:3413", "EPSG:4326", always_xy=True)
    rows, cols = 400, 500
    west, south, east, north = AOI[0] - 4000, AOI[1] - 4000, AOI[2] + 4000, AOI[3] + 4000
    gcps = []
    for row in (0, rows // 2, rows):
        for col in (0, cols // 2, cols):
            x = west + (east - west) * col / cols
            y = north - (north - south) * row / rows
            lon, lat = to_lonlat.transform(x, y)
            gcps.append(GroundControlPoint(row=row, col=col, x=lon, y=lat))
    data = (100 + np.add.outer(np.arange(rows), np.arange(cols))).astype(np.uint16)
    path = tmp_path / "radar.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=cols, height=rows, count=1, dtype="uint16", nodata=0
    ) as dst:
        dst.write(data, 1)
        dst.gcps = (gcps, "EPSG:4326")
    (tmp_path / "manifest.csv").write_text("path,sensor,acquired\nradar.tif,terrasarx,2020-05-01\n")
    manifest = str(tmp_path / "manifest.csv")
    glacier = _glacier(manifest)
    (scene,) = local.list_scenes(glacier, glacier.sensors["terrasarx"], {"manifest": manifest})
    band = local.fetch_scene(scene, glacier, glacier.grid("terrasarx"), {}).band
    assert np.isfinite(band).mean() > 0.99
    # The ramp grows to the south-east on the ground as in the file.
    assert band[-5, -5] > band[5, 5]
