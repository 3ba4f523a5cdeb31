"""The stac source against a loopback STAC API and range-request file server."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timezone

import numpy as np
import pytest
import rasterio
from rasterio.warp import Resampling, reproject
from servers.scenes import make_glacier

from calvingfronts.glaciers.config import SensorSettings
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.manifest import Scene
from calvingfronts.scenes.sensors import SENSORS, to_physical
from calvingfronts.sources import grid_read, stac
from calvingfronts.sources.http import ArchiveError

# The loopback archives (tests/servers); tests/conftest.py may import the same fixtures.
pytest_plugins = ["servers.fixtures"]

SUMMER = (date(2023, 6, 1), date(2023, 8, 31))
PIXEL = {"sentinel2": 20.0, "landsat8": 30.0, "sentinel1": 40.0}


def setup(sensor: str, start=SUMMER[0], end=SUMMER[1]):
    settings = SensorSettings(sensor, "stac", PIXEL[sensor], start, end)
    glacier = make_glacier({sensor: settings})
    return glacier, settings, glacier.grid(sensor)


def listed(archive, sensor, **options):
    glacier, settings, _ = setup(sensor)
    return stac.list_scenes(glacier, settings, archive.options(**options))


def fetch(archive, scene: Scene, **options):
    glacier, _, grid = setup(scene.sensor)
    return stac.fetch_scene(scene, glacier, grid, archive.options(**options))


def by_id(scenes):
    return {s.scene_id: s for s in scenes}


def fraction_read(archive, scene: Scene) -> tuple[int, int]:
    path = "/" + scene.href.split("/", 3)[3]
    return archive.file_server.bytes_sent[path], archive.file_server.files[path].stat().st_size


# --- pure helpers -----------------------------------------------------------------------------


def test_choose_overview_takes_the_coarsest_level_still_fine_enough():
    assert grid_read.choose_overview(10.0, [2, 4, 8], 30.0) == 0  # 20 m overview for a 30 m grid
    assert grid_read.choose_overview(10.0, [2, 4, 8], 40.0) == 1
    assert grid_read.choose_overview(10.0, [2, 4, 8], 10.0) is None
    assert grid_read.choose_overview(30.0, [], 30.0) is None


def test_datetime_interval_covers_whole_days_and_open_end_means_now():
    assert stac.datetime_interval(date(2020, 1, 1), date(2020, 1, 31)) == (
        "2020-01-01T00:00:00Z/2020-01-31T23:59:59Z"
    )
    now = datetime(2024, 5, 6, 7, 8, 9, 123, tzinfo=timezone.utc)
    assert stac.datetime_interval(date(2020, 1, 1), None, now).endswith("/2024-05-06T07:08:09Z")


def test_query_and_filter_express_the_same_conditions():
    opts = {"max_cloud_cover": 20, "platforms": ["landsat-8"]}
    query = stac.search_query(opts, optical=True)
    assert query == {"eo:cloud_cover": {"lte": 20.0}, "platform": {"in": ["landsat-8"]}}
    assert stac.search_filter(query)["op"] == "and"
    assert stac.search_query({"max_cloud_cover": 20}, optical=False) == {}


def test_sentinel2_offset_follows_the_processing_baseline():
    opts = stac.sensor_options("sentinel2", {})
    asset = {"href": "x"}
    old = {"properties": {"s2:processing_baseline": "03.01"}}
    new = {"properties": {"s2:processing_baseline": "04.00"}}
    assert stac.optical_scale_offset(old, asset, opts)[:2] == (1e-4, 0.0)
    assert stac.optical_scale_offset(new, asset, opts)[:2] == (1e-4, -0.1)
    stated = {"raster:bands": [{"scale": 2e-4, "offset": -0.5, "nodata": 7}]}
    assert stac.optical_scale_offset(new, stated, opts) == (2e-4, -0.5, 7)


def test_cloud_fraction_of_landsat_qa_and_sentinel2_scl():
    qa = np.array([[1, 64, 64, 8], [2, 64, 16, 64]], dtype=np.uint16)  # 1: fill
    assert stac.cloud_fraction(qa, "landsat_qa_pixel", {}) == pytest.approx(3 / 7)
    scl = np.array([[0, 11, 9, 3]], dtype=np.uint8)
    assert stac.cloud_fraction(scl, "sentinel2_scl", {}) == pytest.approx(2 / 3)
    assert stac.cloud_fraction(np.zeros((2, 2), np.uint8), "sentinel2_scl", {}) is None


def test_defaults_name_working_public_archives():
    s2 = stac.sensor_options("sentinel2", {})
    assert s2["url"] == stac.EARTH_SEARCH and s2["collection"] == "sentinel-2-l2a"
    l8 = stac.sensor_options("landsat8", {})
    assert l8["collection"] == "landsat-c2-l2" and l8["sign"] == "planetary_computer"
    s1 = stac.sensor_options("sentinel1", {})
    assert s1["assets"] == ["hh", "vv"] and s1["sar_quantity"] == "amplitude"
    with pytest.raises(ValueError, match="signer"):
        stac.sensor_options("sentinel2", {"sign": "nope"})


# --- listing ----------------------------------------------------------------------------------


def test_list_sentinel2_filters_by_area_dates_and_cloud_cover(stac_archive):
    scenes = listed(stac_archive, "sentinel2")
    assert [s.scene_id for s in scenes] == [
        "S2A_22WEC_20230701_0_L2A",
        "S2A_22WEC_20230711_0_L2A",
        "S2B_22WEC_20230714_0_L2A",
        "S2A_22WEC_20230721_0_L2A",
        "S2B_22WEC_20230724_0_L2A",
    ]  # not the 96 % cloudy one, not 2022, not east Greenland
    first = scenes[0]
    assert first.acquired == datetime(2023, 7, 1, 15, 3, 21, tzinfo=timezone.utc)
    assert first.cloud_cover == 4.0
    assert first.href.endswith("/B04.tif") and first.properties["asset"] == "red"
    assert first.properties["qa_kind"] == "sentinel2_scl"
    search = stac_archive.api.searches[0]
    assert search["collections"] == ["sentinel-2-l2a"]
    assert search["query"]["eo:cloud_cover"] == {"lte": 80.0}
    west, south, east, north = search["bbox"]
    assert -50.0 < west < east < -49.6 and 69.1 < south < north < 69.3


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_list_pages_through_next_links(stac_archive, method):
    scenes = listed(stac_archive, "sentinel2", page_size=2, search_method=method)
    assert len(scenes) == 5
    assert len(stac_archive.api.searches) >= 3  # 2 + 2 + 1 results (and filtered ones)
    assert {s["method"] for s in stac_archive.api.searches} == {method}


def test_list_uses_cql2_filter_where_query_is_not_supported(stac_archive):
    stac_archive.api.conformance = [
        c for c in stac_archive.api.conformance if not c.endswith("#query")
    ]
    scenes = listed(stac_archive, "landsat8")
    assert [s.scene_id for s in scenes] == [
        "LC08_L2SP_009011_20230702_02_T1",
        "LC08_L2SP_009011_20230718_02_T1",
    ]
    assert "query" not in stac_archive.api.searches[0]
    assert stac_archive.api.searches[0]["filter"]["op"] == "and"


def test_list_filters_by_itself_when_the_api_filters_nothing(stac_archive):
    stac_archive.api.conformance = [
        c for c in stac_archive.api.conformance if "#query" not in c and "#filter" not in c
    ]
    ids = [s.scene_id for s in listed(stac_archive, "sentinel2", max_cloud_cover=50)]
    assert "S2B_22WEC_20230704_0_L2A" not in ids and len(ids) == 5
    assert [s.scene_id for s in listed(stac_archive, "landsat8")][0].startswith("LC08")


def test_listing_twice_gives_identical_records(stac_archive):
    # Snakemake reruns a fetch when its record changes; nothing time-varying may be in it.
    first = [s.to_json() for s in listed(stac_archive, "sentinel1")]
    second = [s.to_json() for s in listed(stac_archive, "sentinel1")]
    assert first == second


def test_signing_happens_at_fetch_not_in_the_manifest(stac_archive, monkeypatch):
    import planetary_computer

    signed = []

    def fake_sign(href):
        signed.append(href)
        return href  # loopback URLs need no signature

    monkeypatch.setattr(planetary_computer, "sign", fake_sign)
    scenes = listed(stac_archive, "landsat8", sign="planetary_computer")
    assert signed == [] and "?" not in scenes[0].href
    fetch(stac_archive, scenes[0], sign="planetary_computer")
    assert scenes[0].href in signed and scenes[0].properties["qa_href"] in signed


# --- fetching ---------------------------------------------------------------------------------


def local_reference(path, grid, resampling, overview_level=None, nodata=0):
    """The same band read whole from the local file and reprojected: what fetch must match."""
    kwargs = {} if overview_level is None else {"OVERVIEW_LEVEL": overview_level}
    with rasterio.open(path, **kwargs) as src:
        data = src.read(1)
        out = np.zeros(grid.shape, data.dtype)
        gcps, gcp_crs = src.gcps
        georef = (
            {"gcps": gcps, "src_crs": gcp_crs}
            if src.crs is None
            else {"src_transform": src.transform, "src_crs": src.crs}
        )
        reproject(
            data,
            out,
            dst_transform=grid.transform,
            dst_crs=grid.crs,
            src_nodata=nodata,
            dst_nodata=nodata,
            resampling=resampling,
            **georef,
        )
    return out


@pytest.mark.parametrize(
    "sensor, scene_id, file_key, overview_level",
    [
        ("sentinel2", "S2A_22WEC_20230701_0_L2A", "s2_red", 0),
        ("landsat8", "LC08_L2SP_009011_20230702_02_T1", "ls_red", None),
        (
            "sentinel1",
            "S1A_EW_GRDM_1SDH_20230705T101010_20230705T101110_049000_05E4A1",
            "s1_grd",
            1,
        ),
    ],
)
def test_fetch_reads_a_small_window_onto_the_grid(
    stac_archive, sensor, scene_id, file_key, overview_level
):
    scene = by_id(listed(stac_archive, sensor))[scene_id]
    stac_archive.file_server.bytes_sent.clear()
    started = time.monotonic()
    raster = fetch(stac_archive, scene)
    seconds = time.monotonic() - started
    _, _, grid = setup(sensor)
    assert raster.data.shape == (1, *grid.shape)
    assert raster.transform == grid.transform and raster.crs == grid.crs
    assert raster.tags["SENSOR"] == sensor and raster.tags["SCENE_ID"] == scene_id
    assert raster.tags["ACQUIRED"] == scene.acquired.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert raster.nodata == 0
    sent, size = fraction_read(stac_archive, scene)
    print(
        f"\n{sensor} {scene_id}: read {sent:,} of {size:,} bytes ({100 * sent / size:.1f} %), "
        f"overview x{raster.tags['OVERVIEW_FACTOR']}, {seconds:.2f} s"
    )
    assert sent < 0.2 * size
    # Same pixels as reprojecting the whole (local) file at the same resolution level.
    reference = local_reference(
        stac_archive.files[file_key], grid, Resampling.bilinear, overview_level
    )
    valid = (raster.data[0] != 0) & (reference != 0)
    assert valid.mean() > 0.95
    diff = np.abs(raster.data[0].astype(float) - reference.astype(float))[valid]
    assert np.median(diff) <= 1 and np.percentile(diff, 99) <= 5
    physical = to_physical(
        raster.data[0],
        SENSORS[sensor],
        nodata=raster.nodata,
        scale=raster.scales[0],
        offset=raster.offsets[0],
        sar_quantity=raster.tags.get("SAR_QUANTITY", "amplitude"),
    )
    assert np.isfinite(physical).mean() > 0.95


def test_fetch_sentinel2_scales_and_cloud_tag(stac_archive):
    scene = by_id(listed(stac_archive, "sentinel2"))["S2A_22WEC_20230701_0_L2A"]
    raster = fetch(stac_archive, scene)
    assert raster.scales == (1e-4,) and raster.offsets == (-0.1,)
    assert raster.tags["CLOUD_FRACTION"] == "0.0000"
    assert raster.tags["OVERVIEW_FACTOR"] == "2"


def test_fetch_landsat_scales(stac_archive):
    scene = listed(stac_archive, "landsat8")[0]
    raster = fetch(stac_archive, scene)
    assert raster.scales == (2.75e-5,) and raster.offsets == (-0.2,)
    assert "SAR_QUANTITY" not in raster.tags


def test_fetch_sentinel1_prefers_hh_and_falls_back_to_vv(stac_archive):
    hh, vv = listed(stac_archive, "sentinel1")
    assert hh.properties["asset"] == "hh" and vv.properties["asset"] == "vv"
    raster = fetch(stac_archive, vv)
    assert raster.tags["SAR_QUANTITY"] == "amplitude" and raster.tags["ASSET"] == "vv"
    assert raster.scales == (1.0,) and raster.offsets == (0.0,)


@pytest.mark.parametrize(
    "sensor, scene_id, percent",
    [
        ("sentinel2", "S2A_22WEC_20230711_0_L2A", 70.0),  # 7 of 10 rows cloudy
        ("landsat8", "LC08_L2SP_009011_20230718_02_T1", 80.0),  # 4 of 5 columns cloudy
    ],
)
def test_fetch_rejects_a_scene_cloudy_over_the_glacier(stac_archive, sensor, scene_id, percent):
    scene = by_id(listed(stac_archive, sensor))[scene_id]
    stac_archive.file_server.bytes_sent.clear()
    with pytest.raises(SceneRejected) as caught:
        fetch(stac_archive, scene)
    assert caught.value.stage == "fetch"
    match = re.fullmatch(
        r"cloud cover over the area of interest ([\d.]+)% exceeds the limit 50%",
        caught.value.reason,
    )
    assert match and float(match.group(1)) == pytest.approx(percent, abs=1.5)
    sent, _ = fraction_read(stac_archive, scene)
    assert sent == 0  # decided on the QA layer alone; the band itself was never read
    fetch(stac_archive, scene, max_aoi_cloud_cover=90)  # a looser limit lets it through


def test_fetch_rejects_a_scene_without_valid_pixels(stac_archive):
    scene = by_id(listed(stac_archive, "sentinel2"))["S2B_22WEC_20230714_0_L2A"]
    with pytest.raises(SceneRejected, match="no valid pixels over the area of interest"):
        fetch(stac_archive, scene)


# --- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, kwargs, message",
    [
        ("status", {"status": 500}, "500"),
        ("status", {"status": 503}, "503"),
        ("slow", {"delay": 4}, "timed out|Timeout"),
        ("badjson", {}, "Expecting|JSON|Unterminated|delimiter"),
        ("html", {}, "Expecting value|JSON|HTML"),
        ("reset", {}, "Connection|connection|Remote"),
    ],
)
def test_search_faults_end_in_a_clear_error(stac_archive, kind, kwargs, message):
    stac_archive.api_server.inject("/search", kind, **kwargs)
    started = time.monotonic()
    with pytest.raises(ArchiveError, match=message) as caught:
        listed(stac_archive, "sentinel2")
    assert "STAC search at http://127.0.0.1" in str(caught.value)
    assert time.monotonic() - started < 15
    print(f"\nsearch fault {kind}: {caught.value}")


def test_search_survives_a_transient_failure(stac_archive):
    stac_archive.api_server.inject("/search", "status", status=503, times=1)
    assert len(listed(stac_archive, "sentinel2")) == 5


def test_search_fails_clearly_on_an_unreachable_api(stac_archive):
    glacier, settings, _ = setup("sentinel2")
    options = {**stac_archive.options(), "url": "http://127.0.0.1:9/"}
    with pytest.raises(ArchiveError, match="STAC search at http://127.0.0.1:9/"):
        stac.list_scenes(glacier, settings, options)


FETCH_FAULTS = [  # fault, its settings, the reason, whether a later run should retry
    ("vanished", None, "404", False),
    ("status", {"status": 500}, "500", True),
    ("slow", {"delay": 5}, "imed out|imeout", True),
    ("wrong_length", {}, "could not read", False),
    ("truncate", {"keep": 0.1}, "could not read", False),
    ("html", {}, "could not read", False),
]


@pytest.mark.parametrize("kind, kwargs, message, transient", FETCH_FAULTS)
def test_fetch_faults_end_as_rejections(stac_archive, kind, kwargs, message, transient):
    scene = by_id(listed(stac_archive, "sentinel2"))["S2A_22WEC_20230701_0_L2A"]
    path = "/" + scene.href.split("/", 3)[3]
    if kind == "vanished":
        del stac_archive.file_server.files[path]  # gone between search and fetch
    else:
        stac_archive.file_server.inject(path, kind, **kwargs)
    started = time.monotonic()
    with pytest.raises(SceneRejected, match=message) as caught:
        fetch(stac_archive, scene)
    assert caught.value.stage == "fetch"
    assert caught.value.transient == transient
    assert time.monotonic() - started < 30
    print(f"\nfetch fault {kind}: {caught.value.reason[:160]}")


def test_an_archive_fault_is_retried_on_the_next_run_only(stac_archive, tmp_path):
    from calvingfronts.raster_io import read_raster
    from calvingfronts.workflow.pipeline import fetch_attempts, fetch_stage

    scene = by_id(listed(stac_archive, "sentinel2"))["S2A_22WEC_20230701_0_L2A"]
    glacier, _, _ = setup("sentinel2")
    config = {"sources": {"stac": stac_archive.options(retries=0)}}
    output = str(tmp_path / "scene.tif")
    path = "/" + scene.href.split("/", 3)[3]
    stac_archive.file_server.inject(path, "status", status=503, times=1000)
    fetch_stage(config, glacier, scene, output)
    with pytest.raises(SceneRejected, match="attempt 1 of 5; retried when the target is re-run"):
        read_raster(output)
    assert fetch_attempts(output) == 1  # the workflow passes this count as a parameter
    stac_archive.file_server.faults.clear()
    # A new run is a new process; here GDAL's in-process cache of the failure must be bypassed.
    with rasterio.Env(CPL_VSIL_CURL_NON_CACHED=f"/vsicurl/{stac_archive.url.rsplit(':', 1)[0]}"):
        fetch_stage(config, glacier, scene, output)
    assert read_raster(output).data.any()
    assert fetch_attempts(output) == 1, "a success keeps the count: no needless refetch"


@pytest.mark.parametrize("scene_id", ["S2A_22WEC_20230721_0_L2A", "S2B_22WEC_20230724_0_L2A"])
def test_fetch_rejects_truncated_and_corrupt_files(stac_archive, scene_id):
    scene = by_id(listed(stac_archive, "sentinel2"))[scene_id]
    with pytest.raises(SceneRejected, match="could not read asset 'red'") as caught:
        fetch(stac_archive, scene)
    print(f"\n{scene_id}: {caught.value.reason[:160]}")


def test_fetch_survives_a_transient_failure(stac_archive):
    scene = by_id(listed(stac_archive, "sentinel2"))["S2A_22WEC_20230701_0_L2A"]
    path = "/" + scene.href.split("/", 3)[3]
    stac_archive.file_server.inject(path, "status", status=503, times=1)
    assert fetch(stac_archive, scene).data.any()


def test_one_scene_per_acquisition_keeps_the_best_covering_granule(stac_archive):
    twin = dict(stac_archive.items["S2A_22WEC_20230701_0_L2A"])
    twin["id"] = "S2A_22WED_20230701_0_L2A"  # the neighbouring tile, same datatake
    twin["geometry"] = {
        "type": "Polygon",
        "coordinates": [
            [[-49.9, 69.17], [-49.5, 69.17], [-49.5, 69.5], [-49.9, 69.5], [-49.9, 69.17]]
        ],
    }
    stac_archive.api.items.append(twin)
    ids = [s.scene_id for s in listed(stac_archive, "sentinel2")]
    assert "S2A_22WEC_20230701_0_L2A" in ids and "S2A_22WED_20230701_0_L2A" not in ids
