"""Scenes from the Alaska Satellite Facility: Sentinel-1, ALOS PALSAR and ALOS-2 products.

Search goes straight to ASF's SearchAPI (``/services/search/param``, GeoJSON output) with
``requests``, not through ``asf_search``: asf_search 8+ queries NASA CMR itself, always over
``https://`` and in CMR's UMM-JSON dialect, and reports failed searches to an ASF endpoint,
so it cannot be pointed at a plain-HTTP test server nor kept off the network in tests. The
SearchAPI is the service asf_search was built on, takes the same keywords (``platform``,
``processingLevel``, ``intersectsWith``, ``start``, ``end``) and is set by one option,
``search_url``.

Downloads need a NASA Earthdata Login token, read from the environment variable
``EARTHDATA_TOKEN`` only: never from the config (configs get committed and shared), never
logged, never put in an exception message, a manifest or a raster tag.

Only products that are images on the ground can be used: GRD (zipped SAFE, GeoTIFFs with
ground control points) and radiometrically terrain-corrected GeoTIFFs. Others (SLC, RAW,
L1.0, L1.1 need focusing or multilooking; ALOS L1.5 comes in CEOS format) are listed with
that reason so the user sees them, and rejected at fetch without downloading anything.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from calvingfronts.glaciers.config import GlacierConfig, SensorSettings
from calvingfronts.grid import GlacierGrid
from calvingfronts.raster_io import Raster
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.manifest import Scene, format_utc, parse_utc, safe_scene_id
from calvingfronts.sources.grid_read import read_onto_grid
from calvingfronts.sources.http import (
    HTTP_OPTIONS,
    ArchiveError,
    DownloadError,
    HttpSettings,
    describe,
    download,
    is_transient,
    make_session,
    redact,
    redact_url,
    request_json,
)
from calvingfronts.sources.stac import aoi_wgs84, valid_mask

log = logging.getLogger(__name__)

TOKEN_VARIABLE = "EARTHDATA_TOKEN"
SEARCH_URL = "https://api.daac.asf.alaska.edu/services/search/param"
# Hosts that may see the token on a redirect; pre-signed storage URLs never do.
AUTH_DOMAINS = ("asf.alaska.edu", "earthdata.nasa.gov", "earthdatacloud.nasa.gov")

DEFAULT_OPTIONS: dict = {
    "search_url": SEARCH_URL,
    "max_results": 5000,
    "polarizations": ["HH", "VV", "HV", "VH"],  # preference order inside a product
    # Levels this workflow reads (fnmatch patterns); the others are listed as unusable.
    "usable_levels": ["GRD_*", "RTC*", "L2.1", "L2.2"],
    "download_dir": "resources/downloads/asf",
    "keep_downloads": False,
    "resampling": "bilinear",
    "nodata": 0,
}

DEFAULT_SENSOR_OPTIONS: dict[str, dict] = {
    "sentinel1": {
        "platform": "Sentinel-1",
        "processing_levels": ["GRD_HD", "GRD_MD", "GRD_MS", "GRD_HS", "GRD_FD"],
    },
    # ASF's ALOS RTC products leave out Greenland; L1.5 is listed so users see why.
    "alos1": {"platform": "ALOS", "processing_levels": ["RTC_HI_RES", "RTC_LOW_RES", "L1.5"]},
    "alos2": {"platform": "ALOS-2", "processing_levels": None},
}

# Every option this source reads, in `sources.asf` or a sensor's block; any other key is
# refused by calvingfronts.config (a typo must not silently mean a default).
OPTIONS = HTTP_OPTIONS | {
    "search_url",
    "max_results",
    "platform",
    "processing_levels",
    "beam_modes",
    "polarizations",
    "usable_levels",
    "download_dir",
    "keep_downloads",
    "resampling",
    "nodata",
    "sar_quantity",
}

_NEEDS_PROCESSING = {
    "SLC": "single-look complex data must be multilooked and geocoded",
    "RAW": "raw signal data must be focused into an image",
    "L0": "raw signal data must be focused into an image",
    "L1.0": "raw signal data must be focused into an image",
    "L1.1": "single-look complex data must be multilooked and geocoded",
    "BURST": "single-look complex bursts must be multilooked and geocoded",
}


def sensor_options(sensor: str, options: dict) -> dict:
    if sensor not in DEFAULT_SENSOR_OPTIONS and "platform" not in options:
        raise ValueError(
            f"asf source: no default platform for sensor {sensor}; set option 'platform' "
            f"(known: {', '.join(sorted(DEFAULT_SENSOR_OPTIONS))})"
        )
    return {**DEFAULT_OPTIONS, **DEFAULT_SENSOR_OPTIONS.get(sensor, {}), **options}


def unusable_reason(level: str, file_name: str, usable_levels: list[str]) -> str | None:
    """Why a product of ``level`` cannot be used here (None: it can)."""
    upper = (level or "").upper()
    if any(fnmatch.fnmatch(upper, pattern.upper()) for pattern in usable_levels):
        if file_name.lower().endswith(".zip"):
            return None
        return f"{level} product {file_name} is not a zip of GeoTIFFs"
    if upper in _NEEDS_PROCESSING:
        return (
            f"{level} products need radar processing this workflow does not do "
            f"({_NEEDS_PROCESSING[upper]})"
        )
    if upper == "L1.5":
        return "L1.5 products come in CEOS format, which this workflow does not read"
    return f"{level} products are not images this workflow can read"


def sar_quantity_for(level: str) -> str:
    """RTC products hold gamma-nought power; GRD and ALOS-2 L2.x hold amplitude numbers."""
    return "power" if (level or "").upper().startswith("RTC") else "amplitude"


def search_parameters(glacier: GlacierConfig, settings: SensorSettings, opts: dict) -> dict:
    """The SearchAPI keywords for one sensor over the glacier's area and dates."""
    # ~100 m simplification: the SearchAPI refuses overly detailed shapes.
    outline = aoi_wgs84(glacier.aoi, glacier.grid(settings.sensor).crs).simplify(1e-3)
    end = settings.end
    params = {
        "platform": opts["platform"],
        "intersectsWith": outline.wkt,
        "start": f"{settings.start.isoformat()}T00:00:00Z",
        "end": (
            f"{end.isoformat()}T23:59:59Z"
            if end is not None
            else format_utc(datetime.now(timezone.utc))
        ),
        "output": "geojson",
        "maxResults": int(opts["max_results"]),
    }
    if opts.get("processing_levels"):
        params["processingLevel"] = ",".join(opts["processing_levels"])
    if opts.get("beam_modes"):
        params["beamMode"] = ",".join(opts["beam_modes"])
    return params


def feature_to_scene(
    feature: dict, glacier: GlacierConfig, settings: SensorSettings, opts: dict
) -> Scene:
    props = feature["properties"]
    level = props.get("processingLevel") or ""
    file_name = props.get("fileName") or props["url"].rsplit("/", 1)[-1]
    properties = {
        "processing_level": level,
        "file_name": file_name,
        "bytes": props.get("bytes"),
        "md5": props.get("md5sum"),
        "platform": props.get("platform"),
        "polarization": props.get("polarization"),
        "beam_mode": props.get("beamModeType"),
        "sar_quantity": opts.get("sar_quantity") or sar_quantity_for(level),
    }
    reason = unusable_reason(level, file_name, opts["usable_levels"])
    if reason:
        properties["unusable"] = reason
    return Scene(
        scene_id=safe_scene_id(props.get("fileID") or props["sceneName"]),
        glacier=glacier.name,
        sensor=settings.sensor,
        source="asf",
        acquired=parse_utc(props["startTime"]),
        href=props["url"],
        cloud_cover=None,
        properties=properties,
    )


def list_scenes(glacier: GlacierConfig, settings: SensorSettings, options: dict) -> list[Scene]:
    opts = sensor_options(settings.sensor, options)
    http = HttpSettings.from_options(opts)
    params = search_parameters(glacier, settings, opts)
    what = f"ASF search at {redact_url(opts['search_url'])}"
    with make_session(http) as session:
        document = request_json(session, "POST", opts["search_url"], http, what, data=params)
    if not isinstance(document, dict) or not isinstance(document.get("features"), list):
        raise ArchiveError(f"{what}: the answer is not a GeoJSON FeatureCollection")
    scenes: dict[str, Scene] = {}
    for feature in document["features"]:
        try:
            scene = feature_to_scene(feature, glacier, settings, opts)
        except (KeyError, TypeError, ValueError) as error:
            raise ArchiveError(f"{what}: malformed product record ({error!r})") from None
        scenes.setdefault(scene.scene_id, scene)
    if len(document["features"]) >= params["maxResults"]:
        log.warning(
            "%s returned the maximum of %d results; raise max_results or narrow the "
            "dates to see the rest",
            what,
            params["maxResults"],
        )
    log.info("%s: %d products", what, len(scenes))
    return sorted(scenes.values(), key=lambda s: (s.acquired, s.scene_id))


# --- fetch ------------------------------------------------------------------------------------

_SKIP_MEMBER = re.compile(r"(?i)(browse|preview|quick-?look|thumb|ls_map|inc_map|dem|rgb|mask)")


def pick_member(names: list[str], polarizations: list[str]) -> str | None:
    """The GeoTIFF of the first available polarization inside a product zip."""
    tiffs = [
        n for n in names if n.lower().endswith((".tif", ".tiff")) and not _SKIP_MEMBER.search(n)
    ]
    for pol in polarizations:
        token = re.compile(rf"(?i)(^|[-_./]){pol}([-_.]|$)")
        for name in sorted(tiffs):
            if token.search(name.rsplit("/", 1)[-1]):
                return name
    return None


def earthdata_token() -> str:
    token = os.environ.get(TOKEN_VARIABLE, "").strip()
    if not token:
        raise ArchiveError(
            f"ASF downloads need a NASA Earthdata Login token in the environment variable "
            f"{TOKEN_VARIABLE} (create one at https://urs.earthdata.nasa.gov under "
            "'Generate Token')"
        )
    return token


def _download_product(scene: Scene, opts: dict, http: HttpSettings, token: str) -> Path:
    """The product zip on local disk, downloaded and verified unless already there."""
    props = scene.properties
    target = Path(opts["download_dir"]) / props["file_name"]
    expected = props.get("bytes")
    expected = int(expected) if expected not in (None, "") else None
    if target.exists() and (expected is None or target.stat().st_size == expected):
        return target
    headers = {"Authorization": f"Bearer {token}"}
    with make_session(http, headers=headers, auth_domains=AUTH_DOMAINS) as session:
        try:
            download(
                session,
                scene.href,
                target,
                http,
                expected_size=expected,
                expected_md5=props.get("md5") or None,
            )
        except DownloadError as error:
            message = redact(error, (token,))
            if re.search(r"HTTP 40[13]\b", message):
                raise ArchiveError(
                    f"{message}: the Earthdata token in {TOKEN_VARIABLE} was refused (expired, "
                    "or the ASF data-use agreement not yet accepted for this account)"
                ) from None
            raise SceneRejected("fetch", message, transient=is_transient(message)) from None
    return target


def fetch_scene(scene: Scene, glacier: GlacierConfig, grid: GlacierGrid, options: dict) -> Raster:
    props = scene.properties
    if props.get("unusable"):
        raise SceneRejected("fetch", props["unusable"])
    opts = sensor_options(scene.sensor, options)
    http = HttpSettings.from_options(opts)
    token = earthdata_token()
    product = _download_product(scene, opts, http, token)
    try:
        try:
            with zipfile.ZipFile(product) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile as error:
            raise SceneRejected(
                "fetch", f"{props['file_name']} is not a valid zip: {error}"
            ) from None
        member = pick_member(names, list(opts["polarizations"]))
        if member is None:
            raise SceneRejected(
                "fetch",
                f"{props['file_name']} holds no GeoTIFF in {', '.join(opts['polarizations'])}",
            )
        nodata = opts.get("nodata")
        try:
            band = read_onto_grid(
                f"/vsizip/{product.resolve()}/{member}",
                grid,
                http,
                resampling=opts["resampling"],
                nodata=nodata,
            )
        except Exception as error:  # rasterio/GDAL errors of a damaged product
            raise SceneRejected(
                "fetch", f"could not read {member}: {redact(describe(error), (token,))}"
            ) from None
    finally:
        if not opts.get("keep_downloads"):
            product.unlink(missing_ok=True)
    if not valid_mask(band.data, nodata).any():
        raise SceneRejected("fetch", "no valid pixels over the area of interest")
    return Raster(
        data=band.data[np.newaxis],
        transform=grid.transform,
        crs=grid.crs,
        nodata=None if nodata is None else float(nodata),
        scales=(1.0,),
        offsets=(0.0,),
        tags={
            "SENSOR": scene.sensor,
            "SCENE_ID": scene.scene_id,
            "ACQUIRED": format_utc(scene.acquired),
            "SAR_QUANTITY": props.get("sar_quantity")
            or sar_quantity_for(props.get("processing_level", "")),
            "SOURCE": "asf",
            "PRODUCT": props["file_name"],
            "MEMBER": member,
            "PROCESSING_LEVEL": str(props.get("processing_level")),
        },
    )
