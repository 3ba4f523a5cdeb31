"""The FrontLearning image set's layout (Mohajerani et al. 2019): facts, not data.

Its subsets are Landsat crops of about 49 m pixels, rotated so that the glacier flows towards
the top of the image, and named with the Landsat WRS-2 path/row, which says the glacier.
Training holds out whole glaciers by this mapping and ``evaluate-images --glacier`` scores
one glacier of a mixed folder with it.
"""

from __future__ import annotations

import re

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
