"""The training sample: one scene's band, its valid mask and its front, independent of source.

Every data kind (FrontLearning PNGs, CaFFe folders, GeoTIFFs with front vectors, synthetic
scenes) is turned into :class:`FrontSample`, so augmentation, the loss and the validation
metric never care where a scene came from.

The front is stored as a distance field (pixels to the nearest front pixel) rather than as a
mask: a distance field can be resampled by rotation and zoom and re-thresholded afterwards,
so the label stays a continuous line of the intended width at any scale, where a resampled
thin mask would break up or thicken.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

# Distance (px) used where no front exists at all (a scene of open water, a padded border).
NO_FRONT_DISTANCE = 1.0e4


@dataclass
class FrontSample:
    """One training/validation scene."""

    name: str
    glacier: str  # the hold-out unit: validation is split by this, never at random
    values: np.ndarray  # (H, W) float32 physical values (reflectance 0-1, or dB for SAR)
    valid: np.ndarray  # (H, W) bool
    front: np.ndarray  # (H, W) bool, the 1-px front line (reference for the metric)
    pixel_size_m: float
    value_range: tuple[float, float] = (0.0, 1.0)  # for the ``none`` histogram treatment
    sar: bool = False
    zones: np.ndarray | None = None  # (H, W) int8 class per pixel, -1 unknown (optional)
    # Georeferenced samples: the grid's affine transform and the fjord polygon in its CRS, so
    # validation clips to the real fjord as the workflow does (else: the whole image).
    transform: object | None = None
    fjord: object | None = None
    # Direction of ice flow on the sample's grid (degrees clockwise from the image's "up"),
    # where known: the vectorizer ranks front candidates by their extent across it.
    flow_azimuth: float | None = None
    distance: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=np.float32)
        self.valid = np.asarray(self.valid, dtype=bool)
        self.front = np.asarray(self.front, dtype=bool)
        if not (self.values.shape == self.valid.shape == self.front.shape):
            raise ValueError(f"{self.name}: image, valid and front shapes differ")
        self.distance = front_distance(self.front)


def front_distance(front: np.ndarray) -> np.ndarray:
    """Euclidean distance (px) of every pixel to the nearest front pixel."""
    if not front.any():
        return np.full(front.shape, NO_FRONT_DISTANCE, dtype=np.float32)
    return ndimage.distance_transform_edt(~front).astype(np.float32)
