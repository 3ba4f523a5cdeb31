"""Augmentation: photometric changes in physical units, then one affine warp per example.

Order matters and mirrors the workflow:

1. photometric changes (gamma, contrast/brightness, SAR-like speckle, blur, nodata stripes)
   act on the physical values, as sensor and season differences do;
2. the histogram treatment (:func:`calvingfronts.preprocess.normalize.normalize`, the same function
   inference uses) is applied to the whole scene, as the workflow normalizes the whole area
   of interest before tiling it;
3. one affine warp cuts the training crop: any rotation (fjords lie in every orientation on
   the workflow's north-up grids, while FrontLearning subsets all flow "up"), flips, and a
   zoom that draws the output pixel size from the range the workflow uses (10-80 m).
   The front's distance field is warped with the image and re-thresholded afterwards, so the
   label stays a clean line of ``front_width_px`` at every zoom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from calvingfronts.preprocess.normalize import normalize
from calvingfronts.training.samples import NO_FRONT_DISTANCE, FrontSample


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation settings (all probabilities in [0, 1])."""

    crop_size: int = 256
    pixel_size_range_m: tuple[float, float] = (10.0, 80.0)
    rotate: bool = True
    flip: bool = True
    front_focus: float = 0.8  # share of crops centred near the front
    gamma_range: tuple[float, float] = (0.6, 1.6)
    contrast_range: tuple[float, float] = (0.7, 1.3)
    brightness: float = 0.1  # +- share of the value range
    speckle_probability: float = 0.3  # SAR-like multiplicative noise on optical scenes
    speckle_looks: tuple[float, float] = (1.0, 5.0)
    blur_probability: float = 0.2
    stripe_probability: float = 0.1  # Landsat-7 SLC-off-like nodata stripes
    noise_std: float = 0.02


def photometric(sample: FrontSample, rng: np.random.Generator, cfg: AugmentConfig):
    """Values and valid mask after random sensor-like changes, in the sample's units."""
    low, high = sample.value_range
    span = high - low
    v = np.clip((sample.values - low) / span, 0.0, 1.0)  # work in [0, 1]
    valid = sample.valid.copy()
    v = v ** math.exp(rng.uniform(*np.log(cfg.gamma_range)))
    mean = float(v[valid].mean()) if valid.any() else 0.5
    v = (v - mean) * rng.uniform(*cfg.contrast_range) + mean
    v = v + rng.uniform(-cfg.brightness, cfg.brightness)
    if not sample.sar and rng.random() < cfg.speckle_probability:
        looks = rng.uniform(*cfg.speckle_looks)
        v = np.clip(v, 1e-3, None) * rng.gamma(looks, 1.0 / looks, size=v.shape)
    if rng.random() < cfg.blur_probability:
        v = ndimage.gaussian_filter(v, rng.uniform(0.5, 1.5))
    v = v + rng.normal(0.0, cfg.noise_std, size=v.shape)
    if rng.random() < cfg.stripe_probability:
        valid &= ~_stripes(v.shape, rng)
    v = np.clip(v, 0.0, 1.0) * span + low
    return v.astype(np.float32), valid


def _stripes(shape, rng: np.random.Generator) -> np.ndarray:
    """Diagonal nodata stripes like Landsat 7's failed scan-line corrector."""
    rows, cols = np.indices(shape)
    period = rng.uniform(12, 30)
    angle = rng.uniform(0, math.pi)
    phase = (rows * math.cos(angle) + cols * math.sin(angle)) % period
    return phase < rng.uniform(1.0, 3.0)


def warp_params(sample: FrontSample, rng: np.random.Generator, cfg: AugmentConfig):
    """A random (matrix, offset, zoom) mapping crop pixels to sample pixels."""
    lo, hi = np.log(cfg.pixel_size_range_m)
    target_px = math.exp(rng.uniform(lo, hi))
    zoom = sample.pixel_size_m / target_px  # output pixels per source pixel
    angle = 0.0
    if cfg.rotate:
        # Half exact quarter turns (no resampling blur), half any angle.
        angle = rng.integers(4) * math.pi / 2 if rng.random() < 0.5 else rng.uniform(0, 2 * math.pi)
    matrix = (
        np.array([[math.cos(angle), -math.sin(angle)], [math.sin(angle), math.cos(angle)]]) / zoom
    )
    if cfg.flip and rng.random() < 0.5:
        matrix = matrix @ np.diag([1.0, -1.0])
    front_rc = np.argwhere(sample.front)
    if len(front_rc) and rng.random() < cfg.front_focus:
        centre_src = front_rc[rng.integers(len(front_rc))].astype(float)
        centre_dst = rng.uniform(0.2, 0.8, size=2) * cfg.crop_size
    else:
        centre_src = rng.uniform(0, 1, size=2) * np.array(sample.values.shape)
        centre_dst = np.full(2, cfg.crop_size / 2)
    offset = centre_src - matrix @ centre_dst
    return matrix, offset, zoom


def warp(array: np.ndarray, matrix, offset, size: int, order: int, fill: float) -> np.ndarray:
    """Resample ``array`` onto a size x size crop (``fill`` outside the source)."""
    return ndimage.affine_transform(
        array,
        matrix,
        offset=offset,
        output_shape=(size, size),
        order=order,
        mode="constant",
        cval=fill,
    )


def make_example(
    sample: FrontSample,
    method: str,
    rng: np.random.Generator,
    cfg: AugmentConfig,
    front_width_px: float = 3.0,
):
    """One augmented crop: (image, front target, valid, zones-or-None), float32 / int8."""
    values, valid = photometric(sample, rng, cfg)
    image = normalize(values, valid, method, sample.value_range)
    matrix, offset, zoom = warp_params(sample, rng, cfg)
    size = cfg.crop_size
    image = warp(image, matrix, offset, size, order=1, fill=0.0)
    valid_out = warp(valid.astype(np.float32), matrix, offset, size, order=1, fill=0.0) > 0.5
    image[~valid_out] = 0.0  # the contract: invalid pixels are 0
    distance = warp(sample.distance, matrix, offset, size, order=1, fill=NO_FRONT_DISTANCE) * zoom
    target = (distance <= front_width_px / 2.0).astype(np.float32)
    zones = None
    if sample.zones is not None:
        zones = warp(sample.zones.astype(np.float32), matrix, offset, size, order=0, fill=-1)
        zones = zones.astype(np.int8)
    return image.astype(np.float32), target, valid_out, zones
