"""The ``local`` source: the user's own GeoTIFFs, listed in a manifest CSV.

This is how scenes that no open archive serves (TerraSAR-X, ALOS-2, Envisat, purchased or
already processed scenes) enter the workflow. The manifest has the columns
``path,sensor,acquired[,scene_id]``; relative paths are taken from the manifest's folder.
Files may be in any CRS: they are resampled onto the glacier's grid at fetch.

A missing, unreadable or empty file is not an error of the run: the scene is listed, and its
fetch is rejected with the reason, so it shows in the ``rejected`` layer.

Options (the sensor's block, or ``sources.local`` for all): ``manifest``, ``band``,
``sar_quantity``, ``nodata`` (the files' fill value where they declare none or another one,
e.g. Landsat-7 SLC-off stripes written as 0) and ``values`` (``physical``, or ``display`` for
already-stretched 8-bit images whose brightness 0-255 is taken as it is).

GMT and netCDF grids (``.grd``, ``.nc``) are read through GDAL's netCDF driver where they
carry a georeference it understands (CF coordinates and a grid mapping); GMT writes none for
projected grids, and such a scene is rejected with the command that converts it.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, time, timezone
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError

from calvingfronts.glaciers.config import GlacierConfig, SensorSettings
from calvingfronts.grid import GlacierGrid
from calvingfronts.raster_io import Raster, warp_to_grid
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes.listing import RowRejected, ScenesListed
from calvingfronts.scenes.manifest import Scene, format_utc, parse_utc, safe_scene_id
from calvingfronts.scenes.sensors import (
    SAR_QUANTITIES,
    SENSORS,
    VALUE_KINDS,
    VALUES_TAG,
    get_sensor,
)

REQUIRED_COLUMNS = ("path", "sensor", "acquired")

# Every option this source reads, in `sources.local` or a sensor's block; any other key is
# refused by calvingfronts.config (a typo must not silently mean a default).
OPTIONS = frozenset({"manifest", "band", "sar_quantity", "nodata", "values"})

# GMT and netCDF grids: their rejections say how to convert them.
GRID_SUFFIXES = (".grd", ".nc", ".nc4", ".cdf")
DISPLAY_MAX = 255


class ManifestError(ValueError):
    """A malformed local manifest, naming the file and line."""


# The manifest is read as UTF-8 (a byte-order mark is allowed, as spreadsheets write it).
MANIFEST_ENCODING = "utf-8-sig"


def _decode(manifest: Path) -> str:
    """The manifest's text; bytes that are not UTF-8 stay as surrogates, so only the rows
    holding them are rejected. A file that is not UTF-8 text at all is an error."""
    if not manifest.exists():
        raise ManifestError(f"local manifest {manifest} does not exist")
    text = manifest.read_bytes().decode(MANIFEST_ENCODING, errors="surrogateescape")
    header = text.split("\n", 1)[0]
    if "\x00" in text or _undecodable(header):
        raise ManifestError(
            f"local manifest {manifest} cannot be read as UTF-8 text "
            "(UTF-16 or another encoding?): save it as UTF-8 CSV"
        )
    return text


def _undecodable(text: str) -> str | None:
    """The first byte of ``text`` that was not UTF-8, as 0xNN, or None."""
    for char in text:
        if "\udc80" <= char <= "\udcff":
            return f"0x{ord(char) - 0xDC00:02x}"
    return None


def _read_rows(manifest: Path) -> list[tuple[int, dict[str, str], str | None]]:
    """(line, row, problem) per row; ``problem`` says why a row cannot be read as one."""
    reader = csv.DictReader(io.StringIO(_decode(manifest), newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ManifestError(
            f"{manifest}: missing column(s) {', '.join(missing)}; "
            "expected path,sensor,acquired[,scene_id]"
        )
    rows = []
    for row in reader:
        values = [v for k, v in row.items() if k is not None]
        problem = None
        if None in row:
            problem = f"{len(columns) + len(row[None])} fields where the header has {len(columns)}"
        elif any(v is None for v in values):
            problem = (
                f"{sum(v is not None for v in values)} field(s) where the header has {len(columns)}"
            )
        elif byte := _undecodable("".join(values)):
            problem = f"byte {byte} is not UTF-8: save the manifest as UTF-8 CSV"
        cleaned = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        # reader.line_num is the row's last line (a quoted field may span lines).
        rows.append((reader.line_num, cleaned, problem))
    return rows


class _RowSetAside(ValueError):
    """Why a manifest row gives no scene."""


def list_scenes(glacier: GlacierConfig, settings: SensorSettings, options: dict) -> ScenesListed:
    """The sensor's scenes in the manifest; a bad row is set aside with its line and reason
    (:class:`calvingfronts.scenes.listing.RowRejected`) and the other rows go on."""
    manifest = Path(options["manifest"])
    scenes: list[Scene] = []
    rejected: list[RowRejected] = []
    first_line: dict[str, int] = {}  # scene_id -> the line that listed it
    for line, row, problem in _read_rows(manifest):
        if row.get("sensor") in SENSORS and row["sensor"] != settings.sensor:
            continue  # another sensor's row: its own listing reads it
        try:
            if problem:
                raise _RowSetAside(problem)
            scene = _scene_of_row(row, line, manifest, glacier, settings)
            if scene is not None and scene.scene_id in first_line:
                raise _RowSetAside(
                    f"scene_id {scene.scene_id!r} is already used on line "
                    f"{first_line[scene.scene_id]}; give distinct scene_id values"
                )
        except _RowSetAside as reason:
            rejected.append(
                RowRejected(
                    sensor=row["sensor"] if row.get("sensor") in SENSORS else settings.sensor,
                    reason=f"{manifest}, line {line}: {reason}",
                    scene_id=row.get("scene_id") or None,
                    acquired=_acquired_or_none(row),
                )
            )
            continue
        if scene is not None:
            first_line[scene.scene_id] = line
            scenes.append(scene)
    return ScenesListed(scenes, rejected)


def _scene_of_row(
    row: dict[str, str],
    line: int,
    manifest: Path,
    glacier: GlacierConfig,
    settings: SensorSettings,
) -> Scene | None:
    """The row's scene; None outside the sensor's dates; _RowSetAside for a bad row."""
    try:
        get_sensor(row["sensor"])
    except KeyError as error:
        raise _RowSetAside(error.args[0]) from None
    acquired = _acquired_or_none(row)
    if acquired is None:
        raise _RowSetAside(
            f"acquired {row['acquired']!r} is not an ISO 8601 date or time (YYYY-MM-DD)"
        )
    start = datetime.combine(settings.start, time.min, tzinfo=timezone.utc)
    if acquired < start:
        return None
    if settings.end is not None:
        end = datetime.combine(settings.end, time.max, tzinfo=timezone.utc)
        if acquired > end:
            return None
    if not row["path"]:
        raise _RowSetAside("empty path")
    path = Path(row["path"])
    if not path.is_absolute():
        path = manifest.parent / path
    try:
        return Scene(
            scene_id=row.get("scene_id") or f"{safe_scene_id(path.stem)}",
            glacier=glacier.name,
            sensor=settings.sensor,
            source="local",
            acquired=acquired,
            href=str(path),
            properties={"line": line},
        )
    except ValueError as error:
        raise _RowSetAside(str(error)) from None


def _acquired_or_none(row: dict[str, str]) -> datetime | None:
    try:
        return parse_utc(row.get("acquired", ""))
    except ValueError:
        return None


def fetch_scene(scene: Scene, glacier: GlacierConfig, grid: GlacierGrid, options: dict) -> Raster:
    path = Path(scene.href)
    sensor = get_sensor(scene.sensor)
    band = int(options.get("band", 1))
    fill = options.get("nodata")
    values = options.get("values", "physical")
    if values not in VALUE_KINDS:
        raise ValueError(f"values must be one of {VALUE_KINDS}, got {values!r}")
    if not path.exists():
        raise SceneRejected("fetch", f"file not found: {path}")
    try:
        with rasterio.open(path) as src:
            problem = georeference_problem(src, path)
            if problem:
                raise SceneRejected("fetch", problem)
            if band > src.count:
                raise SceneRejected("fetch", f"{path} has {src.count} band(s), not band {band}")
            data, nodata = warp_to_grid(
                src, grid, bands=(band,), nodata=None if fill is None else float(fill)
            )
            scale = src.scales[band - 1]
            offset = src.offsets[band - 1]
    except RasterioError as error:
        raise SceneRejected("fetch", f"cannot read {path}: {error}{_grid_advice(path)}") from None
    if not np.isfinite(data).any():
        raise SceneRejected(
            "fetch", f"{path} has no valid pixels over the area of interest of {glacier.name}"
        )
    tags = {
        "SENSOR": scene.sensor,
        "SCENE_ID": scene.scene_id,
        "ACQUIRED": format_utc(scene.acquired),
        "SOURCE_PATH": str(path),
    }
    if values == "display":
        check_display_values(data, path)
        # Brightness, not a quantity: no scale, offset or SAR conversion applies to it.
        tags[VALUES_TAG] = "display"
        scale, offset = 1.0, 0.0
    elif sensor.is_sar:
        quantity = options.get("sar_quantity", "amplitude")
        if quantity not in SAR_QUANTITIES:
            raise ValueError(f"sar_quantity must be one of {SAR_QUANTITIES}, got {quantity!r}")
        tags["SAR_QUANTITY"] = quantity
    return Raster(
        data=data,
        transform=grid.transform,
        crs=grid.crs,
        nodata=nodata,
        scales=(scale,),
        offsets=(offset,),
        tags=tags,
    )


def check_display_values(data: np.ndarray, path: Path) -> None:
    """Display values are brightness 0-255; anything else is a file of another kind."""
    valid = data[np.isfinite(data)]
    low, high = float(valid.min()), float(valid.max())
    if low < 0 or high > DISPLAY_MAX:
        raise SceneRejected(
            "fetch",
            f"{path} holds values from {low:g} to {high:g}, not 8-bit display values 0-255 "
            "(values: display); leave `values` out for the sensor's physical values",
        )


def georeference_problem(src, path: Path) -> str | None:
    """Why an open file cannot be placed on the glacier's grid, or None."""
    if src.count == 0 and src.subdatasets:
        names = ", ".join(s.rsplit(":", 1)[-1] for s in src.subdatasets)
        first = src.subdatasets[0].rsplit(":", 1)[-1]
        tif = path.with_suffix(".tif")
        return (
            f"{path} holds several grids ({names}): convert the one to use to a GeoTIFF, e.g. "
            f'`gdal_translate -of GTiff NETCDF:"{path}":{first} {tif}`, and list the .tif'
        )
    if src.gcps[0]:
        return None
    if src.transform.is_identity:
        return f"{path} has no georeference that GDAL can read{_grid_advice(path)}"
    if src.crs is None:
        tif = path.with_suffix(".tif")
        return (
            f"{path} has no coordinate reference system: give it its own, e.g. "
            f"`gdal_translate -of GTiff -a_srs EPSG:3413 {path} {tif}` (for polar "
            "stereographic north), and list the .tif"
        )
    return None


def _grid_advice(path: Path) -> str:
    """How to turn a GMT or netCDF grid into a GeoTIFF this source reads ('' for others)."""
    if path.suffix.lower() not in GRID_SUFFIXES:
        return ""
    tif = path.with_suffix(".tif")
    return (
        f"; GMT writes no georeference GDAL understands for projected grids (nor in its "
        f"native binary format): convert it to a GeoTIFF with GMT, "
        f"`gmt grdconvert {path} {tif}=gd:GTiff`, give that its CRS, e.g. "
        f"`gdal_edit.py -a_srs EPSG:3413 {tif}` (polar stereographic north), and list the .tif"
    )
