"""The FrontLearning image set's layout (Mohajerani et al. 2019): facts, not data.

Its subsets are Landsat crops of about 49 m pixels, rotated so that the glacier flows towards
the top of the image, and named with the Landsat WRS-2 path/row, which says the glacier.
Training holds out whole glaciers by this mapping and ``evaluate-images --glacier`` scores
one glacier of a mixed folder with it.
"""

from __future__ import annotations

import re

import numpy as np

# WRS-2 path/row of the FrontLearning subsets -> glacier (README of ../shared/data).
FRONTLEARNING_GLACIERS = {
    "008011": "jakobshavn",
    "009011": "jakobshavn",
    "010011": "jakobshavn",
    "229012": "kangerlussuaq",
    "230012": "kangerlussuaq",
    "231012": "kangerlussuaq",
    "020007": "northwest",
    "021006": "northwest",
    "021007": "northwest",
    "022006": "northwest",
    "023006": "northwest",
    "024006": "northwest",
}
FRONTLEARNING_PIXEL_M = 49.0
# The subsets are rotated so that the ice flows up: azimuth 0 on a north-up image grid.
FRONTLEARNING_FLOW_AZIMUTH = 0.0
_PATH_ROW = re.compile(r"_(\d{6})_\d{8}_")


def glacier_of_frontlearning(name: str) -> str:
    """Glacier of a FrontLearning file from its WRS-2 path/row (unknown rows -> the row)."""
    match = _PATH_ROW.search(name)
    if not match:
        raise ValueError(f"no WRS-2 path/row in FrontLearning file name {name!r}")
    return FRONTLEARNING_GLACIERS.get(match.group(1), match.group(1))


# Zones derived from a FrontLearning front (ZONE_NAMES order of the training: 0 rock,
# 1 glacier, 2 ocean; -1 unknown, ignored by the zone loss).
ZONE_UNKNOWN, ZONE_GLACIER, ZONE_OCEAN = -1, 1, 2
# How far from the line the derived zones reach (px, about 2.5 km at 49 m): further out,
# below the front can be a nunatak or the glacier's margin, above it the fjord's far walls.
ZONE_REACH_PX = 50
# Columns at each end of the front, and beside a column where the line runs along the flow
# for more than ZONE_STEEP_PX (a label turning along a wall, or an embayment), are left
# unknown: there which side of the line is glacier is not known from the line alone.
ZONE_END_MARGIN_PX = 6
ZONE_STEEP_PX = 10


def derive_zones(
    front: np.ndarray,
    reach_px: int = ZONE_REACH_PX,
    end_margin_px: int = ZONE_END_MARGIN_PX,
    steep_px: int = ZONE_STEEP_PX,
) -> np.ndarray:
    """Glacier and ocean zones from a front line on an image where the ice flows up.

    In each column the line crosses, pixels below its lowest pixel are glacier and pixels
    above its highest are ocean (or melange), up to ``reach_px`` from the line; pixels
    between the line's highest and lowest pixel of a column (where it runs along the flow,
    e.g. turning along a wall), columns the line never crosses, the ``end_margin_px`` columns
    at each end of each stretch of columns the line crosses or beside a column where the
    line spans more than ``steep_px`` rows, and the line itself are unknown. Rock is never derived:
    the walls are not in the label.
    """
    front = np.asarray(front, dtype=bool)
    height, width = front.shape
    zones = np.full(front.shape, ZONE_UNKNOWN, dtype=np.int8)
    crossed = front.any(axis=0)
    rows = np.arange(height)[:, None]
    top = np.where(crossed, np.argmax(front, axis=0), height)
    bottom = np.where(crossed, height - 1 - np.argmax(front[::-1], axis=0), -1)
    clear = crossed & (bottom - top <= steep_px)
    usable = clear & ~_near_stretch_ends(clear, end_margin_px)
    ocean = usable & (rows < top) & (rows >= top - reach_px)
    glacier = usable & (rows > bottom) & (rows <= bottom + reach_px)
    zones[ocean] = ZONE_OCEAN
    zones[glacier] = ZONE_GLACIER
    return zones


def _near_stretch_ends(crossed: np.ndarray, margin: int) -> np.ndarray:
    """True for columns within ``margin`` of either end of a run of crossed columns."""
    if margin <= 0:
        return np.zeros(crossed.shape, bool)
    inside = crossed.copy()
    for shift in range(1, margin + 1):
        inside[shift:] &= crossed[:-shift]
        inside[:-shift] &= crossed[shift:]
    inside[:margin] = False
    inside[-margin:] = False
    return crossed & ~inside
