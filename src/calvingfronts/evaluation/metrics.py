"""Distances between a predicted and a reference calving front.

The measure follows the CaFFe benchmark's mean distance error (Gourmelon et al. 2022): for
every point of the predicted front the distance to the nearest point of the reference front,
and for every point of the reference the distance to the nearest point of the prediction;
both directions are pooled, so a prediction is penalised both for wandering off the front
and for covering only part of it. Fronts here are vectors, not pixels, so "every point" means
points spaced evenly along the line (``densify``), and the nearest distance is measured to
the other line itself, not to its sample points, which keeps the result independent of the
other line's vertex spacing.

All functions are pure and take shapely LineStrings or MultiLineStrings in a projected CRS
(metres).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

DEFAULT_SPACING_M = 10.0
_LINE_TYPES = ("LineString", "MultiLineString", "LinearRing")


def _check_line(geometry: BaseGeometry, name: str) -> None:
    if geometry is None or geometry.is_empty:
        raise ValueError(f"{name} front is empty")
    if geometry.geom_type not in _LINE_TYPES:
        raise ValueError(f"{name} front is a {geometry.geom_type}, expected a (Multi)LineString")


def densify(line: BaseGeometry, spacing_m: float = DEFAULT_SPACING_M) -> np.ndarray:
    """Points (n, 2) evenly spaced along each part of ``line``, at most ``spacing_m`` apart,
    both ends of every part included."""
    if not spacing_m > 0:
        raise ValueError(f"spacing_m must be positive, got {spacing_m}")
    if line is None or line.is_empty:
        return np.zeros((0, 2))
    chunks = []
    for part in shapely.get_parts(line):
        if part.is_empty:
            continue
        count = max(int(math.ceil(part.length / spacing_m)), 1) + 1
        distances = np.linspace(0.0, part.length, count)
        chunks.append(shapely.get_coordinates(shapely.line_interpolate_point(part, distances)))
    return np.vstack(chunks) if chunks else np.zeros((0, 2))


def front_distances(
    pred: BaseGeometry, truth: BaseGeometry, spacing_m: float = DEFAULT_SPACING_M
) -> tuple[np.ndarray, np.ndarray]:
    """Nearest distances from the densified points of ``pred`` to ``truth`` and from those
    of ``truth`` to ``pred``: ``(pred_to_truth, truth_to_pred)``."""
    _check_line(pred, "predicted")
    _check_line(truth, "reference")
    pred_points = shapely.points(densify(pred, spacing_m))
    truth_points = shapely.points(densify(truth, spacing_m))
    return shapely.distance(pred_points, truth), shapely.distance(truth_points, pred)


def symmetric_mean_distance(
    pred: BaseGeometry, truth: BaseGeometry, spacing_m: float = DEFAULT_SPACING_M
) -> float:
    """Mean of both directions' point distances pooled: one front's mean distance error."""
    return float(np.mean(np.concatenate(front_distances(pred, truth, spacing_m))))


def pooled_summary(
    pairs: Iterable[tuple[BaseGeometry, BaseGeometry]], spacing_m: float = DEFAULT_SPACING_M
) -> dict:
    """Mean and median of all point distances of all ``(pred, truth)`` pairs, both
    directions pooled (the CaFFe MDE), plus per-front ``mean_m``, ``median_m``,
    ``n_points``. Longer fronts weigh more in the pooled values, as pixels do in CaFFe.
    With no pairs the pooled values are ``None``.

    Each direction's mean is kept apart too: ``pred_to_reference_mean_m`` grows when the
    line wanders off the front, ``reference_to_pred_mean_m`` when it covers only part of
    it. A line in the right place but too short shows as the second far above the first."""
    per_front = []
    pooled_pred, pooled_reference = [], []
    for pred, truth in pairs:
        to_reference, to_pred = front_distances(pred, truth, spacing_m)
        pooled_pred.append(to_reference)
        pooled_reference.append(to_pred)
        per_front.append(_stats(to_reference, to_pred))
    return {
        **_stats(_joined(pooled_pred), _joined(pooled_reference)),
        "n_fronts": len(per_front),
        "per_front": per_front,
    }


def _joined(chunks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.zeros(0)


def _stats(to_reference: np.ndarray, to_pred: np.ndarray) -> dict:
    distances = np.concatenate([to_reference, to_pred])
    if len(distances) == 0:
        return {
            "mean_m": None,
            "median_m": None,
            "n_points": 0,
            "pred_to_reference_mean_m": None,
            "reference_to_pred_mean_m": None,
        }
    return {
        "mean_m": float(np.mean(distances)),
        "median_m": float(np.median(distances)),
        "n_points": int(len(distances)),
        "pred_to_reference_mean_m": float(np.mean(to_reference)),
        "reference_to_pred_mean_m": float(np.mean(to_pred)),
    }
