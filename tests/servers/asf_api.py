"""A fake ASF SearchAPI: ``/services/search/param`` answering GeoJSON, like the real one.

Products are served for download by the same loopback server under ``/download/``, behind
an Earthdata bearer token (401 without it), as ASF's download hosts do.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import parse_qs

from shapely import wkt
from shapely.geometry import mapping, shape

from calvingfronts.scenes.manifest import parse_utc

from .http_server import Request, Response

SEARCH_PATH = "/services/search/param"


def product_feature(
    path: Path,
    base_url: str,
    *,
    scene_name: str,
    level: str,
    platform: str,
    start: str,
    geometry: dict,
    polarization: str = "HH",
    beam_mode: str = "EW",
) -> dict:
    """A product record with the fields the SearchAPI returns in its GeoJSON output."""
    data = path.read_bytes() if path.exists() else b""
    return {
        "type": "Feature",
        "geometry": geometry,
        "properties": {
            "fileID": f"{scene_name}-{level}",
            "sceneName": scene_name,
            "fileName": path.name,
            "url": f"{base_url}/download/{path.name}",
            "bytes": len(data),
            "md5sum": hashlib.md5(data).hexdigest(),
            "processingLevel": level,
            "platform": platform,
            "polarization": polarization,
            "beamModeType": beam_mode,
            "startTime": start,
            "stopTime": start,
        },
    }


def same_platform(product: str, requested: str) -> bool:
    """Whether a product's platform answers a search for ``requested``, as in the SearchAPI.

    Sentinel-1 finds Sentinel-1A and -1B products; ALOS does not find ALOS-2 ones.
    """
    return re.fullmatch(re.escape(requested.upper()) + "[A-D]?", product.upper()) is not None


class AsfSearchApi:
    def __init__(self, features: list[dict] | None = None):
        self.features: list[dict] = list(features or [])
        self.searches: list[dict] = []

    def parameters(self, request: Request) -> dict:
        query = {k: v[-1] for k, v in request.query.items()}
        if request.method == "POST" and request.body:
            query.update({k: v[-1] for k, v in parse_qs(request.body.decode()).items()})
        return query

    def __call__(self, request: Request) -> Response:
        if request.path.rstrip("/") != SEARCH_PATH:
            return Response(404, b"not found")
        params = self.parameters(request)
        self.searches.append(params)
        if params.get("output", "").lower() != "geojson":
            return Response(400, b"this fake speaks only output=geojson")
        area = wkt.loads(params["intersectsWith"]) if "intersectsWith" in params else None
        platforms = {p.strip().upper() for p in params.get("platform", "").split(",") if p}
        levels = {p.strip().upper() for p in params.get("processingLevel", "").split(",") if p}
        start = parse_utc(params["start"]) if "start" in params else None
        end = parse_utc(params["end"]) if "end" in params else None
        chosen = []
        for feature in self.features:
            props = feature["properties"]
            if platforms and not any(same_platform(props["platform"], p) for p in platforms):
                continue
            if levels and props["processingLevel"].upper() not in levels:
                continue
            when = parse_utc(props["startTime"])
            if (start and when < start) or (end and when > end):
                continue
            if area is not None and not shape(feature["geometry"]).intersects(area):
                continue
            chosen.append(feature)
        chosen = chosen[: int(params.get("maxResults") or 250)]
        return Response.json({"type": "FeatureCollection", "features": chosen})


def geometry_of(bounds) -> dict:
    from shapely.geometry import box

    return mapping(box(*bounds))
