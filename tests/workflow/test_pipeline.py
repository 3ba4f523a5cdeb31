"""The per-scene stages: a rejection anywhere travels down the chain to the record."""

import json
from datetime import date, datetime, timezone

import numpy as np
import pytest
from shapely.geometry import box

from calvingfronts.glaciers.config import GlacierConfig, SensorSettings
from calvingfronts.raster_io import read_raster
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.manifest import Scene
from calvingfronts.workflow.pipeline import fetch_stage, preprocess_stage, vectorize_stage

AOI = (-160000.0, -2207500.0, -140000.0, -2192500.0)


@pytest.fixture
def glacier(tmp_path):
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("path,sensor,acquired\n")
    settings = SensorSettings(
        "alos2", "local", 200.0, date(2020, 1, 1), None, {"manifest": str(manifest)}
    )
    return GlacierConfig("test", AOI, box(*AOI).buffer(-3000), 250.0, {"alos2": settings})


def _scene(href):
    return Scene("S1", "test", "alos2", "local", datetime(2020, 5, 1, tzinfo=timezone.utc), href)


def test_a_fetch_failure_travels_to_the_record(glacier, tmp_path):
    scene = _scene(str(tmp_path / "absent.tif"))
    fetched, image = tmp_path / "fetched.tif", tmp_path / "image.tif"
    fetch_stage({}, glacier, scene, str(fetched))
    with pytest.raises(SceneRejected, match="file not found"):
        read_raster(fetched)
    preprocess_stage(glacier, scene, str(fetched), str(image), "equalize", 0.3)
    with pytest.raises(SceneRejected) as caught:
        read_raster(image)
    assert caught.value.stage == "fetch", "the stage that stopped the scene is kept"
    # The probability stage is skipped here: vectorize reads the same marker format.
    record = vectorize_stage(glacier, scene, str(image), str(tmp_path / "S1.json"), {})
    assert record["status"] == "rejected" and record["stage"] == "fetch"
    assert json.loads((tmp_path / "S1.json").read_text())["reason"].startswith("file not found")


def test_an_unexpected_error_becomes_a_rejection_with_its_type(glacier, tmp_path):
    scene = _scene(str(tmp_path / "x.tif"))
    not_a_raster = tmp_path / "fetched.tif"
    not_a_raster.write_text("<html>502 Bad Gateway</html>")
    preprocess_stage(
        glacier, scene, str(not_a_raster), str(tmp_path / "image.tif"), "equalize", 0.3
    )
    with pytest.raises(SceneRejected) as caught:
        read_raster(tmp_path / "image.tif")
    assert caught.value.stage == "preprocess"
    assert "RasterioIOError" in caught.value.reason


def test_preprocess_screens_coverage_over_the_fjord(glacier, tmp_path):
    import rasterio

    grid = glacier.grid("alos2")
    data = np.full(grid.shape, 500, dtype=np.uint16)
    data[:, : grid.width * 3 // 4] = 0  # three quarters nodata
    path = tmp_path / "fetched.tif"
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=grid.width,
        height=grid.height,
        count=1,
        dtype="uint16",
        crs=grid.crs,
        transform=grid.transform,
        nodata=0,
    ) as dst:
        dst.write(data, 1)
    preprocess_stage(glacier, _scene("x"), str(path), str(tmp_path / "image.tif"), "equalize", 0.5)
    with pytest.raises(SceneRejected, match=r"only \d+\.\d% of the fjord"):
        read_raster(tmp_path / "image.tif")
    preprocess_stage(glacier, _scene("x"), str(path), str(tmp_path / "ok.tif"), "equalize", 0.1)
    image = read_raster(tmp_path / "ok.tif")
    assert np.isnan(image.band[:, :10]).all() and np.isfinite(image.band[:, -10:]).all()
    assert image.tags["HISTOGRAM"] == "equalize"


def test_probabilities_are_stored_as_bytes_and_read_back(tmp_path):
    from affine import Affine

    from calvingfronts.raster_io import write_raster
    from calvingfronts.workflow.pipeline import decode_probability, encode_probability

    rng = np.random.default_rng(0)
    bands = rng.random((9, 30, 40), dtype=np.float32)
    valid = np.ones((30, 40), dtype=bool)
    valid[:5] = False
    raster = encode_probability(bands, valid, Affine(50, 0, 0, 0, -50, 1500), "EPSG:3413", {})
    write_raster(tmp_path / "p.tif", raster)
    back = read_raster(tmp_path / "p.tif")
    assert back.data.dtype == np.uint8 and back.data.shape == (9, 30, 40)
    decoded = decode_probability(back)
    assert np.isnan(decoded[:, :5]).all()
    assert np.abs(decoded[:, 5:] - bands[:, 5:]).max() <= 0.5 / 254 + 1e-6


def test_a_zone_models_probability_raster_is_vectorized_from_its_zones(tmp_path):
    """The zone bands travel in the probability raster (tag ZONES) and the front is drawn
    from them where the head's own line is partial; ``fronts_from: head`` rejects it."""
    from affine import Affine

    from calvingfronts.raster_io import write_raster
    from calvingfronts.workflow.pipeline import encode_probability, probability_bands

    pixel, height, width = 200.0, 75, 100
    transform = Affine(pixel, 0, AOI[0], 0, -pixel, AOI[3])
    settings = SensorSettings("landsat8", "local", pixel, date(2020, 1, 1), None, {})
    fjord = box(AOI[0] + 2000, AOI[1], AOI[2] - 2000, AOI[3])  # columns 10-90
    glacier = GlacierConfig("test", AOI, fjord, 0.0, {"landsat8": settings})
    rows, cols = np.mgrid[0:height, 0:width]
    head = np.exp(-((rows - 40.0) ** 2) / 2.0) * ((cols > 30) & (cols < 60))
    ocean = rows < 40
    zones = np.stack([np.full(ocean.shape, 0.05), np.where(ocean, 0.1, 0.85), 0.0 * rows])
    zones[2] = 1.0 - zones[0] - zones[1]
    members = np.stack([head, head])
    bands = np.concatenate([members.mean(axis=0, keepdims=True), members, zones])
    tags = {"MEMBERS": "identity,mirror_lr", "ZONES": "rock,glacier,ocean"}
    path = tmp_path / "p.tif"
    valid = np.ones(ocean.shape, bool)
    write_raster(path, encode_probability(bands, valid, transform, "EPSG:3413", tags))
    read_members, read_zones, names = probability_bands(read_raster(path))
    assert read_members.shape == (2, height, width) and read_zones.shape == (3, height, width)
    assert names == ("rock", "glacier", "ocean")

    options = {"threshold": 0.5, "min_length_m": 1000, "min_span_fraction": 0.6}
    scene = Scene("S1", "test", "landsat8", "local", datetime(2020, 5, 1, tzinfo=timezone.utc), "x")
    record = vectorize_stage(
        glacier, scene, str(path), str(tmp_path / "z.json"), {**options, "fronts_from": "zones"}
    )
    assert record["status"] == "accepted" and record["quality"]["drawn_from"] == "zones"
    assert record["quality"]["span_fraction"] == 1.0
    # The calibration is the head's: a zone front gets no bound from it.
    from calvingfronts.fronts.uncertainty import Calibration

    calibrated = vectorize_stage(
        glacier, scene, str(path), str(tmp_path / "c.json"), {**options, "fronts_from": "zones"},
        Calibration(scale=2.0, floor_px=3.0, coverage=0.9, fitted_on="-", n_fronts=10),
    )  # fmt: skip
    assert calibrated["status"] == "accepted" and "uncertainty_m" not in calibrated
    record = vectorize_stage(glacier, scene, str(path), str(tmp_path / "h.json"), options)
    assert record["status"] == "rejected" and "partial" in record["reason"]


def test_a_probability_raster_whose_bands_do_not_match_its_tags_is_named(tmp_path):
    from affine import Affine

    from calvingfronts.raster_io import write_raster
    from calvingfronts.workflow.pipeline import encode_probability, probability_bands

    bands = np.zeros((3, 10, 10), np.float32)
    tags = {"MEMBERS": "identity,mirror_lr", "ZONES": "rock,glacier,ocean"}
    raster = encode_probability(bands, np.ones((10, 10), bool), Affine(50, 0, 0, 0, -50, 500),
                                "EPSG:3413", tags)  # fmt: skip
    write_raster(tmp_path / "p.tif", raster)
    with pytest.raises(ValueError, match="3 bands cannot hold"):
        probability_bands(read_raster(tmp_path / "p.tif"))
