"""Scenes from any STAC API: search by area and dates, read only the glacier's window.

The defaults work anonymously today: Sentinel-2 L2A from Earth Search (AWS), Landsat
Collection 2 Level-2 and Sentinel-1 GRD from Microsoft Planetary Computer (assets signed at
fetch time; the signature is free and short-lived, so it never goes into a manifest).

Pixels are never downloaded whole: :mod:`calvingfronts.sources.grid_read` reads only the
tiles under the area of interest, from the coarsest overview still as fine as the grid, and
places Sentinel-1 GRD files by their ground control points.
"""

from __future__ import annotations

import logging
import math
from datetime import date, datetime, time, timezone

import numpy as np
import shapely
from pyproj import Transformer
from rasterio.errors import RasterioError
from shapely import segmentize
from shapely.geometry import box, shape

from calvingfronts.glaciers.config import GlacierConfig, SensorSettings
from calvingfronts.grid import GlacierGrid
from calvingfronts.raster_io import Raster
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.manifest import Scene, format_utc, parse_utc, safe_scene_id
from calvingfronts.scenes.sensors import get_sensor
from calvingfronts.sources.grid_read import GridRead, read_onto_grid
from calvingfronts.sources.http import (
    HTTP_OPTIONS,
    ArchiveError,
    HttpSettings,
    describe,
    is_transient,
    redact,
    redact_url,
    retry_policy,
)

log = logging.getLogger(__name__)

EARTH_SEARCH = "https://earth-search.aws.element84.com/v1"
PLANETARY_COMPUTER = "https://planetarycomputer.microsoft.com/api/stac/v1"

# Options every sensor starts from; a sensor's defaults, then the config, override them.
DEFAULT_OPTIONS: dict = {
    "max_cloud_cover": 80.0,  # percent of the whole scene (eo:cloud_cover), at search
    "max_aoi_cloud_cover": 50.0,  # percent of the area of interest (QA layer), at fetch
    "page_size": 100,
    "max_items": None,
    "search_method": "POST",
    "resampling": "bilinear",
    "sign": None,
}

_LANDSAT_C2_L2 = {
    "url": PLANETARY_COMPUTER,
    "collection": "landsat-c2-l2",
    "assets": ["red"],
    "qa_asset": "qa_pixel",
    "qa_kind": "landsat_qa_pixel",
    # QA_PIXEL bits: 1 dilated cloud, 2 cirrus, 3 cloud, 4 cloud shadow (bit 0 is fill).
    "cloud_bits": [1, 2, 3, 4],
    "qa_nodata": 1,  # the fill bit: outside the scene counts as no data, not as clear
    "scale": 2.75e-5,
    "offset": -0.2,
    "nodata": 0,
    "sign": "planetary_computer",
}

DEFAULT_SENSOR_OPTIONS: dict[str, dict] = {
    "sentinel2": {
        "url": EARTH_SEARCH,
        "collection": "sentinel-2-l2a",
        "assets": ["red"],  # B04, 10 m
        "qa_asset": "scl",
        "qa_kind": "sentinel2_scl",
        # Scene classification: 3 cloud shadow, 8/9 cloud medium/high probability, 10 cirrus.
        "cloud_classes": [3, 8, 9, 10],
        "qa_nodata": 0,  # class 0: no data
        "scale": 1e-4,
        "offset": None,  # from the processing baseline: -0.1 from 04.00 on, else 0
        "nodata": 0,
    },
    "landsat5": {**_LANDSAT_C2_L2, "platforms": ["landsat-5"]},
    "landsat7": {**_LANDSAT_C2_L2, "platforms": ["landsat-7"]},
    "landsat8": {**_LANDSAT_C2_L2, "platforms": ["landsat-8"]},
    "landsat9": {**_LANDSAT_C2_L2, "platforms": ["landsat-9"]},
    "sentinel1": {
        "url": PLANETARY_COMPUTER,
        "collection": "sentinel-1-grd",
        "assets": ["hh", "vv"],  # Greenland is mostly imaged in HH; VV where HH is absent
        "scale": 1.0,
        "offset": 0.0,
        "nodata": 0,
        "sar_quantity": "amplitude",  # GRD digital numbers
        "max_cloud_cover": None,
        "max_aoi_cloud_cover": None,
        "sign": "planetary_computer",
    },
}

SIGNERS = ("planetary_computer",)

# Every option this source reads, in `sources.stac` or a sensor's block; any other key is
# refused by calvingfronts.config (a typo must not silently mean a default).
OPTIONS = HTTP_OPTIONS | {
    "url",
    "collection",
    "assets",
    "platforms",
    "max_cloud_cover",
    "max_aoi_cloud_cover",
    "page_size",
    "max_items",
    "search_method",
    "resampling",
    "sign",
    "qa_asset",
    "qa_kind",
    "qa_nodata",
    "cloud_bits",
    "cloud_classes",
    "scale",
    "offset",
    "nodata",
    "sar_quantity",
}


def sensor_options(sensor: str, options: dict) -> dict:
    """Built-in defaults, then the sensor's defaults, then the configured options."""
    merged = {**DEFAULT_OPTIONS, **DEFAULT_SENSOR_OPTIONS.get(sensor, {}), **options}
    for key in ("url", "collection"):
        if not merged.get(key):
            raise ValueError(f"stac source: sensor {sensor} needs option '{key}'")
    if isinstance(merged.get("assets"), str):
        merged["assets"] = [merged["assets"]]
    if not merged.get("assets"):
        raise ValueError(f"stac source: sensor {sensor} needs option 'assets'")
    if merged.get("sign") not in (None, *SIGNERS):
        raise ValueError(f"stac source: unknown signer {merged['sign']!r}; known: {SIGNERS}")
    return merged


# --- search -----------------------------------------------------------------------------------


def aoi_wgs84(aoi: tuple[float, float, float, float], crs: str):
    """The area of interest as a WGS84 polygon, densified so its edges follow the projection."""
    xmin, ymin, xmax, ymax = aoi
    step = max(xmax - xmin, ymax - ymin) / 20
    to_lonlat = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)
    return shapely.transform(
        segmentize(box(*aoi), step), lambda x, y: to_lonlat.transform(x, y), interleaved=False
    )


def datetime_interval(start: date, end: date | None, now: datetime | None = None) -> str:
    """An RFC 3339 interval covering whole days from ``start`` to ``end`` (None: now)."""
    first = datetime.combine(start, time.min, tzinfo=timezone.utc)
    if end is None:
        last = (now or datetime.now(timezone.utc)).replace(microsecond=0)
    else:
        last = datetime.combine(end, time(23, 59, 59), tzinfo=timezone.utc)
    return f"{format_utc(first)}/{format_utc(last)}"


def search_query(opts: dict, optical: bool) -> dict:
    """The STAC ``query`` extension body for cloud cover and platform."""
    query: dict = {}
    if optical and opts.get("max_cloud_cover") is not None:
        query["eo:cloud_cover"] = {"lte": float(opts["max_cloud_cover"])}
    if opts.get("platforms"):
        query["platform"] = {"in": list(opts["platforms"])}
    return query


def search_filter(query: dict) -> dict | None:
    """The same conditions as a CQL2-JSON filter, for APIs with ``filter`` but no ``query``."""
    args = []
    if "eo:cloud_cover" in query:
        limit = query["eo:cloud_cover"]["lte"]
        args.append({"op": "<=", "args": [{"property": "eo:cloud_cover"}, limit]})
    if "platform" in query:
        args.append({"op": "in", "args": [{"property": "platform"}, query["platform"]["in"]]})
    if not args:
        return None
    return args[0] if len(args) == 1 else {"op": "and", "args": args}


def optical_scale_offset(item: dict, asset: dict, opts: dict) -> tuple[float, float, float | None]:
    """The asset's encoding: ``raster:bands`` when the archive states it, else the defaults.

    Sentinel-2 L2A from processing baseline 04.00 (January 2022) on adds 1000 to every count,
    hence the -0.1 offset; earlier scenes have none.
    """
    band = (asset.get("raster:bands") or [{}])[0]
    scale = band.get("scale", opts.get("scale"))
    offset = band.get("offset", opts.get("offset"))
    nodata = band.get("nodata", opts.get("nodata"))
    if offset is None:
        baseline = str(item.get("properties", {}).get("s2:processing_baseline", "0"))
        try:
            offset = -0.1 if float(baseline) >= 4.0 else 0.0
        except ValueError:
            offset = 0.0
    return float(1.0 if scale is None else scale), float(offset), nodata


def pick_asset(item: dict, names: list[str]) -> str | None:
    """The first of the wanted asset keys that the item has (e.g. HH, else VV)."""
    assets = item.get("assets") or {}
    return next((name for name in names if name in assets), None)


def aoi_coverage(footprint, aoi_lonlat) -> float:
    """Share of the area of interest inside an item's footprint (degrees are fine for a ratio
    over a few tens of kilometres), rounded so that listings stay byte-identical."""
    if not footprint.intersects(aoi_lonlat):
        return 0.0
    return round(footprint.intersection(aoi_lonlat).area / aoi_lonlat.area, 3)


def one_per_acquisition(scenes: list[Scene]) -> list[Scene]:
    """One scene per acquisition: the granule that covers most of the area of interest.

    A Sentinel-2 datatake is cut into 110 km tiles that overlap; a glacier near a tile edge
    comes in two or three items with the same platform and time, which are the same pixels.
    """
    best: dict[tuple, Scene] = {}
    for scene in scenes:
        key = (scene.properties.get("platform"), scene.acquired)
        coverage = scene.properties.get("aoi_coverage") or 0.0
        kept = best.get(key)
        if kept is None or coverage > (kept.properties.get("aoi_coverage") or 0.0):
            best[key] = scene
    return list(best.values())


def item_to_scene(
    item: dict,
    glacier: GlacierConfig,
    settings: SensorSettings,
    opts: dict,
    aoi_lonlat=None,
) -> Scene | None:
    """The scene record of one STAC item, or None when the item is not usable here.

    Filters are applied here too, not only in the search: an API may ignore the ``query``
    extension, and a bounding box in longitude/latitude is looser than the polar AOI.
    """
    props = item.get("properties") or {}
    asset_key = pick_asset(item, opts["assets"])
    if asset_key is None:
        log.info("item %s has none of the assets %s; skipped", item.get("id"), opts["assets"])
        return None
    if opts.get("platforms") and props.get("platform") not in opts["platforms"]:
        return None
    cloud = props.get("eo:cloud_cover")
    limit = opts.get("max_cloud_cover")
    sensor = get_sensor(settings.sensor)
    if not sensor.is_sar and limit is not None and cloud is not None and cloud > limit:
        return None
    coverage = None
    if aoi_lonlat is not None and item.get("geometry"):
        coverage = aoi_coverage(shape(item["geometry"]), aoi_lonlat)
        if coverage == 0:
            return None
    acquired = parse_utc(props.get("datetime") or props["start_datetime"])
    asset = item["assets"][asset_key]
    scale, offset, nodata = optical_scale_offset(item, asset, opts)
    properties = {
        "collection": item.get("collection"),
        "item_id": item["id"],
        "asset": asset_key,
        "scale": scale,
        "offset": offset,
        "nodata": nodata,
        "platform": props.get("platform"),
    }
    if coverage is not None:
        properties["aoi_coverage"] = coverage
    qa_key = opts.get("qa_asset")
    if not sensor.is_sar and qa_key and qa_key in item["assets"]:
        properties["qa_href"] = item["assets"][qa_key]["href"]
        properties["qa_kind"] = opts.get("qa_kind")
    if sensor.is_sar:
        properties["sar_quantity"] = opts.get("sar_quantity", "amplitude")
    return Scene(
        scene_id=safe_scene_id(item["id"]),
        glacier=glacier.name,
        sensor=settings.sensor,
        source="stac",
        acquired=acquired,
        href=asset["href"],
        cloud_cover=None if cloud is None else float(cloud),
        properties=properties,
    )


def _open_client(opts: dict, http: HttpSettings):
    from pystac_client import Client
    from pystac_client.stac_api_io import StacApiIO

    stac_io = StacApiIO(timeout=http.timeout, max_retries=retry_policy(http.retries, http.backoff))
    # The timeout goes to open() too: it would otherwise reset the one given to StacApiIO.
    return Client.open(opts["url"], stac_io=stac_io, timeout=http.timeout)


def list_scenes(glacier: GlacierConfig, settings: SensorSettings, options: dict) -> list[Scene]:
    """Every usable item of the sensor's collection over the glacier in the date range."""
    from pystac_client.conformance import ConformanceClasses

    opts = sensor_options(settings.sensor, options)
    http = HttpSettings.from_options(opts)
    optical = not get_sensor(settings.sensor).is_sar
    aoi_lonlat = aoi_wgs84(glacier.aoi, glacier.grid(settings.sensor).crs)
    where = f"STAC search at {redact_url(opts['url'])} (collection {opts['collection']})"
    try:
        client = _open_client(opts, http)
        query = search_query(opts, optical)
        extra: dict = {}
        if query and client.conforms_to(ConformanceClasses.QUERY):
            extra["query"] = query
        elif query and client.conforms_to(ConformanceClasses.FILTER):
            extra["filter"] = search_filter(query)
            extra["filter_lang"] = "cql2-json"
        search = client.search(
            method=opts["search_method"],
            collections=[opts["collection"]],
            bbox=list(aoi_lonlat.bounds),
            datetime=datetime_interval(settings.start, settings.end),
            limit=int(opts["page_size"]),
            max_items=opts.get("max_items"),
            **extra,
        )
        scenes: dict[str, Scene] = {}
        for item in search.items_as_dicts():
            scene = item_to_scene(item, glacier, settings, opts, aoi_lonlat)
            if scene is not None:
                scenes.setdefault(scene.scene_id, scene)
    except ArchiveError:
        raise
    except Exception as error:  # pystac-client wraps HTTP, JSON and protocol errors variously
        status = getattr(error, "status_code", None)
        kind = f"HTTP {status}" if status else type(error).__name__
        if isinstance(error, ValueError) and "JSON" in type(error).__name__:
            kind = "the answer is not JSON (an HTML error page or a broken response)"
        raise ArchiveError(f"{where} failed: {kind}: {redact(error)}") from None
    kept = one_per_acquisition(list(scenes.values()))
    log.info(
        "%s: %d scenes (%d duplicate granules left out)", where, len(kept), len(scenes) - len(kept)
    )
    return sorted(kept, key=lambda s: (s.acquired, s.scene_id))


# --- cloud screening --------------------------------------------------------------------------


def cloud_fraction(qa: np.ndarray, kind: str, opts: dict) -> float | None:
    """Cloudy share of the QA layer's valid pixels (None: no valid QA pixel at all)."""
    if kind == "landsat_qa_pixel":
        values = qa.astype(np.uint32)
        valid = (values & 1) == 0
        mask = sum(1 << int(bit) for bit in opts.get("cloud_bits", [1, 2, 3, 4]))
        cloudy = (values & mask) != 0
    elif kind == "sentinel2_scl":
        valid = qa != 0
        cloudy = np.isin(qa, [int(c) for c in opts.get("cloud_classes", [3, 8, 9, 10])])
    else:
        raise ValueError(f"unknown QA layer kind {kind!r}")
    total = int(valid.sum())
    if total == 0:
        return None
    return float((cloudy & valid).sum()) / total


def signed(href: str, signer: str | None) -> str:
    """The URL to read: signed now when the archive wants it (signatures expire)."""
    if signer is None or not href.startswith(("http://", "https://")):
        return href
    if signer == "planetary_computer":
        import planetary_computer

        return planetary_computer.sign(href)
    raise ValueError(f"unknown signer {signer!r}")


def _read(href: str, what: str, grid, http, opts, **kwargs) -> GridRead:
    """read_onto_grid with every failure turned into the scene's rejection."""
    try:
        return read_onto_grid(signed(href, opts.get("sign")), grid, http, **kwargs)
    except (RasterioError, OSError, ValueError, RuntimeError) as error:
        message = redact(describe(error))
        raise SceneRejected(
            "fetch",
            f"could not read {what} from {redact_url(href)}: {message}",
            transient=is_transient(message),
        ) from None


def valid_mask(data: np.ndarray, nodata) -> np.ndarray:
    valid = np.isfinite(data) if data.dtype.kind == "f" else np.ones(data.shape, bool)
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        valid &= data != nodata
    return valid


def fetch_scene(scene: Scene, glacier: GlacierConfig, grid: GlacierGrid, options: dict) -> Raster:
    """The scene's band on the glacier grid, after screening clouds and empty coverage."""
    opts = sensor_options(scene.sensor, options)
    http = HttpSettings.from_options(opts)
    props = scene.properties
    tags = {
        "SENSOR": scene.sensor,
        "SCENE_ID": scene.scene_id,
        "ACQUIRED": format_utc(scene.acquired),
        "SOURCE": "stac",
        "ASSET": str(props.get("asset")),
        "HREF": redact_url(scene.href),
    }
    qa_href = props.get("qa_href")
    limit = opts.get("max_aoi_cloud_cover")
    if qa_href:
        qa = _read(
            qa_href,
            "the QA layer",
            grid,
            http,
            opts,
            resampling="nearest",
            nodata=opts.get("qa_nodata"),
        )
        fraction = cloud_fraction(qa.data, props["qa_kind"], opts)
        if fraction is None:
            raise SceneRejected("fetch", "no valid pixels over the area of interest")
        tags["CLOUD_FRACTION"] = f"{fraction:.4f}"
        if limit is not None and fraction * 100 > float(limit):
            raise SceneRejected(
                "fetch",
                f"cloud cover over the area of interest {fraction * 100:.1f}% exceeds the "
                f"limit {float(limit):g}%",
            )
    nodata = props.get("nodata", opts.get("nodata"))
    band = _read(
        scene.href,
        f"asset '{props.get('asset')}'",
        grid,
        http,
        opts,
        resampling=opts["resampling"],
        nodata=nodata,
    )
    if not valid_mask(band.data, nodata).any():
        raise SceneRejected("fetch", "no valid pixels over the area of interest")
    tags["OVERVIEW_FACTOR"] = str(band.overview_factor)
    if get_sensor(scene.sensor).is_sar:
        tags["SAR_QUANTITY"] = props.get("sar_quantity", opts.get("sar_quantity", "amplitude"))
    return Raster(
        data=band.data[np.newaxis],
        transform=grid.transform,
        crs=grid.crs,
        nodata=None if nodata is None else float(nodata),
        scales=(float(props.get("scale", opts.get("scale") or 1.0)),),
        offsets=(float(props.get("offset") or 0.0),),
        tags=tags,
    )
