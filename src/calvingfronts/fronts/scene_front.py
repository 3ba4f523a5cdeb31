"""One scene's front from everything the network says about it: the front head's map for
each view, and the zones where the model has a zone head.

``fronts_from`` (config ``vectorize.fronts_from``) picks the reading:

- ``head`` (the default): the front head's line
  (:func:`calvingfronts.fronts.vectorize.extract_front`).
- ``zones``: the glacier-ocean boundary inside the fjord, placed on the front head's ridge
  (:func:`calvingfronts.fronts.zones.zone_front`); the head's own line only where the
  zones give no front.

A model without a zone head always reads the head. With one, the other reading is drawn
too, and where both give a front their distance (``readings_distance_m`` in the quality
figures) says how much they agree: evidence of how far to trust the front.

Either way the views' spread is measured against the front that is reported: each view's
head line against it (:func:`calvingfronts.fronts.uncertainty.member_spread`). The
calibrations are fitted on the head's fronts, so the vectorize stage gives a zone front no
``uncertainty_m`` (a calibration of zone fronts is the error-bars issue's to fit).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from calvingfronts.fronts.uncertainty import member_spread
from calvingfronts.fronts.vectorize import FrontResult, extract_front
from calvingfronts.fronts.zones import reading_distance_m, zone_front

FRONT_SOURCES = ("head", "zones")
# extract_front's options that a zone front shares (the rest shape the head's line only).
_ZONE_OPTIONS = (
    "threshold",
    "min_length_m",
    "ridge_px",
    "smooth_px",
    "extend_px",
    "min_span_fraction",
    "flow_azimuth",
    "min_angle_to_flow",
)


def check_front_source(source: str) -> str:
    if source not in FRONT_SOURCES:
        raise ValueError(f"vectorize.fronts_from must be one of {FRONT_SOURCES}, got {source!r}")
    return source


def scene_front(
    member_probabilities: np.ndarray,
    transform,
    fjord,
    valid: np.ndarray | None = None,
    zones: np.ndarray | None = None,
    zone_names: Sequence[str] = (),
    fronts_from: str = "head",
    **options,
) -> tuple[FrontResult, float | None, int]:
    """(the scene's front, the views' spread in metres or None, views without a front).

    ``member_probabilities`` (views, H, W) are the front head's maps, ``zones`` (zones, H, W)
    the views' mean zone probabilities named by ``zone_names`` (None without a zone head);
    ``options`` are :func:`extract_front`'s. With one view there is no spread.
    """
    check_front_source(fronts_from)
    members = np.asarray(member_probabilities)
    if members.ndim != 3:
        raise ValueError(f"expected member probabilities (members, H, W), got {members.shape}")
    mean = members.mean(axis=0)
    head = extract_front(mean, transform, fjord, valid=valid, **options)
    result = head
    if zones is not None:
        shared = {key: options[key] for key in _ZONE_OPTIONS if key in options}
        drawn = zone_front(zones, zone_names, transform, fjord, valid, mean, **shared)
        distance = reading_distance_m(head.front, drawn.front)
        distance = None if distance is None else round(distance, 1)
        if fronts_from == "zones" and drawn.front is not None:
            drawn.quality.update(readings_distance_m=distance, head_reason=head.reason)
            result = drawn
        else:
            head.quality.update(readings_distance_m=distance, zone_reason=drawn.reason)
    if result.front is None or len(members) < 2:
        return result, None, 0
    fronts = [extract_front(p, transform, fjord, valid=valid, **options).front for p in members]
    spread, missing = member_spread(fronts, result.front)
    return result, spread, missing
