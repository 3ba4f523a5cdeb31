"""Reading and writing a glacier's outlines (fjord, centreline, box) in EPSG:3413.

One code path for every outline key: a configured value is either a vector file (any
format GDAL reads, any CRS) or an inline list of [x, y] pairs in EPSG:3413. Errors are
``ValueError`` with a message for people; the config module adds the key.
"""

from __future__ import annotations

import json
from pathlib import Path

import shapely
from shapely.geometry import LineString, Polygon, mapping, shape
from shapely.geometry.base import BaseGeometry

from calvingfronts.grid import GLACIER_CRS

# RFC 7946: a GeoJSON file without a ``crs`` member is WGS 84 longitude/latitude.
GEOJSON_DEFAULT_CRS = "EPSG:4326"
CRS_URN = "urn:ogc:def:crs:EPSG::3413"

_SHAPES = {"Polygon": Polygon, "LineString": LineString}


def read_outline(value, kind: str, base_dir: Path) -> BaseGeometry:
    """The first ``kind`` ("Polygon" or "LineString") of a vector file, in EPSG:3413, or
    the inline [x, y] pairs ``value`` as that geometry."""
    if isinstance(value, str | Path):
        geometries = read_vector(_resolve(value, base_dir))
        # A multi-part geometry offers its parts: a shapefile's lines are often "Multi".
        parts = [p for g in geometries if g is not None for p in getattr(g, "geoms", [g])]
        found = [p for p in parts if p.geom_type == kind]
        if not found:
            raise ValueError(f"{value} holds no {kind}")
        return found[0]
    try:
        return _SHAPES[kind](value)
    except (TypeError, ValueError, AttributeError, shapely.errors.GEOSException) as error:
        raise ValueError(f"not a list of [x, y] pairs: {error}") from None


def read_vector(path: Path) -> list[BaseGeometry]:
    """All geometries of a vector file, reprojected to EPSG:3413."""
    if not path.exists():
        raise ValueError(f"outline file {path} does not exist")
    if path.suffix.lower() in (".geojson", ".json"):
        # Read GeoJSON directly: cheap, and keeps config checks free of GDAL start-up.
        document = json.loads(path.read_text())
        features = document.get("features", [document])
        geometries = [shape(f.get("geometry", f)) for f in features]
        crs = (document.get("crs") or {}).get("properties", {}).get("name")
        if crs is None:
            _check_lon_lat(geometries, path)
            crs = GEOJSON_DEFAULT_CRS
        if "3413" in crs:
            return geometries
        return _to_glacier_crs(geometries, crs)
    import geopandas

    frame = geopandas.read_file(path)
    if frame.crs is not None:
        frame = frame.to_crs(GLACIER_CRS)
    return list(frame.geometry)


def write_outline(path: Path, geometry: BaseGeometry, properties: dict) -> Path:
    """One EPSG:3413 geometry as a GeoJSON file with an explicit ``crs`` member (without one,
    readers take GeoJSON as longitude/latitude)."""
    document = {
        "type": "FeatureCollection",
        "name": path.stem,
        "crs": {"type": "name", "properties": {"name": CRS_URN}},
        "features": [{"type": "Feature", "properties": properties, "geometry": _rounded(geometry)}],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document) + "\n")
    return path


def _rounded(geometry: BaseGeometry) -> dict:
    """GeoJSON of the geometry with coordinates to the metre: outlines are not that exact,
    and the files stay small and readable in a diff."""
    return mapping(shapely.set_precision(geometry, 1.0))


def _resolve(value, base_dir: Path) -> Path:
    path = Path(value)
    return path if path.is_absolute() else base_dir / path


def _to_glacier_crs(geometries: list, crs: str) -> list:
    import geopandas

    return list(geopandas.GeoSeries(geometries, crs=crs).to_crs(GLACIER_CRS))


def _check_lon_lat(geometries: list, path: Path) -> None:
    """A file written in projected metres without its ``crs`` member would otherwise be
    reprojected as if it were degrees, far off the Earth."""
    coords = shapely.get_coordinates([g for g in geometries if g is not None])
    if len(coords) and (abs(coords[:, 0]).max() > 180 or abs(coords[:, 1]).max() > 90):
        raise ValueError(
            f"{path} has no 'crs' member, so it is longitude/latitude (RFC 7946), but its "
            f"coordinates are not degrees; add a crs member (e.g. {CRS_URN}) or write it as "
            "longitude/latitude"
        )
