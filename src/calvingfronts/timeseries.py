"""The GeoPackage time series: every front of a glacier, sorted by acquisition time.

Each scene ends as one record (JSON) written by the vectorize stage: either an accepted
front with its quality figures or a rejection with the stage and the reason. Merging the
records gives two layers:

- ``fronts``: glacier, sensor, scene_id, acquired (UTC), model name and version, quality
  figures and flags, and the front LineString in EPSG:3413;
- ``rejected``: every scene that yielded no front: scene_id, sensor, acquired, stage, reason.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import geopandas
import pandas
import shapely

from calvingfronts.grid import GLACIER_CRS
from calvingfronts.raster_io import atomic_path

FRONT_COLUMNS = [
    "glacier",
    "sensor",
    "scene_id",
    "acquired",
    "source",
    "model_name",
    "model_version",
    "histogram",
    "pixel_size_m",
    "quality_flags",
]
REJECTED_COLUMNS = ["glacier", "sensor", "scene_id", "acquired", "source", "stage", "reason"]


def read_records(paths: list[str | os.PathLike]) -> list[dict]:
    records = []
    for path in paths:
        try:
            records.append(json.loads(Path(path).read_text()))
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"front record {path} cannot be read: {error}") from None
    return records


def _quality_columns(quality: dict) -> dict:
    """Quality figures as flat columns; lists of flags become one comma-separated text."""
    columns = {}
    for key, value in quality.items():
        if key == "flags":
            continue
        if isinstance(value, (list, tuple)):
            value = ",".join(str(v) for v in value)
        elif isinstance(value, dict):
            value = json.dumps(value, sort_keys=True)
        columns[f"q_{key}"] = value
    return columns


def build_time_series(records: list[dict]) -> tuple[geopandas.GeoDataFrame, pandas.DataFrame]:
    """The fronts and rejected tables from per-scene records, both sorted by time."""
    fronts, rejected = [], []
    for record in records:
        if record["status"] == "accepted":
            row = {column: record.get(column) for column in FRONT_COLUMNS}
            row["quality_flags"] = ",".join(record.get("quality", {}).get("flags", []))
            row.update(_quality_columns(record.get("quality", {})))
            row["geometry"] = shapely.from_wkt(record["front_wkt"])
            fronts.append(row)
        else:
            rejected.append({column: record.get(column) for column in REJECTED_COLUMNS})
    front_frame = geopandas.GeoDataFrame(
        pandas.DataFrame(fronts, columns=[*FRONT_COLUMNS, "geometry"] if not fronts else None),
        geometry="geometry",
        crs=GLACIER_CRS,
    )
    rejected_frame = pandas.DataFrame(rejected, columns=REJECTED_COLUMNS)
    return _by_time(front_frame), _by_time(rejected_frame)


def _by_time(frame):
    frame["acquired"] = pandas.to_datetime(frame["acquired"], utc=True)
    return frame.sort_values(["acquired", "scene_id"], ignore_index=True)


def write_time_series(
    fronts: geopandas.GeoDataFrame, rejected: pandas.DataFrame, path: str | os.PathLike
) -> None:
    """Write both layers into one GeoPackage, replacing ``path`` only when complete."""
    import pyogrio

    with atomic_path(path) as tmp:
        # The temporary name must end in .gpkg for GDAL to pick the driver.
        staging = f"{tmp}.gpkg"
        try:
            # GeoPackage 1.3: readable by the older GDAL and QGIS releases still common on
            # clusters (GDAL < 3.7 reads 1.4 files only "partially").
            pyogrio.write_dataframe(
                fronts,
                staging,
                layer="fronts",
                driver="GPKG",
                geometry_type="LineString",
                dataset_options={"VERSION": "1.3"},
            )
            pyogrio.write_dataframe(
                rejected, staging, layer="rejected", driver="GPKG", append=False
            )
            os.replace(staging, tmp)
        finally:
            if os.path.exists(staging):
                os.unlink(staging)
