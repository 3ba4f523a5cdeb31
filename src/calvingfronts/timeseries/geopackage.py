"""The GeoPackage time series: every front of a glacier, sorted by acquisition time.

Each scene ends as one record (JSON) written by the vectorize stage: either an accepted
front with its quality figures or a rejection with the stage and the reason. Merging the
records, measuring each front's position and screening the fronts
(:mod:`calvingfronts.timeseries.positions`, :mod:`calvingfronts.timeseries.screening`) gives four
layers:

- ``fronts``: the fronts the time series keeps: glacier, sensor, scene_id, acquired (UTC),
  model name and version, uncertainty_m, position_m, quality figures and flags, and the
  front LineString in EPSG:3413;
- ``screened``: the fronts screening set aside, with the same columns, the test they failed
  and the reason, so they can be looked at beside the kept ones;
- ``rejected``: every scene without a kept front: scene_id, sensor, acquired, stage, reason
  (stage ``screening`` for the screened fronts, with the front's line as geometry; the
  other rows have none: no front was drawn);
- ``positions``: one row per front, kept or screened (columns
  :data:`calvingfronts.timeseries.positions.POSITION_COLUMNS`), with the point where the front
  crosses the centreline; also written as CSV and Parquet for use without GIS.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas
import pandas
import shapely

from calvingfronts.glaciers.config import GlacierConfig
from calvingfronts.grid import GLACIER_CRS
from calvingfronts.raster_io import atomic_path, own_output, staged
from calvingfronts.timeseries.positions import front_positions
from calvingfronts.timeseries.screening import ScreeningSettings

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
    "uncertainty_m",
    "position_uncertainty_m",
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


@dataclass(frozen=True)
class TimeSeries:
    """A glacier's merged, measured and screened fronts: the layers of its GeoPackage."""

    fronts: geopandas.GeoDataFrame
    screened: geopandas.GeoDataFrame
    rejected: pandas.DataFrame
    positions: geopandas.GeoDataFrame


def screen_time_series(
    fronts: geopandas.GeoDataFrame,
    rejected: pandas.DataFrame,
    glacier: GlacierConfig,
    screening: ScreeningSettings,
) -> TimeSeries:
    """Measure every front's position along the glacier's centreline and screen them: the
    kept fronts stay in ``fronts``, the others move to ``screened`` and to ``rejected``
    (stage ``screening``, with the test and the figures in the reason)."""
    positions = front_positions(fronts, glacier.centreline, glacier.box, screening)
    fronts = fronts.copy()
    fronts["position_m"] = positions["position_m"].to_numpy()
    fronts["quality_flags"] = [
        ",".join(part for part in (own, added) if part)
        for own, added in zip(
            fronts.get("quality_flags", pandas.Series("", fronts.index)).fillna(""),
            positions["screening_flags"],
            strict=True,
        )
    ]
    kept = (positions["status"] == "kept").to_numpy()
    screened = fronts[~kept].copy()
    screened["screening_test"] = positions.loc[~kept, "screening_test"].to_numpy()
    screened["screening_reason"] = positions.loc[~kept, "screening_reason"].to_numpy()
    moved = pandas.DataFrame(
        {
            **{column: screened[column].to_numpy() for column in REJECTED_COLUMNS[:5]},
            "stage": "screening",
            "reason": (screened["screening_test"] + ": " + screened["screening_reason"]).to_numpy(),
            "geometry": screened.geometry.to_numpy(),
        },
        columns=[*REJECTED_COLUMNS, "geometry"],
    )
    rejected = with_geometry(rejected)
    if len(moved):
        rejected = with_geometry(pandas.concat([rejected, moved], ignore_index=True))
    rejected = _by_time(rejected)
    return TimeSeries(
        fronts=fronts[kept].reset_index(drop=True),
        screened=screened.reset_index(drop=True),
        rejected=rejected,
        positions=positions,
    )


def with_geometry(frame: pandas.DataFrame) -> geopandas.GeoDataFrame:
    """The rejected table as a layer a GIS can show: a LineString column, empty (null) for
    the scenes without a front."""
    if isinstance(frame, geopandas.GeoDataFrame) and frame.geometry.name == "geometry":
        return frame.set_crs(GLACIER_CRS, allow_override=True)
    table = pandas.DataFrame(frame)
    if "geometry" not in table:
        table["geometry"] = None
    return geopandas.GeoDataFrame(table, geometry="geometry", crs=GLACIER_CRS)


def _by_time(frame):
    frame["acquired"] = pandas.to_datetime(frame["acquired"], utc=True)
    return frame.sort_values(["acquired", "scene_id"], ignore_index=True)


def write_time_series(
    fronts: geopandas.GeoDataFrame,
    rejected: pandas.DataFrame,
    path: str | os.PathLike,
    screened: geopandas.GeoDataFrame | None = None,
    positions: geopandas.GeoDataFrame | None = None,
) -> None:
    """Write the layers into one GeoPackage, replacing ``path`` only when complete and
    read back whole (a full disk raises :class:`calvingfronts.raster_io.OutputWriteError`)."""
    import pyogrio

    layers = {"fronts": fronts, "screened": screened, "rejected": rejected, "positions": positions}
    expected = {name: len(frame) for name, frame in layers.items() if frame is not None}
    # Writing our own file: a failure is never a scene's fault. The staging name ends in
    # .gpkg for GDAL to pick the driver.
    with own_output(path), atomic_path(path) as tmp, staged(tmp, ".gpkg") as staging:
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
        if screened is not None:
            pyogrio.write_dataframe(
                screened,
                staging,
                layer="screened",
                driver="GPKG",
                geometry_type="LineString",
            )
        pyogrio.write_dataframe(
            with_geometry(rejected),
            staging,
            layer="rejected",
            driver="GPKG",
            geometry_type="LineString",
            append=False,
        )
        if positions is not None:
            pyogrio.write_dataframe(
                positions, staging, layer="positions", driver="GPKG", geometry_type="Point"
            )
        _verify_gpkg(staging, expected)


def _verify_gpkg(path: str, expected: dict[str, int]) -> None:
    """Raise OSError unless the GeoPackage at ``path`` has each layer with its row count."""
    import pyogrio

    try:
        found = {
            name: pyogrio.read_info(path, layer=name)["features"]
            for name, _ in pyogrio.list_layers(path)
        }
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise OSError(f"{path} does not read back as a GeoPackage: {error}") from error
    if found != expected:
        raise OSError(f"{path} reads back with layers {found}, not {expected}")


def write_positions(
    positions: pandas.DataFrame, csv_path: str | os.PathLike, parquet_path: str | os.PathLike
) -> None:
    """The positions table as CSV (times in ISO 8601 UTC) and Parquet, without geometry."""
    table = pandas.DataFrame(positions.drop(columns="geometry", errors="ignore"))
    with atomic_path(csv_path) as tmp:
        table.assign(acquired=table["acquired"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(
            tmp, index=False, float_format="%.6g"
        )
    with atomic_path(parquet_path, verify=lambda tmp: _verify_parquet(tmp, len(table))) as tmp:
        table.to_parquet(tmp, index=False)


def _verify_parquet(path: str, rows: int) -> None:
    """Raise OSError unless the Parquet file's footer reads back with ``rows`` rows."""
    import pyarrow.parquet

    try:
        found = pyarrow.parquet.read_metadata(path).num_rows
    except pyarrow.ArrowInvalid as error:
        raise OSError(f"{path} does not read back as Parquet: {error}") from error
    if found != rows:
        raise OSError(f"{path} reads back with {found} rows, not {rows}")
