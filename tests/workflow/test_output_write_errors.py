"""An output we cannot write (a full disk) fails the job; it never rejects the scene.

Before, a failed write was recorded as the scene's rejection ("Write failed"), and GDAL's
silent failures left a truncated GeoTIFF under its final name that later stages rejected
as "not recognized as being in a supported file format"; a re-run then found nothing to do.
"""

import contextlib
import errno
import os
import shutil
import subprocess
from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pandas
import pytest
import rasterio
from affine import Affine
from shapely.geometry import LineString, box

from calvingfronts import raster_io
from calvingfronts.glaciers.config import GlacierConfig, SensorSettings
from calvingfronts.raster_io import OutputWriteError, Raster, atomic_path, write_raster
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.manifest import Scene
from calvingfronts.timeseries import geopackage as timeseries
from calvingfronts.workflow import pipeline
from calvingfronts.workflow.pipeline import fetch_stage, rejecting, vectorize_stage

AOI = (-160000.0, -2207500.0, -140000.0, -2192500.0)
PIXEL = 200.0


@pytest.fixture
def glacier(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,sensor,acquired\n")
    settings = SensorSettings(
        "alos2", "local", PIXEL, date(2020, 1, 1), None, {"manifest": str(manifest)}
    )
    return GlacierConfig("test", AOI, box(*AOI).buffer(-3000), 250.0, {"alos2": settings})


@pytest.fixture
def good_scene(tmp_path):
    """A readable local scene covering the glacier's area."""
    path = tmp_path / "good.tif"
    width, height = int((AOI[2] - AOI[0]) / PIXEL), int((AOI[3] - AOI[1]) / PIXEL)
    data = np.random.default_rng(0).uniform(100, 2000, (1, height, width)).astype(np.float32)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=width,
        height=height,
        count=1,
        dtype="float32",
        crs="EPSG:3413",
        transform=Affine(PIXEL, 0, AOI[0], 0, -PIXEL, AOI[3]),
        nodata=0,
    ) as dst:
        dst.write(data)
    return Scene(
        "S1", "test", "alos2", "local", datetime(2020, 5, 1, tzinfo=timezone.utc), str(path)
    )


def _raster(size=64) -> Raster:
    data = np.random.default_rng(1).uniform(0, 1, (1, size, size)).astype(np.float32)
    return Raster(data, Affine(PIXEL, 0, AOI[0], 0, -PIXEL, AOI[3]), "EPSG:3413")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@contextlib.contextmanager
def _writes_failing(monkeypatch):
    """rasterio.open for writing raises as GDAL does on a full disk; reading works."""
    real_open = rasterio.open

    def failing_open(path, mode="r", *args, **kwargs):
        if mode == "w":
            raise rasterio.errors.RasterioIOError("Write failed. No space left on device")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr(rasterio, "open", failing_open)
    yield
    monkeypatch.setattr(rasterio, "open", real_open)


def test_a_failed_raster_write_raises_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "out.tif"
    with _writes_failing(monkeypatch), pytest.raises(OutputWriteError, match="out.tif"):
        write_raster(target, _raster())
    assert not target.exists() and _leftovers(tmp_path) == []


def test_a_silently_truncated_raster_never_takes_its_final_name(tmp_path, monkeypatch):
    """GDAL may log a failed write and close normally: the read-back catches it."""
    real_open = rasterio.open

    @contextlib.contextmanager
    def truncating_open(path, mode="r", *args, **kwargs):
        with real_open(path, mode, *args, **kwargs) as dataset:
            yield dataset
        if mode == "w":
            os.truncate(path, 824)

    monkeypatch.setattr(rasterio, "open", truncating_open)
    target = tmp_path / "out.tif"
    with pytest.raises(OutputWriteError, match="out.tif"):
        write_raster(target, _raster(300))
    assert not target.exists() and _leftovers(tmp_path) == []


def test_a_verification_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "record.json"
    target.write_text("old")

    def refuse(tmp):
        raise OSError("reads back short")

    with (
        pytest.raises(OutputWriteError, match="reads back short"),
        atomic_path(target, verify=refuse) as tmp,
    ):
        Path(tmp).write_text("new")
    assert target.read_text() == "old" and _leftovers(tmp_path) == []


def test_a_fetch_that_cannot_write_fails_instead_of_rejecting(
    glacier, good_scene, tmp_path, monkeypatch
):
    output = tmp_path / "scenes" / "S1.tif"
    with _writes_failing(monkeypatch), pytest.raises(OutputWriteError):
        fetch_stage({}, glacier, good_scene, str(output))
    assert not output.exists(), "no rejection marker: a re-run fetches the scene again"
    fetch_stage({}, glacier, good_scene, str(output))
    assert raster_io.read_raster(output).band.shape == glacier.grid("alos2").shape


def test_a_full_disk_inside_a_stage_is_not_the_scenes_fault(glacier, good_scene, tmp_path):
    """An OSError of a full disk or read-only file system raised while handling the scene
    (e.g. a download cache) fails the job; other OSErrors still reject the scene."""
    output = tmp_path / "out.tif"
    for number in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
        with pytest.raises(OSError) as caught, rejecting("fetch", output, good_scene):
            raise OSError(number, os.strerror(number))
        assert caught.value.errno == number and not output.exists()
    with rejecting("fetch", output, good_scene):
        raise OSError(errno.EIO, "Input/output error reading the scene")
    with pytest.raises(SceneRejected, match="Input/output error"):
        raster_io.read_raster(output)


def test_a_record_that_cannot_be_written_fails_the_vectorize_job(
    glacier, good_scene, tmp_path, monkeypatch
):
    marker = tmp_path / "probability.tif"
    raster_io.write_rejected(marker, SceneRejected("fetch", "file not found"))
    real_write_text = Path.write_text

    def full_disk(self, *args, **kwargs):
        if self.name.endswith(".part"):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full_disk)
    output = tmp_path / "S1.json"
    with pytest.raises(OutputWriteError, match="S1.json"):
        vectorize_stage(glacier, good_scene, str(marker), str(output), {})
    assert not output.exists() and _leftovers(tmp_path) == []


def test_a_full_disk_while_counting_fetch_attempts_fails_the_job(glacier, tmp_path, monkeypatch):
    absent = Scene(
        "S1", "test", "alos2", "local", datetime(2020, 5, 1, tzinfo=timezone.utc), "x.tif"
    )

    def transient(*args, **kwargs):
        raise SceneRejected("fetch", "HTTP 503", transient=True)

    monkeypatch.setattr(pipeline.get_source("local"), "fetch_scene", transient)
    monkeypatch.setattr(
        pipeline,
        "write_text",
        lambda path, text: (_ for _ in ()).throw(OutputWriteError(path, "no space")),
    )
    output = tmp_path / "S1.tif"
    with pytest.raises(OutputWriteError, match="attempts"):
        fetch_stage({}, glacier, absent, str(output))
    assert not output.exists()


def test_a_geopackage_missing_a_layer_is_not_renamed_into_place(tmp_path, monkeypatch):
    """A layer that GDAL failed to write is caught before the file takes its name."""
    import geopandas
    import pyogrio

    fronts = geopandas.GeoDataFrame(
        {"scene_id": ["a"]}, geometry=[LineString([(0, 0), (1, 1)])], crs="EPSG:3413"
    )
    rejected = pandas.DataFrame({"scene_id": ["b"], "reason": ["r"]})
    real_write = pyogrio.write_dataframe

    def dropping_rejected(frame, path, layer=None, **kwargs):
        if layer != "rejected":
            real_write(frame, path, layer=layer, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", dropping_rejected)
    target = tmp_path / "g_fronts.gpkg"
    with pytest.raises(OutputWriteError, match="rejected"):
        timeseries.write_time_series(fronts, rejected, target)
    assert not target.exists() and _leftovers(tmp_path) == []
    monkeypatch.setattr(pyogrio, "write_dataframe", real_write)
    timeseries.write_time_series(fronts, rejected, target)
    assert len(geopandas.read_file(target, layer="rejected")) == 1


@pytest.fixture
def tiny_disk(tmp_path):
    """A 40 KiB tmpfs: needs root and a mount command; skipped elsewhere."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    folder = tmp_path / "tiny"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=40k", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_a_real_full_disk_fails_the_fetch_and_leaves_no_file(glacier, good_scene, tiny_disk):
    # Noise hardly compresses: 100 x 76 float32 pixels take about 30 kB: one fits, two do not.
    first, second = tiny_disk / "first.tif", tiny_disk / "second.tif"
    fetch_stage({}, glacier, good_scene, str(first))
    assert raster_io.read_raster(first).band.shape == glacier.grid("alos2").shape
    with pytest.raises(OutputWriteError, match="second.tif"):
        fetch_stage({}, glacier, good_scene, str(second))
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["first.tif"]
