"""Preprocessing: one band per scene, a nodata mask and the histogram treatment.

The histogram treatments are the three compared by Zhang et al. (2021):

- ``equalize``: histogram normalization (equalization) over the valid pixels: each value is
  replaced by its rank in the scene's own distribution, which makes optical and SAR scenes,
  bright and dark, look alike to the network (the paper's best choice);
- ``linear``: a linear stretch between the 2nd and 98th percentiles;
- ``none``: the sensor's physical range (reflectance 0-1, backscatter -30 to 5 dB) mapped to
  0-1 with no scene-dependent stretch.

The same functions prepare training images, so the network sees at inference exactly what it
saw in training.
"""

from __future__ import annotations

import numpy as np

from calvingfronts.rejection import SceneRejected

HISTOGRAM_TREATMENTS = ("equalize", "linear", "none")

# Quantisation of the equalized histogram: fine enough for 16-bit archives, cheap to sort.
_EQUALIZE_BINS = 4096


def equalize(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Histogram equalization of the valid pixels into [0, 1]; invalid pixels become 0."""
    out = np.zeros(values.shape, dtype=np.float32)
    sample = values[valid]
    if sample.size == 0:
        return out
    low, high = float(sample.min()), float(sample.max())
    if high <= low:
        out[valid] = 0.5
        return out
    bins = np.clip(
        ((sample - low) / (high - low) * (_EQUALIZE_BINS - 1)).astype(np.int64),
        0,
        _EQUALIZE_BINS - 1,
    )
    counts = np.bincount(bins, minlength=_EQUALIZE_BINS)
    cdf = np.cumsum(counts).astype(np.float64)
    # Centre of each bin's share of the CDF: the darkest bin is not forced to exactly 0.
    cdf = (cdf - counts / 2.0) / sample.size
    out[valid] = cdf[bins].astype(np.float32)
    return out


def linear_stretch(
    values: np.ndarray, valid: np.ndarray, percentiles: tuple[float, float] = (2.0, 98.0)
) -> np.ndarray:
    """Linear stretch of the valid pixels between two percentiles, clipped to [0, 1]."""
    out = np.zeros(values.shape, dtype=np.float32)
    sample = values[valid]
    if sample.size == 0:
        return out
    low, high = np.percentile(sample, percentiles)
    if high <= low:
        out[valid] = 0.5
        return out
    out[valid] = np.clip((sample - low) / (high - low), 0.0, 1.0)
    return out


def fixed_range(
    values: np.ndarray, valid: np.ndarray, value_range: tuple[float, float]
) -> np.ndarray:
    """The ``none`` treatment: a fixed physical range mapped onto [0, 1]."""
    out = np.zeros(values.shape, dtype=np.float32)
    low, high = value_range
    out[valid] = np.clip((values[valid] - low) / (high - low), 0.0, 1.0)
    return out


def normalize(
    values: np.ndarray,
    valid: np.ndarray,
    method: str,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """Apply the configured histogram treatment; the network's input is this, in [0, 1]."""
    if method == "equalize":
        return equalize(values, valid)
    if method == "linear":
        return linear_stretch(values, valid)
    if method == "none":
        return fixed_range(values, valid, value_range)
    raise ValueError(f"histogram treatment must be one of {HISTOGRAM_TREATMENTS}, got {method!r}")


def valid_fraction(valid: np.ndarray, inside: np.ndarray | None = None) -> float:
    """Share of valid pixels, within ``inside`` (e.g. the fjord) where given."""
    if inside is not None:
        total = int(inside.sum())
        return float((valid & inside).sum()) / total if total else 0.0
    return float(valid.mean()) if valid.size else 0.0


def screen_coverage(
    valid: np.ndarray, inside: np.ndarray | None, min_valid_fraction: float
) -> float:
    """The valid fraction over the fjord; rejects the scene below ``min_valid_fraction``."""
    fraction = valid_fraction(valid, inside)
    if fraction < min_valid_fraction:
        if fraction == 0.0:
            raise SceneRejected("preprocess", "no valid pixels over the fjord (all nodata)")
        raise SceneRejected(
            "preprocess",
            f"only {fraction:.1%} of the fjord has valid pixels "
            f"(cloud or nodata; minimum {min_valid_fraction:.0%})",
        )
    return fraction
