"""GeoTIFF reading and writing at the edges of the pipeline, always atomic.

Files are written under a temporary name in the destination folder and renamed into place,
so an interrupted job never leaves a half-written product that a later run would trust.

A rejected scene is still a valid GeoTIFF: a 1 x 1 raster of nodata whose metadata tag
``CALVINGFRONTS_REJECTED`` holds the stage and reason. Each per-scene rule therefore has
exactly one output whatever happens, and :func:`read_raster` raises :class:`SceneRejected`
when it meets one, so the rejection travels on to the GeoPackage.

Failing to write our own output (a full disk, a lost mount) is never the scene's fault: it
raises :class:`OutputWriteError`, which no stage turns into a rejection, so the job fails
and a re-run, once the disk has room, recomputes the scene. Each file is read back before
it takes its final name, as GDAL does not always report a failed write.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.errors import RasterioError

from calvingfronts.rejection import SceneRejected

REJECTED_TAG = "CALVINGFRONTS_REJECTED"


def _creation_mode() -> int:
    """The mode a new file gets under the process's umask (os.umask can only be read by
    setting it, so it is set back at once)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


_CREATION_MODE = _creation_mode()


class OutputWriteError(Exception):
    """One of our own outputs could not be written: the run's fault, not the scene's.

    Deliberately not an OSError, RasterioError or ValueError, which the stages turn into a
    scene's rejection: this one must fail the job instead.
    """

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"could not write {path}: {reason}")
        self.path = str(path)


# An OSError with one of these numbers is a fault of where outputs go, whatever raised it.
OUTPUT_STORAGE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS})


def is_storage_fault(error: BaseException) -> bool:
    """True for a full disk, an exceeded quota or a read-only file system."""
    return isinstance(error, OSError) and error.errno in OUTPUT_STORAGE_ERRNOS


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, verify: Callable[[str], None] | None = None):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    ``verify(tmp)`` reads the written file back and raises if it is not what was meant.
    Errors of our own file handling (making the temporary file, verifying, renaming) and a
    full or read-only disk are raised as :class:`OutputWriteError`. Other errors raised in
    the block are the caller's to judge and pass unchanged: a download that broke off is
    an OSError too, and is the archive's fault, not the disk's.
    """
    path = Path(path)
    tmp = None
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
            os.close(fd)
        except OSError as error:
            raise OutputWriteError(path, f"{type(error).__name__}: {error}") from error
        try:
            yield tmp
        except OSError as error:
            if is_storage_fault(error):
                raise OutputWriteError(path, f"{type(error).__name__}: {error}") from error
            raise
        try:
            if verify is not None:
                verify(tmp)
            # mkstemp makes the file private (0600); products are shared like any other file.
            os.chmod(tmp, _CREATION_MODE)
            os.replace(tmp, path)
        except (OSError, RasterioError) as error:
            raise OutputWriteError(path, f"{type(error).__name__}: {error}") from error
    finally:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


@contextlib.contextmanager
def own_output(path: str | os.PathLike):
    """Writing one of our own outputs: any OSError in the block (a read-back that fails
    included) is the run's fault, never a scene's, and leaves as OutputWriteError."""
    try:
        yield
    except OSError as error:
        raise OutputWriteError(path, f"{type(error).__name__}: {error}") from error


@contextlib.contextmanager
def staged(tmp: str, suffix: str):
    """A name beside ``tmp`` (from :func:`atomic_path`) ending in ``suffix``, for writers
    that choose their format by the name (GDAL's drivers); moved onto ``tmp`` when the block
    succeeds, removed whatever happens."""
    staging = f"{tmp}{suffix}"
    try:
        yield staging
        os.replace(staging, tmp)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(staging)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically, checked by reading it back."""

    def verify(tmp: str) -> None:
        if Path(tmp).read_text() != text:
            raise OSError(f"{tmp} does not read back as written")

    with own_output(path), atomic_path(path, verify=verify) as tmp:
        Path(tmp).write_text(text)


@dataclass
class Raster:
    """Bands ``(count, height, width)`` on a grid, with their encoding and metadata tags."""

    data: np.ndarray
    transform: Affine
    crs: str
    nodata: float | None = None
    scales: tuple[float, ...] | None = None
    offsets: tuple[float, ...] | None = None
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def band(self) -> np.ndarray:
        return self.data[0]


def write_raster(path: str | os.PathLike, raster: Raster) -> None:
    data = raster.data if raster.data.ndim == 3 else raster.data[np.newaxis]
    count, height, width = data.shape
    profile = {
        "driver": "GTiff",
        "height": height,
        "width": width,
        "count": count,
        "dtype": data.dtype.name,
        "crs": raster.crs,
        "transform": raster.transform,
        "nodata": raster.nodata,
        "compress": "deflate",
        "tiled": width >= 256 and height >= 256,
    }
    if profile["tiled"]:
        profile.update(blockxsize=256, blockysize=256)

    def verify(tmp: str) -> None:
        _verify_raster(tmp, data.shape)

    # The dataset is closed (flushed) before atomic_path verifies and renames it. Any error
    # here is in writing our own file (GDAL's "Write failed" on a full disk carries no
    # errno): never the scene's fault.
    try:
        with atomic_path(path, verify=verify) as tmp, rasterio.open(tmp, "w", **profile) as dst:
            dst.write(data)
            if raster.scales is not None:
                dst.scales = raster.scales
            if raster.offsets is not None:
                dst.offsets = raster.offsets
            dst.update_tags(**{k: str(v) for k, v in raster.tags.items()})
    except (OSError, RasterioError) as error:
        raise OutputWriteError(path, f"{type(error).__name__}: {error}") from error


def _verify_raster(path: str, shape: tuple[int, int, int]) -> None:
    """Reopen a written raster and decode every block: GDAL may report a failed write
    (e.g. on a full disk) only as a log message and leave a truncated file."""
    with rasterio.open(path) as src:
        if (src.count, src.height, src.width) != shape:
            raise OSError(
                f"{path} reads back as {src.count} x {src.height} x {src.width}, "
                f"not {' x '.join(map(str, shape))}"
            )
        src.read()


def write_rejected(
    path: str | os.PathLike, rejection: SceneRejected, tags: dict[str, str] | None = None
) -> None:
    """Write the 1 x 1 marker raster that stands for a rejected scene."""
    marker = Raster(
        data=np.full((1, 1, 1), np.nan, dtype=np.float32),
        transform=Affine(1.0, 0.0, 0.0, 0.0, -1.0, 1.0),
        crs="EPSG:3413",
        nodata=float("nan"),
        tags={**(tags or {}), REJECTED_TAG: json.dumps(rejection.as_record())},
    )
    write_raster(path, marker)


def read_raster(path: str | os.PathLike) -> Raster:
    """Read a product of an earlier stage; raises SceneRejected for a rejection marker."""
    with rasterio.open(path) as src:
        tags = src.tags()
        if REJECTED_TAG in tags:
            record = json.loads(tags[REJECTED_TAG])
            raise SceneRejected(record["stage"], record["reason"])
        return Raster(
            data=src.read(),
            transform=src.transform,
            crs=src.crs.to_string() if src.crs else "",
            nodata=src.nodata,
            scales=tuple(src.scales),
            offsets=tuple(src.offsets),
            tags=tags,
        )


def warp_to_grid(
    dataset, grid, bands=(1,), resampling=None, nodata: float | None = None
) -> tuple[np.ndarray, float]:
    """Read ``bands`` of an open rasterio dataset resampled onto a GlacierGrid.

    Only the part of the source that covers the grid is read (through a warped VRT), which
    matters for remote Cloud-Optimized GeoTIFFs. Returns float32 ``(bands, rows, cols)``
    with NaN where the source has no data, and NaN as the nodata value. ``nodata`` is the
    source's fill value where it differs from the one the file declares (or declares none),
    e.g. Landsat-7 SLC-off stripes written into the file as 0.
    """
    from rasterio.enums import Resampling
    from rasterio.vrt import WarpedVRT

    if dataset.crs is None and not dataset.gcps[0]:
        raise SceneRejected("fetch", f"{dataset.name} has no coordinate reference system")
    if resampling is None:
        # Averaging when shrinking keeps speckle and noise from aliasing into the grid.
        source_size = abs(dataset.res[0]) if dataset.crs is not None else 0.0
        coarser = bool(source_size) and dataset.crs.is_projected and source_size < grid.pixel_size
        resampling = Resampling.average if coarser else Resampling.bilinear
    if dataset.crs is None:
        return _warp_gcps(dataset, grid, bands, resampling, nodata), float("nan")
    vrt_options = {
        "crs": grid.crs,
        "transform": grid.transform,
        "width": grid.width,
        "height": grid.height,
        "resampling": resampling,
        "src_nodata": dataset.nodata if nodata is None else nodata,
        "nodata": np.nan,
        "dtype": "float32",
    }
    with WarpedVRT(dataset, **vrt_options) as vrt:
        data = vrt.read(indexes=list(bands), masked=True)
    filled = data.filled(np.nan).astype(np.float32)
    return filled, float("nan")


def _warp_gcps(dataset, grid, bands, resampling, nodata=None) -> np.ndarray:
    """Resample a raster referenced by ground control points (e.g. SAR in slant geometry).

    A warped VRT with a destination transform returns only fill for such files, so the
    bands are read whole and warped with a transformer fitted to the control points.
    """
    from rasterio.warp import reproject

    gcps, gcp_crs = dataset.gcps
    if nodata is None:
        source = dataset.read(indexes=list(bands), masked=True).astype(np.float32).filled(np.nan)
    else:
        raw = dataset.read(indexes=list(bands))
        source = np.where(raw == nodata, np.nan, raw).astype(np.float32)
    target = np.full((len(bands), grid.height, grid.width), np.nan, dtype=np.float32)
    reproject(
        source,
        target,
        gcps=gcps,
        src_crs=gcp_crs,
        src_nodata=np.nan,
        dst_transform=grid.transform,
        dst_crs=grid.crs,
        dst_nodata=np.nan,
        resampling=resampling,
    )
    return target
