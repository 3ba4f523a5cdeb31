"""The local source's files: a fill value of the user's, 8-bit display images, GMT/netCDF
grids, and file names in any alphabet."""

from datetime import date

import numpy as np
import pytest
import rasterio
from pyproj import CRS
from rasterio.transform import from_origin
from scipy.io import netcdf_file
from shapely.geometry import box

from calvingfronts.glaciers.config import GlacierConfig, SensorSettings
from calvingfronts.raster_io import read_raster, write_raster
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.manifest import safe_scene_id
from calvingfronts.scenes.sensors import get_sensor, raster_to_physical
from calvingfronts.sources import local
from calvingfronts.workflow.pipeline import preprocess_stage

AOI = (-160000.0, -2207500.0, -140000.0, -2192500.0)
# The files cover the area of interest with a 5 km margin, on a 100 m grid like the glacier's.
ORIGIN = (AOI[0] - 5000, AOI[3] + 5000)
SHAPE = (250, 300)


def _glacier(manifest, sensor="landsat7", **options):
    settings = SensorSettings(
        sensor, "local", 100.0, date(2000, 1, 1), None, {"manifest": str(manifest), **options}
    )
    return GlacierConfig("test", AOI, box(*AOI).buffer(-2000), 250.0, {sensor: settings})


def _write_tif(path, data, nodata=None, crs="EPSG:3413"):
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=data.shape[1],
        height=data.shape[0],
        count=1,
        dtype=data.dtype,
        crs=crs,
        transform=from_origin(*ORIGIN, 100, 100),
        nodata=nodata,
    ) as dst:
        dst.write(data, 1)


def _fetch(tmp_path, name, sensor="landsat7", **options):
    (tmp_path / "manifest.csv").write_text(f"path,sensor,acquired\n{name},{sensor},2003-07-01\n")
    glacier = _glacier(tmp_path / "manifest.csv", sensor, **options)
    settings = glacier.sensors[sensor]
    (scene,) = local.list_scenes(glacier, settings, settings.options)
    return local.fetch_scene(scene, glacier, glacier.grid(sensor), settings.options), scene


def _slc_off(fill_value=0):
    """A Landsat-7 band with SLC-off stripes written as ``fill_value`` into the file."""
    data = np.full(SHAPE, 8000, np.uint16) + np.arange(SHAPE[1], dtype=np.uint16)
    data[:, 100:110] = fill_value
    return data


def test_nodata_option_makes_the_stripes_no_data(tmp_path):
    _write_tif(tmp_path / "le07.tif", _slc_off(), nodata=None)
    plain, _ = _fetch(tmp_path, "le07.tif")
    assert np.isfinite(plain.band).all(), "the file declares no nodata: 0 reads as dark ice"
    striped, _ = _fetch(tmp_path, "le07.tif", nodata=0)
    # Stripe columns 100-109 of the file are columns 50-59 of the glacier grid.
    assert np.isnan(striped.band[:, 52:58]).all()
    assert np.isfinite(striped.band[:, :45]).all() and np.isfinite(striped.band[:, 65:]).all()


def test_nodata_option_overrides_the_files_own(tmp_path):
    _write_tif(tmp_path / "le07.tif", _slc_off(fill_value=1), nodata=65535)
    raster, _ = _fetch(tmp_path, "le07.tif", nodata=1)
    assert np.isnan(raster.band[:, 52:58]).all()


def _display_image():
    """An 8-bit quick-look: black water (0), grey ice, a white rock."""
    data = np.full(SHAPE, 120, np.uint8)
    data[:, :150] = 0
    data[60:100, 60:100] = 255
    return data


def test_display_images_keep_their_values_for_sar_sensors(tmp_path):
    _write_tif(tmp_path / "tsx_quicklook.tif", _display_image())
    raster, scene = _fetch(tmp_path, "tsx_quicklook.tif", sensor="terrasarx", values="display")
    values = raster_to_physical(raster, get_sensor("terrasarx"))
    # Black water stays valid (as amplitude, log(0) would make it no data) and unchanged.
    assert np.isfinite(values).all()
    assert set(np.unique(np.rint(values))) <= {0.0, 120.0, 255.0}
    assert "SAR_QUANTITY" not in raster.tags

    write_raster(tmp_path / "fetched.tif", raster)
    glacier = _glacier(tmp_path / "manifest.csv", "terrasarx")
    preprocess_stage(glacier, scene, tmp_path / "fetched.tif", tmp_path / "pre.tif", "none", 0.1)
    image = read_raster(tmp_path / "pre.tif").band
    # `none`: the display values as they are, on [0, 1].
    assert np.nanmax(image) == pytest.approx(1.0)
    assert sorted(np.unique(np.round(image, 3))) == pytest.approx([0.0, 0.471, 1.0], abs=1e-3)


def test_display_values_out_of_8_bit_range_are_rejected(tmp_path):
    _write_tif(tmp_path / "le07.tif", _slc_off())
    with pytest.raises(SceneRejected, match=r"le07\.tif holds values from 0 to 8\d+, not 8-bit"):
        _fetch(tmp_path, "le07.tif", values="display")


def _netcdf(path, *, georeferenced=True, variables=("z",)):
    """A grid as GMT (x/y only) or as a CF netCDF with a grid mapping writes it."""
    rows, cols = SHAPE
    grid = netcdf_file(path, "w")
    grid.createDimension("x", cols)
    grid.createDimension("y", rows)
    x = grid.createVariable("x", "d", ("x",))
    x[:] = ORIGIN[0] + 50 + 100 * np.arange(cols)
    y = grid.createVariable("y", "d", ("y",))
    y[:] = ORIGIN[1] - 50 - 100 * np.arange(rows)[::-1]
    if georeferenced:
        x.standard_name, y.standard_name = "projection_x_coordinate", "projection_y_coordinate"
        x.units = y.units = "m"
        mapping = grid.createVariable("polar_stereographic", "c", ())
        mapping.spatial_ref = CRS.from_epsg(3413).to_wkt().encode("ascii", "replace").decode()
    else:
        x.long_name, y.long_name = "x", "y"
    for name in variables:
        z = grid.createVariable(name, "f", ("y", "x"))
        z[:] = np.linspace(-25.0, 0.0, cols, dtype=np.float32)[np.newaxis].repeat(rows, 0)
        if georeferenced:
            z.grid_mapping = "polar_stereographic"
    grid.close()


def test_a_cf_netcdf_grid_is_read(tmp_path):
    _netcdf(tmp_path / "sigma0.nc")
    raster, _ = _fetch(tmp_path, "sigma0.nc", sensor="terrasarx", sar_quantity="db")
    assert np.isfinite(raster.band).all()
    assert raster.band[10, 5] < raster.band[10, -5] < 0


@pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")
@pytest.mark.parametrize(
    "name, make, words",
    [
        ("gmt.grd", lambda p: _netcdf(p, georeferenced=False), "no georeference"),
        ("native.grd", lambda p: p.write_bytes(b"\x00" * 4096), "cannot read"),
        ("two.nc", lambda p: _netcdf(p, variables=("z", "z2")), "holds several grids (z, z2)"),
    ],
)
def test_unreadable_grids_are_rejected_with_how_to_convert_them(tmp_path, name, make, words):
    make(tmp_path / name)
    with pytest.raises(SceneRejected) as caught:
        _fetch(tmp_path, name, sensor="terrasarx", sar_quantity="db")
    reason = str(caught.value)
    assert str(tmp_path / name) in reason and words in reason
    assert "gdal_translate -of GTiff" in reason or "gmt grdconvert" in reason


@pytest.mark.parametrize(
    "name, scene_id",
    [
        ("glacier_scène", "glacier_scene"),
        ("Storstrømmen 2020-07-01", "Storstrommen_2020-07-01"),
        ("Sermeq Kujalleq (Jakobshavn Isbræ)", "Sermeq_Kujalleq_Jakobshavn_Isbrae"),
        ("ĸangerdlugssuaq", "qangerdlugssuaq"),
        ("TSX1_SAR__SSC", "TSX1_SAR__SSC"),  # names already safe keep their id
    ],
)
def test_scene_ids_of_unicode_names_are_readable(name, scene_id):
    assert safe_scene_id(name) == scene_id


def test_names_of_other_alphabets_keep_distinct_ids():
    first, second = safe_scene_id("ледник_1"), safe_scene_id("glacier_1")
    assert first != second and first.startswith("1_")
    assert safe_scene_id("冰川") != safe_scene_id("冰河")


def test_unicode_file_names_are_listed_and_collisions_refused(tmp_path):
    for name in ("glacier_scène.tif", "glacier_scene.tif"):
        _write_tif(tmp_path / name, _slc_off())
    (tmp_path / "manifest.csv").write_text(
        "path,sensor,acquired\n"
        "glacier_scène.tif,landsat7,2003-07-01\n"
        "glacier_scene.tif,landsat7,2003-07-02\n",
        encoding="utf-8",
    )
    glacier = _glacier(tmp_path / "manifest.csv")
    settings = glacier.sensors["landsat7"]
    listed = local.list_scenes(glacier, settings, settings.options)
    assert [s.scene_id for s in listed] == ["glacier_scene"]
    assert listed[0].href.endswith("glacier_scène.tif")
    # The second name gives the same id: set aside with the line, never silently merged.
    (rejected,) = listed.rejected
    assert "line 3" in rejected.reason and "already used on line 2" in rejected.reason
