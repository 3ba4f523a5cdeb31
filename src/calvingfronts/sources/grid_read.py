"""Reading one band of a remote or local raster onto a glacier's grid, only where needed.

A Cloud-Optimized GeoTIFF is opened through GDAL's ``/vsicurl/`` and warped onto the grid,
so GDAL fetches with HTTP range requests only the tiles under the area of interest, from the
coarsest overview that is still at least as fine as the grid. Shared by the stac and asf
sources.

Rasters placed by ground control points (Sentinel-1 GRD) are the exception: rasterio's
``WarpedVRT`` ignores GCPs once a destination transform is given (it silently returns fill;
rasterio issue #1891), so for those the window under the area of interest is located through
the GCP transformer, read, and warped with :func:`rasterio.warp.reproject`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import rasterio
from pyproj import Transformer
from rasterio.enums import Resampling
from rasterio.transform import GCPTransformer
from rasterio.vrt import WarpedVRT
from rasterio.warp import calculate_default_transform, reproject
from rasterio.windows import Window
from shapely import segmentize
from shapely.geometry import box

from calvingfronts.grid import GlacierGrid
from calvingfronts.sources.http import HttpSettings, gdal_http_env, vsi_path


@dataclass
class GridRead:
    """One band resampled onto the glacier grid, and how it was read."""

    data: np.ndarray
    overview_factor: int  # 1: full resolution; 2: the first 2x overview, ...
    georeferencing: str  # "transform" or "gcps"


def choose_overview(native_resolution: float, factors: list[int], target: float) -> int | None:
    """Index of the coarsest overview still at least as fine as ``target`` (None: full res).

    Reading a 10 m image onto a 30 m grid from its 20 m overview moves a quarter of the
    bytes and gives the same result after resampling.
    """
    best = None
    for index, factor in enumerate(factors):
        if native_resolution * factor <= target * 1.01:
            best = index
    return best


def gcp_resolution(gcps, gcp_crs, dst_crs: str) -> float:
    """Pixel size in ``dst_crs`` units of an image placed by GCPs (least-squares affine fit).

    A fit is used rather than the size of a north-up box around the image: a radar swath is
    tilted to the orbit, and such a box would overstate the pixel size by up to ~40 %.
    """
    to_dst = Transformer.from_crs(gcp_crs, dst_crs, always_xy=True)
    xs, ys = to_dst.transform([g.x for g in gcps], [g.y for g in gcps])
    design = np.column_stack([[g.col for g in gcps], [g.row for g in gcps], np.ones(len(gcps))])
    (a, b, _), *_ = np.linalg.lstsq(design, np.asarray(xs), rcond=None)
    (d, e, _), *_ = np.linalg.lstsq(design, np.asarray(ys), rcond=None)
    return math.sqrt(abs(a * e - b * d))


def native_resolution(src, dst_crs: str) -> float:
    """Approximate pixel size of ``src`` in the grid's units (metres)."""
    gcps, gcp_crs = src.gcps
    if src.crs is None and gcps:
        return gcp_resolution(gcps, gcp_crs, dst_crs)
    if src.crs.is_projected and src.crs.linear_units in ("metre", "meter"):
        # Projected in metres (UTM, polar stereographic): scale factors are within a few
        # tenths of a percent at these latitudes, and the transform may be rotated.
        return math.sqrt(abs(src.transform.determinant))
    dst_transform, _, _ = calculate_default_transform(
        src.crs, dst_crs, src.width, src.height, *src.bounds
    )
    return math.sqrt(abs(dst_transform.determinant))


def gcp_window(src, grid: GlacierGrid, margin: int = 8) -> Window | None:
    """The pixel window of a GCP-referenced ``src`` under the grid (None: outside the image)."""
    gcps, gcp_crs = src.gcps
    outline = segmentize(box(*grid.bounds), grid.pixel_size * 50)
    to_gcp_crs = Transformer.from_crs(grid.crs, gcp_crs, always_xy=True)
    xs, ys = to_gcp_crs.transform(*np.asarray(outline.exterior.coords).T)
    with GCPTransformer(gcps) as transformer:
        rows, cols = transformer.rowcol(xs, ys, op=lambda v: v)
    row0 = max(int(math.floor(min(rows))) - margin, 0)
    col0 = max(int(math.floor(min(cols))) - margin, 0)
    row1 = min(int(math.ceil(max(rows))) + margin, src.height)
    col1 = min(int(math.ceil(max(cols))) + margin, src.width)
    if row1 <= row0 or col1 <= col0:
        return None
    return Window(col0, row0, col1 - col0, row1 - row0)


def _read_gcp(src, grid: GlacierGrid, resampling, src_nodata, dst_nodata, dtype) -> np.ndarray:
    out = np.full(grid.shape, dst_nodata if dst_nodata is not None else 0, dtype=dtype)
    window = gcp_window(src, grid)
    if window is None:
        return out
    pixels = src.read(1, window=window)
    gcps, gcp_crs = src.gcps
    shifted = [
        type(g)(row=g.row - window.row_off, col=g.col - window.col_off, x=g.x, y=g.y, z=g.z)
        for g in gcps
    ]
    reproject(
        pixels,
        out,
        gcps=shifted,
        src_crs=gcp_crs,
        src_nodata=src_nodata,
        dst_crs=grid.crs,
        dst_transform=grid.transform,
        dst_nodata=dst_nodata,
        resampling=resampling,
    )
    return out


def read_onto_grid(
    href: str,
    grid: GlacierGrid,
    http: HttpSettings,
    *,
    resampling: str = "bilinear",
    nodata: float | None = None,
) -> GridRead:
    """Band 1 of the raster at ``href`` (URL, local or ``/vsi`` path) on the glacier grid.

    Areas the image does not cover come back as ``nodata``. Shared by the asf source.
    """
    method = Resampling[resampling]
    path = vsi_path(href)
    with rasterio.Env(**gdal_http_env(http)):
        with rasterio.open(path) as src:
            src_nodata = src.nodata if src.nodata is not None else nodata
            dst_nodata = nodata if nodata is not None else src_nodata
            dtype = src.dtypes[0]
            factors = src.overviews(1)
            level = choose_overview(native_resolution(src, grid.crs), factors, grid.pixel_size)
        open_options = {} if level is None else {"OVERVIEW_LEVEL": level}
        factor = 1 if level is None else factors[level]
        with rasterio.open(path, **open_options) as src:
            if src.crs is None and src.gcps[0]:
                data = _read_gcp(src, grid, method, src_nodata, dst_nodata, dtype)
                return GridRead(data, factor, "gcps")
            with WarpedVRT(
                src,
                crs=grid.crs,
                transform=grid.transform,
                width=grid.width,
                height=grid.height,
                resampling=method,
                src_nodata=src_nodata,
                nodata=dst_nodata,
            ) as vrt:
                return GridRead(vrt.read(1), factor, "transform")
