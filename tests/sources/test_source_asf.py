"""The asf source against a fake SearchAPI and a token-protected download server."""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
import pytest
from servers.catalogue import ASF_GRD, ASF_RTC, ASF_SLC
from servers.scenes import make_glacier
from shapely import wkt

from calvingfronts.glaciers.config import SensorSettings
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.manifest import Scene
from calvingfronts.sources import asf
from calvingfronts.sources.http import ArchiveError

# The loopback archives (tests/servers); tests/conftest.py may import the same fixtures.
pytest_plugins = ["servers.fixtures"]

PIXEL = {"sentinel1": 40.0, "alos1": 25.0}
ALL_S1_LEVELS = ["GRD_HD", "GRD_MD", "SLC"]


def setup(sensor, start=date(2023, 6, 1), end=date(2023, 8, 31)):
    settings = SensorSettings(sensor, "asf", PIXEL[sensor], start, end)
    glacier = make_glacier({sensor: settings})
    return glacier, settings, glacier.grid(sensor)


def listed(archive, tmp_path, sensor="sentinel1", **extra):
    glacier, settings, _ = setup(
        sensor, *((date(2010, 1, 1), date(2010, 12, 31)) if sensor == "alos1" else ())
    )
    return asf.list_scenes(glacier, settings, archive.options(tmp_path / "dl", **extra))


def fetch(archive, tmp_path, scene: Scene, **extra):
    glacier, _, grid = setup(scene.sensor)
    return asf.fetch_scene(scene, glacier, grid, archive.options(tmp_path / "dl", **extra))


def by_name(scenes):
    return {s.properties["file_name"].removesuffix(".zip"): s for s in scenes}


def test_unusable_reasons():
    usable = asf.DEFAULT_OPTIONS["usable_levels"]
    assert asf.unusable_reason("GRD_HD", "x.zip", usable) is None
    assert asf.unusable_reason("RTC_HI_RES", "x.zip", usable) is None
    assert "radar processing" in asf.unusable_reason("SLC", "x.zip", usable)
    assert "radar processing" in asf.unusable_reason("L1.0", "x.zip", usable)
    assert "CEOS" in asf.unusable_reason("L1.5", "x.zip", usable)
    assert "not images" in asf.unusable_reason("METADATA_GRD_HD", "x.iso.xml", usable)
    assert asf.sar_quantity_for("RTC_LOW_RES") == "power"
    assert asf.sar_quantity_for("GRD_MD") == "amplitude"


def test_pick_member_prefers_polarizations_in_order():
    names = [
        "P.SAFE/manifest.safe",
        "P.SAFE/measurement/s1a-ew-grd-hv-20230706t101010-001.tiff",
        "P.SAFE/measurement/s1a-ew-grd-hh-20230706t101010-001.tiff",
        "P.SAFE/preview/quick-look.png",
    ]
    assert asf.pick_member(names, ["HH", "HV"]).endswith("-hh-20230706t101010-001.tiff")
    assert asf.pick_member(names, ["VV", "HV"]).endswith("-hv-20230706t101010-001.tiff")
    rtc = ["A/A_HH.tif", "A/A_ls_map.tif", "A/A_inc_map.tif"]
    assert asf.pick_member(rtc, ["VV", "HH"]) == "A/A_HH.tif"
    assert asf.pick_member(["A/A_ls_map.tif"], ["HH"]) is None


def test_list_sentinel1_searches_by_outline_platform_and_dates(asf_archive, tmp_path):
    scenes = listed(asf_archive, tmp_path, processing_levels=ALL_S1_LEVELS)
    found = by_name(scenes)
    assert set(found) == {ASF_GRD, ASF_SLC}
    grd, slc = found[ASF_GRD], found[ASF_SLC]
    assert grd.source == "asf" and "unusable" not in grd.properties
    assert grd.properties["sar_quantity"] == "amplitude" and grd.cloud_cover is None
    assert "radar processing" in slc.properties["unusable"]
    search = asf_archive.api.searches[-1]
    assert search["platform"] == "Sentinel-1" and search["output"] == "geojson"
    assert search["processingLevel"] == "GRD_HD,GRD_MD,SLC"
    assert search["start"] == "2023-06-01T00:00:00Z" and search["end"] == "2023-08-31T23:59:59Z"
    outline = wkt.loads(search["intersectsWith"])
    assert outline.geom_type == "Polygon" and -50.0 < outline.centroid.x < -49.6


def test_default_levels_list_only_grd(asf_archive, tmp_path):
    assert set(by_name(listed(asf_archive, tmp_path))) == {ASF_GRD}


def test_fetch_grd_reads_the_safe_measurement_from_gcps(asf_archive, tmp_path):
    grd = by_name(listed(asf_archive, tmp_path))[ASF_GRD]
    raster = fetch(asf_archive, tmp_path, grd)
    _, _, grid = setup("sentinel1")
    assert raster.data.shape == (1, *grid.shape)
    assert (raster.data != 0).mean() > 0.95
    assert raster.tags["SAR_QUANTITY"] == "amplitude" and "-hh-" in raster.tags["MEMBER"]
    assert raster.tags["SCENE_ID"] == grd.scene_id and raster.tags["SENSOR"] == "sentinel1"
    sent = asf_archive.server.bytes_sent[f"/download/{ASF_GRD}.zip"]
    assert sent == grd.properties["bytes"]  # the whole product, once
    download = [r for r in asf_archive.server.requests if r.path.startswith("/download/")][0]
    assert download.headers["Authorization"] == f"Bearer {asf_archive.token}"
    assert list((tmp_path / "dl").iterdir()) == []  # product removed after reading


def test_fetch_keeps_and_reuses_downloads_when_asked(asf_archive, tmp_path):
    grd = by_name(listed(asf_archive, tmp_path))[ASF_GRD]
    fetch(asf_archive, tmp_path, grd, keep_downloads=True)
    fetch(asf_archive, tmp_path, grd, keep_downloads=True)
    downloads = [r for r in asf_archive.server.requests if r.path.startswith("/download/")]
    assert len(downloads) == 1
    assert [p.name for p in (tmp_path / "dl").iterdir()] == [f"{ASF_GRD}.zip"]


def test_fetch_alos_rtc_is_power(asf_archive, tmp_path):
    rtc = by_name(listed(asf_archive, tmp_path, "alos1"))[ASF_RTC]
    raster = fetch(asf_archive, tmp_path, rtc)
    assert raster.tags["SAR_QUANTITY"] == "power" and raster.data.dtype == np.float32
    assert raster.tags["MEMBER"].endswith("_HH.tif") and (raster.data > 0).mean() > 0.5


def test_unusable_product_is_rejected_without_download(asf_archive, tmp_path):
    slc = by_name(listed(asf_archive, tmp_path, processing_levels=ALL_S1_LEVELS))[ASF_SLC]
    with pytest.raises(SceneRejected, match="radar processing") as caught:
        fetch(asf_archive, tmp_path, slc)
    assert caught.value.stage == "fetch"
    assert not any(r.path.startswith("/download/") for r in asf_archive.server.requests)


@pytest.mark.parametrize(
    "kind, kwargs, message",
    [
        ("status", {"status": 500}, "HTTP 500"),
        ("wrong_length", {}, "broke off"),
        ("truncate", {}, "archive lists"),
        ("html", {}, "HTML page"),
        ("vanished", None, "HTTP 404"),
    ],
)
def test_download_faults_are_rejections_and_leave_no_file(
    asf_archive, tmp_path, caplog, kind, kwargs, message
):
    grd = by_name(listed(asf_archive, tmp_path))[ASF_GRD]
    path = f"/download/{ASF_GRD}.zip"
    if kind == "vanished":
        del asf_archive.server.files[path]
    else:
        asf_archive.server.inject(path, kind, **kwargs)
    with caplog.at_level(logging.DEBUG), pytest.raises(SceneRejected, match=message) as caught:
        fetch(asf_archive, tmp_path, grd)
    dl = tmp_path / "dl"
    assert not dl.exists() or list(dl.iterdir()) == []
    assert asf_archive.token not in caplog.text
    assert asf_archive.token not in str(caught.value) and asf_archive.token not in repr(
        caught.value.as_record()
    )
    print(f"\nasf fault {kind}: {caught.value.reason}")


def test_token_never_appears_in_logs_or_errors(asf_archive, tmp_path, caplog, monkeypatch):
    grd = by_name(listed(asf_archive, tmp_path))[ASF_GRD]
    with caplog.at_level(logging.DEBUG):
        raster = fetch(asf_archive, tmp_path, grd)
        monkeypatch.setenv("EARTHDATA_TOKEN", "EDL-wrong-token-0000")
        with pytest.raises(ArchiveError, match="EARTHDATA_TOKEN was refused") as refused:
            fetch(asf_archive, tmp_path, grd)
        monkeypatch.delenv("EARTHDATA_TOKEN")
        with pytest.raises(ArchiveError, match="EARTHDATA_TOKEN") as missing:
            fetch(asf_archive, tmp_path, grd)
    for secret in (asf_archive.token, "EDL-wrong-token-0000"):
        assert secret not in caplog.text
        assert secret not in str(refused.value) and secret not in str(missing.value)
        assert secret not in str(raster.tags) and secret not in grd.to_json()


def test_token_comes_only_from_the_environment(asf_archive, tmp_path, monkeypatch):
    monkeypatch.delenv("EARTHDATA_TOKEN")
    grd = by_name(listed(asf_archive, tmp_path))[ASF_GRD]
    with pytest.raises(ArchiveError, match="EARTHDATA_TOKEN"):
        fetch(asf_archive, tmp_path, grd, token=asf_archive.token, earthdata_token="x")


@pytest.mark.parametrize(
    "kind, kwargs, message",
    [
        ("status", {"status": 500}, "HTTP 500"),
        ("html", {}, "HTML page"),
        ("badjson", {}, "invalid JSON"),
        ("slow", {"delay": 4}, "timed out|Timeout"),
    ],
)
def test_search_faults_end_in_a_clear_error(asf_archive, tmp_path, kind, kwargs, message):
    asf_archive.server.inject("/services/search/param", kind, **kwargs)
    with pytest.raises(ArchiveError, match=message) as caught:
        listed(asf_archive, tmp_path)
    assert "ASF search at http://127.0.0.1" in str(caught.value)
    print(f"\nasf search fault {kind}: {caught.value}")
