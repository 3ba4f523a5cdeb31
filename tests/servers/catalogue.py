"""The test archives' contents: STAC items and ASF products over the written files.

Each item gets its own URL paths on the file server (several items may share one file on
disk), so per-URL byte counts belong to one scene and GDAL's in-process HTTP cache never
serves one scene's bytes to another.
"""

from __future__ import annotations

from .asf_api import geometry_of, product_feature
from .http_server import LoopbackServer
from .scenes import ArchiveFiles, asset, footprint, item, rtc_zip, safe_zip

S2 = "sentinel-2-l2a"
LANDSAT = "landsat-c2-l2"
S1 = "sentinel-1-grd"

# Far from Jakobshavn (Kangerlussuaq Glacier, east Greenland): must never be listed.
ELSEWHERE = {
    "type": "Polygon",
    "coordinates": [
        [
            [-33.5, 68.5],
            [-32.5, 68.5],
            [-32.5, 69.0],
            [-33.5, 69.0],
            [-33.5, 68.5],
        ]
    ],
}


def _serve(server: LoopbackServer, files: ArchiveFiles, item_id: str, name: str, key: str):
    return server.serve_file(f"/{item_id}/{name}", files[key])


def s2_item(
    server,
    files,
    item_id,
    when,
    cloud,
    red="s2_red",
    scl="s2_scl_clear",
    geometry=None,
    baseline="05.09",
):
    assets = {"red": asset(_serve(server, files, item_id, "B04.tif", red), 1e-4, -0.1)}
    if scl:
        assets["scl"] = asset(_serve(server, files, item_id, "SCL.tif", scl))
    return item(
        item_id,
        S2,
        when,
        geometry or footprint(files["s2_red"]),
        assets,
        **{"eo:cloud_cover": cloud, "platform": "sentinel-2a", "s2:processing_baseline": baseline},
    )


def landsat_item(server, files, item_id, when, cloud, platform="landsat-8", qa="ls_qa_clear"):
    assets = {
        "red": asset(_serve(server, files, item_id, "SR_B4.TIF", "ls_red"), 2.75e-5, -0.2),
        "qa_pixel": asset(_serve(server, files, item_id, "QA_PIXEL.TIF", qa), nodata=1),
    }
    return item(
        item_id,
        LANDSAT,
        when,
        footprint(files["ls_red"]),
        assets,
        **{"eo:cloud_cover": cloud, "platform": platform},
    )


def s1_item(server, files, item_id, when, polarization="hh"):
    assets = {polarization: asset(_serve(server, files, item_id, f"{polarization}.tiff", "s1_grd"))}
    return item(
        item_id,
        S1,
        when,
        footprint(files["s1_grd"]),
        assets,
        **{"platform": "SENTINEL-1A", "sar:polarizations": [polarization.upper()]},
    )


def stac_items(server: LoopbackServer, files: ArchiveFiles) -> dict[str, dict]:
    """The catalogue, by item id; the comment says what each item is there to show."""
    items = [
        # Sentinel-2: a clear scene; one filtered by scene cloud cover at search; one cloudy
        # over the glacier only (rejected at fetch with the fraction); one empty over the
        # glacier; one outside the dates; one elsewhere in Greenland; a truncated file.
        s2_item(server, files, "S2A_22WEC_20230701_0_L2A", "2023-07-01T15:03:21Z", 4.0),
        s2_item(server, files, "S2B_22WEC_20230704_0_L2A", "2023-07-04T15:13:19Z", 96.0),
        s2_item(
            server,
            files,
            "S2A_22WEC_20230711_0_L2A",
            "2023-07-11T15:03:21Z",
            31.0,
            scl="s2_scl_cloudy",
        ),
        s2_item(
            server,
            files,
            "S2B_22WEC_20230714_0_L2A",
            "2023-07-14T15:13:19Z",
            2.0,
            red="s2_empty",
            scl=None,
        ),
        s2_item(server, files, "S2A_22WEC_20220701_0_L2A", "2022-07-01T15:03:21Z", 1.0),
        s2_item(
            server,
            files,
            "S2A_25WER_20230702_0_L2A",
            "2023-07-02T14:00:00Z",
            1.0,
            geometry=ELSEWHERE,
        ),
        s2_item(
            server,
            files,
            "S2A_22WEC_20230721_0_L2A",
            "2023-07-21T15:03:21Z",
            3.0,
            red="s2_truncated",
            scl=None,
        ),
        s2_item(
            server,
            files,
            "S2B_22WEC_20230724_0_L2A",
            "2023-07-24T15:13:19Z",
            3.0,
            red="s2_corrupt",
            scl=None,
        ),
        # Landsat: a clear Landsat 8 scene, a Landsat 9 one (not for landsat8), a cloudy one.
        landsat_item(
            server, files, "LC08_L2SP_009011_20230702_02_T1", "2023-07-02T14:48:00Z", 12.0
        ),
        landsat_item(
            server,
            files,
            "LC09_L2SP_009011_20230703_02_T1",
            "2023-07-03T14:48:00Z",
            10.0,
            platform="landsat-9",
        ),
        landsat_item(
            server,
            files,
            "LC08_L2SP_009011_20230718_02_T1",
            "2023-07-18T14:48:00Z",
            40.0,
            qa="ls_qa_cloudy",
        ),
        # Sentinel-1 GRD: HH (Greenland's usual mode) and a VV-only scene (the fallback).
        s1_item(
            server,
            files,
            "S1A_EW_GRDM_1SDH_20230705T101010_20230705T101110_049000_05E4A1",
            "2023-07-05T10:10:10Z",
        ),
        s1_item(
            server,
            files,
            "S1A_IW_GRDH_1SDV_20230709T101010_20230709T101110_049060_05E6B2",
            "2023-07-09T10:10:10Z",
            polarization="vv",
        ),
    ]
    return {i["id"]: i for i in items}


ASF_GRD = "S1A_EW_GRDM_1SDH_20230706T101010_20230706T101110_049015_05E4F0_7C1A"
ASF_SLC = "S1A_IW_SLC__1SDH_20230708T101010_20230708T101040_049045_05E5C0_11AB"
ASF_RTC = "AP_26710_FBS_F1350_RT1"


def asf_features(server: LoopbackServer, files: ArchiveFiles) -> list[dict]:
    """ASF products: a usable GRD, an SLC (listed as unusable), an ALOS RTC GeoTIFF zip."""
    grd = safe_zip(files, ASF_GRD)
    rtc = rtc_zip(files, ASF_RTC)
    slc_path = files.root / "asf" / f"{ASF_SLC}.zip"  # never written: must not be downloaded
    server.serve_file(f"/download/{grd.name}", grd)
    server.serve_file(f"/download/{rtc.name}", rtc)
    area = geometry_of((-50.5, 68.7, -48.5, 69.6))
    return [
        product_feature(
            grd,
            server.url,
            scene_name=ASF_GRD,
            level="GRD_MD",
            platform="Sentinel-1A",
            start="2023-07-06T10:10:10Z",
            geometry=area,
        ),
        product_feature(
            slc_path,
            server.url,
            scene_name=ASF_SLC,
            level="SLC",
            platform="Sentinel-1A",
            start="2023-07-08T10:10:10Z",
            geometry=area,
            beam_mode="IW",
        ),
        product_feature(
            rtc,
            server.url,
            scene_name="ALPSRP267101350",
            level="RTC_HI_RES",
            platform="ALOS",
            start="2010-07-06T01:02:03Z",
            geometry=area,
            beam_mode="FBS",
        ),
    ]
