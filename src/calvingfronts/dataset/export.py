"""``calvingfronts export``: a glacier's GeoPackage as files a colleague opens without this
package: a zipped shapefile (TermPicks field names), GeoJSON, GeoParquet and a flat CSV.

Every file holds :func:`calvingfronts.dataset.fields.export_table`: one row per front, kept
and screened, with the same fields (README.md, "What you get"). Each is written beside its
final name, read back whole with GDAL (the OGR drivers that ``ogrinfo`` uses) or pyarrow,
and only then renamed into place, so a killed export leaves the previous file or none.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

import geopandas
import pandas

from calvingfronts.dataset.fields import FIELDS, export_table
from calvingfronts.raster_io import atomic_path, own_output, staged

# Format name -> file suffix. The shapefile is zipped (GDAL reads and writes .shp.zip as
# one file): its five parts travel, and are replaced, together.
FORMATS: dict[str, str] = {
    "shapefile": ".shp.zip",
    "geojson": ".geojson",
    "geoparquet": ".parquet",
    "csv": ".csv",
}


def export_paths(out_dir: str | os.PathLike, glacier: str, formats=tuple(FORMATS)) -> dict:
    """Where each format of ``glacier``'s export goes."""
    return {fmt: Path(out_dir) / f"{glacier}_fronts{FORMATS[fmt]}" for fmt in formats}


def read_export_table(gpkg: str | os.PathLike, termpicks_id: int | None = None):
    """The export table of a glacier's GeoPackage (its fronts, screened and positions
    layers); the processing date is the day the GeoPackage was written (UTC)."""
    import pyogrio

    path = Path(gpkg)
    try:
        layers = {name for name, _ in pyogrio.list_layers(path)}
        fronts = pyogrio.read_dataframe(path, layer="fronts")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as error:
        raise ValueError(f"{path} is not a front GeoPackage: {error}") from None
    screened = pyogrio.read_dataframe(path, layer="screened") if "screened" in layers else None
    positions = pyogrio.read_dataframe(path, layer="positions") if "positions" in layers else None
    written = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.utc)
    return export_table(
        fronts,
        screened,
        positions,
        termpicks_id=termpicks_id,
        processed=written.strftime("%Y-%m-%d"),
    )


def write_export(table: geopandas.GeoDataFrame, paths: dict[str, Path]) -> dict[str, Path]:
    """Write ``table`` in each format of ``paths`` (from :func:`export_paths`)."""
    writers = {
        "shapefile": write_shapefile,
        "geojson": write_geojson,
        "geoparquet": write_geoparquet,
        "csv": write_csv,
    }
    paths = {fmt: Path(path) for fmt, path in paths.items()}
    for fmt, path in paths.items():
        writers[fmt](table, path)
    return paths


def shapefile_frame(table: geopandas.GeoDataFrame) -> geopandas.GeoDataFrame:
    """The table with the shapefile's 10-character names; texts cut to the 254 characters
    a shapefile field holds."""
    names = {f.name: f.shapefile for f in FIELDS}
    frame = table.rename(columns=names)
    for column in frame.columns:
        text = frame[column].dtype == object or pandas.api.types.is_string_dtype(frame[column])
        if text and column != frame.geometry.name:
            frame[column] = frame[column].astype(str).str.slice(0, 254)
    return frame


def write_shapefile(table: geopandas.GeoDataFrame, path: Path) -> None:
    _write_ogr(
        shapefile_frame(table),
        path,
        ".shp.zip",
        driver="ESRI Shapefile",
        layer_options={"ENCODING": "UTF-8"},
    )


def write_geojson(table: geopandas.GeoDataFrame, path: Path) -> None:
    # RFC 7946 GeoJSON is longitude/latitude (WGS 84): what web maps and most tools expect.
    _write_ogr(
        table.to_crs(4326), path, ".geojson", driver="GeoJSON", layer_options={"RFC7946": "YES"}
    )


def write_geoparquet(table: geopandas.GeoDataFrame, path: Path) -> None:
    def verify(tmp: str) -> None:
        import pyarrow.parquet

        try:
            metadata = pyarrow.parquet.read_metadata(tmp)
        except pyarrow.ArrowInvalid as error:
            raise OSError(f"{tmp} does not read back as Parquet: {error}") from error
        if metadata.num_rows != len(table) or b"geo" not in (metadata.metadata or {}):
            raise OSError(f"{tmp} reads back with {metadata.num_rows} rows or no geo metadata")

    with own_output(path), atomic_path(path, verify=verify) as tmp:
        table.to_parquet(tmp, index=False)


def write_csv(table: geopandas.GeoDataFrame, path: Path) -> None:
    """One row per front: the fields, then the line as WKT (EPSG:3413)."""
    frame = pandas.DataFrame(table.drop(columns=table.geometry.name))
    frame["wkt"] = table.geometry.to_wkt(rounding_precision=1, trim=True).to_numpy()

    def verify(tmp: str) -> None:
        if len(pandas.read_csv(tmp)) != len(frame):
            raise OSError(f"{tmp} reads back with another number of rows than {len(frame)}")

    with own_output(path), atomic_path(path, verify=verify) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def _write_ogr(frame, path: Path, suffix: str, driver: str, layer_options: dict) -> None:
    """Write through GDAL to a staging name with the driver's suffix, read it back whole,
    then move it onto ``path``."""
    import pyogrio

    with own_output(path), atomic_path(path) as tmp, staged(tmp, suffix) as staging:
        try:
            pyogrio.write_dataframe(
                frame,
                staging,
                layer=path.name.split(".")[0],
                driver=driver,
                geometry_type="LineString",
                layer_options=layer_options,
            )
            found = pyogrio.read_info(staging)["features"]
        except pyogrio.errors.DataSourceError as error:
            raise OSError(f"{staging} does not read back: {error}") from error
        if found != len(frame):
            raise OSError(f"{staging} reads back with {found} features, not {len(frame)}")
