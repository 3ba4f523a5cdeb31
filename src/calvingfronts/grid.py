"""The glacier's pixel grid: every scene of a glacier is resampled onto it.

Grids are north-up in EPSG:3413 (NSIDC Sea Ice Polar Stereographic North) and snapped to
whole multiples of the pixel size, so grids of different sensors of one glacier nest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from affine import Affine

GLACIER_CRS = "EPSG:3413"


@dataclass(frozen=True)
class GlacierGrid:
    """A north-up grid over an area of interest ``(xmin, ymin, xmax, ymax)`` in metres."""

    bounds: tuple[float, float, float, float]
    pixel_size: float
    crs: str = GLACIER_CRS

    @classmethod
    def snapped(
        cls, aoi: tuple[float, float, float, float], pixel_size: float, crs: str = GLACIER_CRS
    ) -> GlacierGrid:
        """The smallest grid of ``pixel_size`` aligned to multiples of it that covers ``aoi``."""
        if pixel_size <= 0:
            raise ValueError(f"pixel_size must be positive, got {pixel_size}")
        xmin, ymin, xmax, ymax = aoi
        if not (xmin < xmax and ymin < ymax):
            raise ValueError(f"area of interest {aoi} is empty: need xmin < xmax and ymin < ymax")
        p = float(pixel_size)
        return cls(
            bounds=(
                math.floor(xmin / p) * p,
                math.floor(ymin / p) * p,
                math.ceil(xmax / p) * p,
                math.ceil(ymax / p) * p,
            ),
            pixel_size=p,
            crs=crs,
        )

    @property
    def width(self) -> int:
        return int(round((self.bounds[2] - self.bounds[0]) / self.pixel_size))

    @property
    def height(self) -> int:
        return int(round((self.bounds[3] - self.bounds[1]) / self.pixel_size))

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    @property
    def transform(self) -> Affine:
        return Affine(self.pixel_size, 0.0, self.bounds[0], 0.0, -self.pixel_size, self.bounds[3])

    def xy(self, rows, cols):
        """Map coordinates of pixel centres (arrays or scalars)."""
        x = self.bounds[0] + (cols + 0.5) * self.pixel_size
        y = self.bounds[3] - (rows + 0.5) * self.pixel_size
        return x, y

    def coordinates(self):
        """Two ``(height, width)`` arrays of pixel-centre x and y."""
        import numpy as np

        rows, cols = np.mgrid[0 : self.height, 0 : self.width]
        return self.xy(rows.astype(float), cols.astype(float))


def pixel_window(
    bounds: tuple[float, float, float, float],
    transform: Affine,
    shape: tuple[int, int],
    margin_px: int,
) -> tuple[slice, slice]:
    """The rows and columns of a north-up grid (``transform``, ``shape``) that hold
    ``bounds`` (xmin, ymin, xmax, ymax in the grid's CRS) widened by ``margin_px`` pixels,
    cut to the grid."""
    xmin, ymin, xmax, ymax = bounds
    inverse = ~transform
    col0, row0 = inverse * (xmin, ymax)
    col1, row1 = inverse * (xmax, ymin)
    height, width = shape
    rows = slice(max(int(row0) - margin_px, 0), min(int(row1) + 1 + margin_px, height))
    cols = slice(max(int(col0) - margin_px, 0), min(int(col1) + 1 + margin_px, width))
    return rows, cols
