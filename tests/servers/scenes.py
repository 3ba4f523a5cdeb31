"""Small but realistic archive files at Jakobshavn's real position, and their STAC items.

Files are tiled, deflate-compressed GeoTIFFs with internal overviews (the layout of a
Cloud-Optimized GeoTIFF), several thousand pixels on a side so that the glacier's area of
interest is a small part of each and a windowed read can be told apart from a whole-file
download. Optical scenes are in UTM zone 22N like the real Landsat and Sentinel-2 products;
the Sentinel-1-like scene has no geotransform, only ground control points in EPSG:4326,
like a GRD measurement file.
"""

from __future__ import annotations

import math
import shutil
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
import rasterio.errors
import rasterio.shutil
from affine import Affine
from pyproj import Transformer
from rasterio.control import GroundControlPoint
from rasterio.warp import transform_bounds
from shapely.geometry import Polygon, box, mapping

from calvingfronts.glaciers.config import GlacierConfig, SensorSettings

UTM = "EPSG:32622"
POLAR = "EPSG:3413"
# The files are centred on the area of interest of `jakobshavn` in config/config.yaml
# ([-212000, -2286000, -172000, -2256000]), so the workflow test can run that target.
DATA_CENTRE = (-192000.0, -2271000.0)
# The unit tests' area of interest: 8 km over Jakobshavn Isbræ's fjord (EPSG:3413).
AOI = (-196000.0, -2275000.0, -188000.0, -2267000.0)
FJORD = [(-196000, -2275000), (-190000, -2275000), (-190000, -2267000), (-196000, -2267000)]


def make_glacier(sensors: dict[str, SensorSettings], name: str = "jakobshavn") -> GlacierConfig:
    return GlacierConfig(
        name=name,
        aoi=AOI,
        fjord=Polygon(FJORD),
        flow_azimuth=270.0,
        sensors=sensors,
    )


def utm_centre() -> tuple[float, float]:
    return Transformer.from_crs(POLAR, UTM, always_xy=True).transform(*DATA_CENTRE)


def textured(shape: tuple[int, int], seed: int, dtype="uint16", low=2000, high=9000):
    """Smooth ice/ocean-like brightness plus noise, so files compress like real ones."""
    rng = np.random.default_rng(seed)
    rows, cols = shape
    ramp = np.linspace(low, high, cols, dtype=np.float32)[np.newaxis, :]
    wave = 400 * np.sin(np.linspace(0, 12 * math.pi, rows, dtype=np.float32))[:, np.newaxis]
    noise = rng.integers(0, 48, size=shape, dtype=np.uint16).astype(np.float32)
    return (ramp + wave + noise).astype(dtype)


def write_cog(
    path: Path,
    data: np.ndarray,
    *,
    crs: str | None = None,
    transform: Affine | None = None,
    gcps: list[GroundControlPoint] | None = None,
    nodata: float | None = 0,
    overviews=(2, 4, 8, 16),
    tile: int = 512,
) -> Path:
    """A tiled GeoTIFF with internal overviews laid out like a COG (overviews in front)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.tif")
    profile = {
        "driver": "GTiff",
        "width": data.shape[1],
        "height": data.shape[0],
        "count": 1,
        "dtype": data.dtype.name,
        "nodata": nodata,
        "tiled": True,
        "blockxsize": tile,
        "blockysize": tile,
    }
    if gcps is None:
        profile.update(crs=crs, transform=transform)
    with warnings.catch_warnings():
        # A GCP file has no geotransform until its GCPs are set just below.
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        dst = rasterio.open(tmp, "w", **profile)
    with dst:
        if gcps is not None:
            dst.gcps = (gcps, "EPSG:4326")
        dst.write(data, 1)
        dst.build_overviews(list(overviews), rasterio.enums.Resampling.average)
    rasterio.shutil.copy(
        tmp,
        path,
        driver="GTiff",
        tiled=True,
        blockxsize=tile,
        blockysize=tile,
        compress="deflate",
        zlevel=1,
        predictor=2 if data.dtype.kind in "ui" else 1,
        copy_src_overviews=True,
    )
    tmp.unlink()
    return path


def utm_transform(width: int, height: int, pixel: float, shift=(0.0, 0.0)) -> Affine:
    """A UTM grid with the area of interest off-centre, as it would be in a real tile."""
    x, y = utm_centre()
    left = math.floor((x - 0.35 * width * pixel + shift[0]) / pixel) * pixel
    top = math.floor((y + 0.4 * height * pixel + shift[1]) / pixel) * pixel
    return Affine(pixel, 0, left, 0, -pixel, top)


def sar_gcps(width: int, height: int, pixel: float, heading: float = 12.0, n: int = 11):
    """GCPs of a slant, north-unaligned radar image (``heading`` degrees) over the AOI."""
    cx, cy = DATA_CENTRE
    frame = (
        Affine.translation(cx, cy)
        @ Affine.rotation(heading)
        @ Affine.translation(-0.45 * width * pixel, 0.55 * height * pixel)
        @ Affine.scale(pixel, -pixel)
    )
    to_lonlat = Transformer.from_crs(POLAR, "EPSG:4326", always_xy=True)
    gcps = []
    for row in np.linspace(0, height, n):
        for col in np.linspace(0, width, n):
            x, y = frame @ (col, row)
            lon, lat = to_lonlat.transform(x, y)
            gcps.append(GroundControlPoint(row=row, col=col, x=lon, y=lat, z=0.0))
    return gcps


def footprint(path: Path) -> dict:
    """The image outline in longitude/latitude as a GeoJSON geometry."""
    with rasterio.open(path) as src:
        if src.crs is not None:
            bounds = transform_bounds(src.crs, "EPSG:4326", *src.bounds, densify_pts=21)
            return mapping(box(*bounds))
        lons = [g.x for g in src.gcps[0]]
        lats = [g.y for g in src.gcps[0]]
        return mapping(box(min(lons), min(lats), max(lons), max(lats)))


def item(
    item_id: str,
    collection: str,
    when: str,
    geometry: dict,
    assets: dict[str, dict],
    **properties,
) -> dict:
    from shapely.geometry import shape

    return {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [],
        "id": item_id,
        "collection": collection,
        "geometry": geometry,
        "bbox": list(shape(geometry).bounds),
        "properties": {"datetime": when, **properties},
        "links": [],
        "assets": assets,
    }


def asset(href: str, scale: float | None = None, offset: float | None = None, nodata=0) -> dict:
    band: dict = {"nodata": nodata, "data_type": "uint16"}
    if scale is not None:
        band.update(scale=scale, offset=offset)
    return {
        "href": href,
        "type": "image/tiff; application=geotiff; profile=cloud-optimized",
        "roles": ["data"],
        "raster:bands": [band],
    }


@dataclass
class ArchiveFiles:
    """The raster files of the test archive, written once per test session."""

    root: Path
    paths: dict[str, Path] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Path:
        return self.paths[key]


def polar_window_mask(transform: Affine, shape, crs: str, bounds) -> np.ndarray:
    """Pixels of a grid whose centres fall inside ``bounds`` given in EPSG:3413."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    xs, ys = transform @ (cols + 0.5, rows + 0.5)
    px, py = Transformer.from_crs(crs, POLAR, always_xy=True).transform(xs, ys)
    return (px >= bounds[0]) & (px <= bounds[2]) & (py >= bounds[1]) & (py <= bounds[3])


FILES = {
    "s2_red": "s2/red.tif",
    "s2_scl_clear": "s2/scl_clear.tif",
    "s2_scl_cloudy": "s2/scl_cloudy.tif",
    "s2_empty": "s2/empty.tif",
    "s2_truncated": "s2/truncated.tif",
    "s2_corrupt": "s2/corrupt.tif",
    "ls_red": "landsat/red.tif",
    "ls_qa_clear": "landsat/qa_clear.tif",
    "ls_qa_cloudy": "landsat/qa_cloudy.tif",
    "s1_grd": "s1/grd_hh.tiff",
}


def archive_files(root: Path) -> ArchiveFiles:
    """The archive's files under ``root``, written on first use (a few seconds).

    A marker file makes this idempotent, so fixtures defined in several test modules share
    one set of files per session.
    """
    marker = root / ".complete"
    root.mkdir(parents=True, exist_ok=True)
    if not marker.exists():
        write_archive_files(root)
        marker.write_text("ok")
    return ArchiveFiles(root, {key: root / rel for key, rel in FILES.items()})


def write_archive_files(root: Path) -> ArchiveFiles:
    """Write every file the loopback archives serve."""
    files = ArchiveFiles(root)
    # Sentinel-2-like red band: 10 m, 3600 px (36 km) square, AOI 8 km.
    s2_transform = utm_transform(3600, 3600, 10.0)
    files.paths["s2_red"] = write_cog(
        root / "s2" / "red.tif", textured((3600, 3600), 1), crs=UTM, transform=s2_transform
    )
    # Its scene classification at 20 m: snow/ice and water; a cloudy variant over the AOI.
    scl_transform = Affine(20, 0, s2_transform.c, 0, -20, s2_transform.f)
    scl = np.where(np.arange(1800)[np.newaxis, :] % 300 < 200, 11, 6).astype("uint8")
    scl = np.repeat(scl, 1800, axis=0)
    files.paths["s2_scl_clear"] = write_cog(
        root / "s2" / "scl_clear.tif", scl, crs=UTM, transform=scl_transform
    )
    cloudy = scl.copy()
    inside = polar_window_mask(scl_transform, scl.shape, UTM, AOI)
    cloudy[inside & (np.arange(1800)[:, np.newaxis] % 10 < 7)] = 9
    files.paths["s2_scl_cloudy"] = write_cog(
        root / "s2" / "scl_cloudy.tif", cloudy, crs=UTM, transform=scl_transform
    )
    # A scene that is all fill where the glacier is (e.g. the edge of a swath).
    files.paths["s2_empty"] = write_cog(
        root / "s2" / "empty.tif",
        np.zeros((1024, 1024), "uint16"),
        crs=UTM,
        transform=utm_transform(1024, 1024, 10.0),
    )
    # A copy that broke off: the header and the small overviews are there, the rest is not.
    data = files.paths["s2_red"].read_bytes()
    truncated = root / "s2" / "truncated.tif"
    truncated.write_bytes(data[: int(len(data) * 0.12)])
    files.paths["s2_truncated"] = truncated
    # A copy with garbage where the tiles are (a broken disk or a bad proxy).
    rng = np.random.default_rng(5)
    corrupt = bytearray(data)
    start = len(data) // 10
    corrupt[start:] = rng.integers(0, 256, len(data) - start, "uint8").tobytes()
    (root / "s2" / "corrupt.tif").write_bytes(bytes(corrupt))
    files.paths["s2_corrupt"] = root / "s2" / "corrupt.tif"
    # Landsat-8/9-like surface reflectance red band and QA_PIXEL, 30 m, 2400 px (72 km).
    ls_transform = utm_transform(2400, 2400, 30.0, shift=(-4000.0, 2000.0))
    files.paths["ls_red"] = write_cog(
        root / "landsat" / "red.tif",
        textured((2400, 2400), 2, low=8000, high=30000),
        crs=UTM,
        transform=ls_transform,
        tile=256,
    )
    clear_qa = np.full((2400, 2400), 1 << 6, "uint16")  # bit 6: clear
    clear_qa[:, :40] = 1  # fill along one edge
    files.paths["ls_qa_clear"] = write_cog(
        root / "landsat" / "qa_clear.tif",
        clear_qa,
        crs=UTM,
        transform=ls_transform,
        nodata=1,
        tile=256,
    )
    cloudy_qa = clear_qa.copy()
    inside = polar_window_mask(ls_transform, cloudy_qa.shape, UTM, AOI)
    cloudy_qa[inside & (np.arange(2400)[np.newaxis, :] % 5 < 4)] = (1 << 3) | (1 << 1)
    files.paths["ls_qa_cloudy"] = write_cog(
        root / "landsat" / "qa_cloudy.tif",
        cloudy_qa,
        crs=UTM,
        transform=ls_transform,
        nodata=1,
        tile=256,
    )
    # Sentinel-1-like GRD amplitude: GCPs only, ~10 m, 3600 px, rotated to the orbit.
    files.paths["s1_grd"] = write_cog(
        root / "s1" / "grd_hh.tiff",
        textured((3600, 3600), 3, low=50, high=600),
        gcps=sar_gcps(3600, 3600, 10.0),
    )
    return files


def safe_zip(files: ArchiveFiles, name: str, polarization: str = "hh") -> Path:
    """A Sentinel-1 GRD product as ASF ships it: a zipped SAFE with measurement GeoTIFFs."""
    path = files.root / "asf" / f"{name}.zip"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tiff = f"{name}.SAFE/measurement/s1a-ew-grd-{polarization}-{name[17:32].lower()}-001.tiff"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(f"{name}.SAFE/manifest.safe", "<xfdu/>")
        archive.write(files["s1_grd"], tiff)
    return path


def rtc_zip(files: ArchiveFiles, name: str) -> Path:
    """An ALOS PALSAR radiometrically terrain-corrected product: UTM GeoTIFFs in a zip."""
    tif = files.root / "asf" / f"{name}_HH.tif"
    if not tif.exists():
        rng = np.random.default_rng(4)
        power = rng.gamma(4.0, 0.05, size=(1200, 1200)).astype("float32")
        write_cog(tif, power, crs=UTM, transform=utm_transform(1200, 1200, 12.5), nodata=0)
    path = files.root / "asf" / f"{name}.zip"
    if path.exists():
        return path
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.write(tif, f"{name}/{name}_HH.tif")
        archive.writestr(f"{name}/{name}.README.md.txt", "RTC product")
    return path


def copy_file(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return target
