"""The export table: one row per front (kept or screened), with every field a dataset needs.

Each field has a name (GeoJSON, GeoParquet, CSV), a shapefile name of at most 10 characters
and a description; README.md ("What you get") documents the same list. The shapefile names
follow TermPicks V2 (Goliber et al. 2022) where TermPicks has the field: ``GlacierID``,
``Date``, ``Year``, ``Month``, ``Day``, ``DecDate``, ``Satellite`` and ``Author``. TermPicks'
``QualFlag`` is a numeric code of a manual trace's quality; this project's flags are words
(:data:`QUALITY_FLAGS`), so they have their own field, ``Flags``.

:func:`export_table` is pure: the GeoPackage's layers and the glacier's ids in, a
GeoDataFrame out.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas
import numpy as np
import pandas

from calvingfronts import __version__
from calvingfronts.grid import GLACIER_CRS


@dataclass(frozen=True)
class Field:
    name: str
    shapefile: str
    description: str


FIELDS: tuple[Field, ...] = (
    Field("glacier", "Glacier", "the glacier's key in the configuration"),
    Field("glacier_id", "GlacierID", "the glacier's TermPicks GlacierID, where configured"),
    Field("date", "Date", "acquisition date, YYYY-MM-DD (UTC)"),
    Field("year", "Year", "acquisition year"),
    Field("month", "Month", "acquisition month, 1-12"),
    Field("day", "Day", "acquisition day of the month"),
    Field("decimal_year", "DecDate", "acquisition time as a decimal year (UTC)"),
    Field("acquired", "Acquired", "acquisition time, ISO 8601 UTC"),
    Field("image_id", "ImageID", "the archive's scene id"),
    Field("sensor", "Sensor", "the workflow's sensor key (landsat8, sentinel1, ...)"),
    Field("satellite", "Satellite", "the satellite (Landsat 8, Sentinel-1A, ...)"),
    Field("source", "Source", "the archive the scene came from (stac, asf, local, synthetic)"),
    Field("method", "Method", "how the front was drawn: package, network, views"),
    Field("model_name", "Model", "the front network's name (its model card in models/)"),
    Field("model_version", "ModelVer", "the front network's version"),
    Field("author", "Author", "who drew the front: calvingfronts, automated"),
    Field("processed", "Processed", "the date the GeoPackage was written, YYYY-MM-DD (UTC)"),
    Field("uncertainty_m", "Uncert_m", "90 % bound on the line's mean distance error, m"),
    Field(
        "position_m",
        "Pos_m",
        "terminus position: distance along the glacier's centreline to the front, m",
    ),
    Field(
        "position_uncertainty_m",
        "PosUnc_m",
        "90 % bound on position_m's error, m (empty where the model's calibration has none)",
    ),
    Field("crossing_x", "CrossX", "where the front crosses the centreline: x, EPSG:3413 m"),
    Field("crossing_y", "CrossY", "where the front crosses the centreline: y, EPSG:3413 m"),
    Field("status", "Status", "kept (in the time series) or screened (set aside)"),
    Field("screening_test", "ScreenTest", "the screening test a screened front failed"),
    Field("screening_reason", "ScreenWhy", "why, with the figures"),
    Field("quality_flags", "Flags", "comma-separated quality flags (README, Quality flags)"),
    Field("length_m", "Length_m", "length of the front line, m"),
    Field("span_fraction", "Span", "share of the fjord's width the front crosses"),
    Field("pixel_size_m", "Pixel_m", "pixel size of the scene on the glacier grid, m"),
)

# Every quality flag of the vectorizer (calvingfronts.fronts.quality.quality_flags) and of
# the screening (calvingfronts.timeseries.screening), and what it means.
VECTORIZER_FLAGS: dict[str, str] = {
    "several_candidates": "more than one front candidate; the best was kept",
    "bridged_gap": "the line was joined across a gap in the front probability",
    "partial_span": "the line crosses less than half of the fjord's width",
    "open_end": "at least one end of the line stops short of the fjord's walls",
    "touches_nodata": "the line runs along no-data pixels (scene edge, clouds)",
    "low_probability": "the mean front probability along the line is below the threshold",
}
SCREENING_FLAGS: dict[str, str] = {
    "uncertain": "uncertainty_m is above screening.max_uncertainty_m; kept, since the "
    "neighbouring fronts in time do not contradict it",
    "unjudged": "too few fronts near it in time to check it against (a sparse record, a gap)",
}
QUALITY_FLAGS: dict[str, str] = {**VECTORIZER_FLAGS, **SCREENING_FLAGS}

# Satellites by the prefix of an archive's scene id; else by the sensor.
_SATELLITE_PREFIXES = {
    "LC08": "Landsat 8", "LC09": "Landsat 9", "LE07": "Landsat 7", "LT05": "Landsat 5",
    "S1A": "Sentinel-1A", "S1B": "Sentinel-1B", "S1C": "Sentinel-1C",
    "S2A": "Sentinel-2A", "S2B": "Sentinel-2B", "S2C": "Sentinel-2C",
}  # fmt: skip
_SATELLITES = {
    "landsat5": "Landsat 5", "landsat7": "Landsat 7", "landsat8": "Landsat 8",
    "landsat9": "Landsat 9", "sentinel1": "Sentinel-1", "sentinel2": "Sentinel-2",
    "envisat": "Envisat", "alos1": "ALOS", "alos2": "ALOS-2", "terrasarx": "TerraSAR-X",
}  # fmt: skip

AUTHOR = "calvingfronts (automated)"


def satellite(sensor: str, scene_id: str) -> str:
    """The satellite of a scene: from its archive id where that names it (S1A_..., LC09_...),
    else the sensor's platform."""
    for prefix, name in _SATELLITE_PREFIXES.items():
        if str(scene_id).upper().startswith(prefix):
            return name
    return _SATELLITES.get(sensor, sensor)


def export_table(
    fronts: geopandas.GeoDataFrame,
    screened: geopandas.GeoDataFrame | None,
    positions: pandas.DataFrame | None,
    *,
    termpicks_id: int | None,
    processed: str,
) -> geopandas.GeoDataFrame:
    """One row per front, kept and screened, in time order, with :data:`FIELDS` as columns
    and the front LineString (EPSG:3413) as geometry."""
    kept = fronts.assign(status="kept", screening_test="", screening_reason="")
    frames = [kept] + ([screened.assign(status="screened")] if screened is not None else [])
    table = (
        pandas.concat([f for f in frames if len(f)], ignore_index=True)
        if any(len(f) for f in frames)
        else kept.iloc[0:0]
    )
    table = geopandas.GeoDataFrame(table, geometry="geometry", crs=fronts.crs or GLACIER_CRS)
    acquired = pandas.to_datetime(table["acquired"], utc=True)
    crossing = _crossings(table, positions)
    out = pandas.DataFrame(
        {
            "glacier": table["glacier"].astype(str),
            "glacier_id": pandas.array([termpicks_id] * len(table), dtype="Int64"),
            "date": acquired.dt.strftime("%Y-%m-%d"),
            "year": acquired.dt.year.astype("int32"),
            "month": acquired.dt.month.astype("int32"),
            "day": acquired.dt.day.astype("int32"),
            "decimal_year": _decimal_year(acquired),
            "acquired": acquired.dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "image_id": table["scene_id"].astype(str),
            "sensor": table["sensor"].astype(str),
            "satellite": [
                satellite(s, i) for s, i in zip(table["sensor"], table["scene_id"], strict=True)
            ],
            "source": table["source"].astype(str),
            "method": [_method(row) for _, row in table.iterrows()],
            "model_name": table["model_name"].astype(str),
            "model_version": table["model_version"].astype(str),
            "author": AUTHOR,
            "processed": processed,
            "uncertainty_m": pandas.to_numeric(table["uncertainty_m"], errors="coerce"),
            "position_m": pandas.to_numeric(table.get("position_m"), errors="coerce"),
            "position_uncertainty_m": pandas.to_numeric(
                table.get("position_uncertainty_m", pandas.Series(np.nan, table.index)),
                errors="coerce",
            ),
            "crossing_x": crossing[:, 0],
            "crossing_y": crossing[:, 1],
            "status": table["status"],
            "screening_test": table["screening_test"].fillna("").astype(str),
            "screening_reason": table["screening_reason"].fillna("").astype(str),
            "quality_flags": table["quality_flags"].fillna("").astype(str),
            "length_m": pandas.to_numeric(table.get("q_length_m"), errors="coerce"),
            "span_fraction": pandas.to_numeric(table.get("q_span_fraction"), errors="coerce"),
            "pixel_size_m": pandas.to_numeric(table["pixel_size_m"], errors="coerce"),
        }
    )
    out["geometry"] = table.geometry.to_numpy()
    result = geopandas.GeoDataFrame(out, geometry="geometry", crs=table.crs)
    order = np.lexsort((result["image_id"].to_numpy(), acquired.to_numpy()))
    return result.iloc[order].reset_index(drop=True)


def _decimal_year(acquired: pandas.Series) -> np.ndarray:
    from calvingfronts.timeseries.positions import decimal_year

    return np.round(decimal_year(acquired), 6) if len(acquired) else np.array([], float)


def _method(row) -> str:
    members = row.get("q_members")
    views = "" if members is None or pandas.isna(members) else f", mean of {int(members)} views"
    return f"calvingfronts {__version__}: {row['model_name']} (ONNX){views}"


def _crossings(table, positions) -> np.ndarray:
    """The crossing point of each row's front with the centreline (NaN where none)."""
    found = np.full((len(table), 2), np.nan)
    if positions is None or not len(positions) or "geometry" not in positions:
        return found
    points = {
        (s, i): g
        for s, i, g in zip(
            positions["sensor"], positions["scene_id"], positions.geometry, strict=True
        )
    }
    for row, key in enumerate(zip(table["sensor"], table["scene_id"], strict=True)):
        point = points.get(key)
        if point is not None and not point.is_empty:
            found[row] = (point.x, point.y)
    return found
