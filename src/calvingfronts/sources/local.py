"""The ``local`` source: the user's own GeoTIFFs, listed in a manifest CSV.

This is how scenes that no open archive serves (TerraSAR-X, ALOS-2, Envisat, purchased or
already processed scenes) enter the workflow. The manifest has the columns
``path,sensor,acquired[,scene_id]``; relative paths are taken from the manifest's folder.
Files may be in any CRS: they are resampled onto the glacier's grid at fetch.

A missing, unreadable or empty file is not an error of the run: the scene is listed, and its
fetch is rejected with the reason, so it shows in the ``rejected`` layer.
"""

from __future__ import annotations

import csv
from datetime import datetime, time, timezone
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError

from calvingfronts.config import GlacierConfig, SensorSettings
from calvingfronts.grid import GlacierGrid
from calvingfronts.raster_io import Raster, warp_to_grid
from calvingfronts.rejection import SceneRejected
from calvingfronts.scenes import Scene, format_utc, parse_utc, safe_scene_id
from calvingfronts.sensors import SAR_QUANTITIES, get_sensor

REQUIRED_COLUMNS = ("path", "sensor", "acquired")


class ManifestError(ValueError):
    """A malformed local manifest, naming the file and line."""


def _read_rows(manifest: Path) -> list[tuple[int, dict[str, str]]]:
    if not manifest.exists():
        raise ManifestError(f"local manifest {manifest} does not exist")
    with open(manifest, newline="") as handle:
        reader = csv.DictReader(handle)
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise ManifestError(
                f"{manifest}: missing column(s) {', '.join(missing)}; "
                "expected path,sensor,acquired[,scene_id]"
            )
        # Line 1 is the header, so the first row is line 2.
        return [
            (number, {k.strip(): (v or "").strip() for k, v in row.items() if k})
            for number, row in enumerate(reader, start=2)
        ]


def list_scenes(glacier: GlacierConfig, settings: SensorSettings, options: dict) -> list[Scene]:
    manifest = Path(options["manifest"])
    scenes = []
    for line, row in _read_rows(manifest):
        where = f"{manifest}, line {line}"
        try:
            get_sensor(row["sensor"])
        except KeyError as error:
            raise ManifestError(f"{where}: {error.args[0]}") from None
        if row["sensor"] != settings.sensor:
            continue
        try:
            acquired = parse_utc(row["acquired"])
        except ValueError:
            raise ManifestError(
                f"{where}: acquired {row['acquired']!r} is not an ISO 8601 date or time"
            ) from None
        start = datetime.combine(settings.start, time.min, tzinfo=timezone.utc)
        if acquired < start:
            continue
        if settings.end is not None:
            end = datetime.combine(settings.end, time.max, tzinfo=timezone.utc)
            if acquired > end:
                continue
        if not row["path"]:
            raise ManifestError(f"{where}: empty path")
        path = Path(row["path"])
        if not path.is_absolute():
            path = manifest.parent / path
        scene_id = row.get("scene_id") or f"{safe_scene_id(path.stem)}"
        try:
            scene = Scene(
                scene_id=scene_id,
                glacier=glacier.name,
                sensor=settings.sensor,
                source="local",
                acquired=acquired,
                href=str(path),
                properties={"line": line},
            )
        except ValueError as error:
            raise ManifestError(f"{where}: {error}") from None
        scenes.append(scene)
    ids = [s.scene_id for s in scenes]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ManifestError(
            f"{manifest}: scene ids {duplicates} appear more than once; "
            "give distinct scene_id values"
        )
    return scenes


def fetch_scene(scene: Scene, glacier: GlacierConfig, grid: GlacierGrid, options: dict) -> Raster:
    path = Path(scene.href)
    sensor = get_sensor(scene.sensor)
    band = int(options.get("band", 1))
    if not path.exists():
        raise SceneRejected("fetch", f"file not found: {path}")
    try:
        with rasterio.open(path) as src:
            if band > src.count:
                raise SceneRejected("fetch", f"{path} has {src.count} band(s), not band {band}")
            data, nodata = warp_to_grid(src, grid, bands=(band,))
            scale = src.scales[band - 1]
            offset = src.offsets[band - 1]
    except RasterioError as error:
        raise SceneRejected("fetch", f"cannot read {path}: {error}") from None
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
    if sensor.is_sar:
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
