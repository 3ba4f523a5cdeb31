"""Fronts from zones: the glacier-ocean boundary inside the fjord, placed on the front
head's ridge, and the choice between the two readings of a scene."""

import numpy as np
import pytest
import shapely
from affine import Affine
from shapely.geometry import LineString, box

from calvingfronts.evaluation.metrics import symmetric_mean_distance
from calvingfronts.fronts.scene_front import scene_front
from calvingfronts.fronts.vectorize import extract_front
from calvingfronts.fronts.zones import zone_front

PIXEL = 30.0
H, W = 120, 160
NAMES = ("rock", "glacier", "ocean")
TRANSFORM = Affine(PIXEL, 0, 0, 0, -PIXEL, H * PIXEL)
# The fjord: columns 20-150 of the grid, every row; the ice flows up (towards row 0).
FJORD = box(20 * PIXEL, 0, 150 * PIXEL, H * PIXEL)
ROWS, COLS = np.mgrid[0:H, 0:W]


def _boundary_row(cols):
    """The true front's row (pixel-centre coordinates) at each column."""
    return 60.0 + 8.0 * np.sin(np.asarray(cols) / 15.0)


def _truth() -> LineString:
    cols = np.arange(0, W, 0.25)
    xs, ys = TRANSFORM * (cols + 0.5, _boundary_row(cols) + 0.5)
    return shapely.intersection(LineString(np.column_stack([xs, ys])), FJORD)


def _zones(rock_columns=20) -> np.ndarray:
    """Zones whose glacier-ocean boundary is the true front; rock left of the fjord."""
    ocean = _boundary_row(COLS) > ROWS
    zones = np.empty((3, H, W), np.float32)
    zones[0] = 0.05
    zones[1] = np.where(ocean, 0.1, 0.85)
    zones[2] = np.where(ocean, 0.85, 0.1)
    zones[:, :, :rock_columns] = [[[0.9]], [[0.05]], [[0.05]]]
    return zones


def _head(cols=slice(None)) -> np.ndarray:
    """A front head's map: a ridge on the true front, over ``cols`` only."""
    head = np.exp(-((ROWS - _boundary_row(COLS)) ** 2) / 2.0).astype(np.float32)
    kept = np.zeros(W, bool)
    kept[cols] = True
    return np.where(kept[None, :], head, 0.0).astype(np.float32)


def test_the_zone_boundary_is_the_front_from_wall_to_wall():
    result = zone_front(_zones(), NAMES, TRANSFORM, FJORD)
    assert result.reason is None
    assert result.quality["span_fraction"] == 1.0, "both ends on the fjord's walls"
    assert symmetric_mean_distance(result.front, _truth()) < 0.6 * PIXEL
    assert result.quality["drawn_from"] == "zones"


def test_the_front_heads_ridge_places_the_boundary():
    """Zones a pixel off the front (coarse, as a zone head is) move onto the head's ridge."""
    zones = np.roll(_zones(), 1, axis=1)
    off = zone_front(zones, NAMES, TRANSFORM, FJORD, ridge_px=0)
    placed = zone_front(zones, NAMES, TRANSFORM, FJORD, front_probability=_head())
    truth = _truth()
    assert symmetric_mean_distance(placed.front, truth) < 0.5 * symmetric_mean_distance(
        off.front, truth
    )


def test_icebergs_lakes_and_coasts_make_no_front():
    zones = _zones()
    iceberg = (ROWS - 20) ** 2 + (COLS - 80) ** 2 < 25  # glacier zone in the ocean
    lake = (ROWS - 100) ** 2 + (COLS - 60) ** 2 < 16  # ocean zone on the glacier
    coast = (COLS >= 20) & (COLS < 30) & (ROWS < 40)  # rock inside the fjord, beside the sea
    zones[:, iceberg] = np.array([0.05, 0.9, 0.05])[:, None]
    zones[:, lake] = np.array([0.05, 0.05, 0.9])[:, None]
    zones[:, coast] = np.array([0.9, 0.05, 0.05])[:, None]
    result = zone_front(zones, NAMES, TRANSFORM, FJORD)
    assert symmetric_mean_distance(result.front, _truth()) < 0.6 * PIXEL
    assert result.front.length < 1.3 * _truth().length


def test_no_ocean_in_the_fjord_is_a_reason_not_an_error():
    zones = _zones()
    zones[2], zones[1] = 0.0, 1.0
    result = zone_front(zones, NAMES, TRANSFORM, FJORD)
    assert result.front is None and "no ocean zone" in result.reason


def test_zones_that_do_not_match_their_names_are_refused():
    with pytest.raises(ValueError, match="lack"):
        zone_front(_zones(), ("rock", "ice", "sea"), TRANSFORM, FJORD)
    with pytest.raises(ValueError, match="zones must be"):
        zone_front(_zones()[:2], NAMES, TRANSFORM, FJORD)


def test_a_front_the_head_draws_partly_is_drawn_whole_from_the_zones():
    """The head sees 40 % of the front (rejected as partial); the zones span the fjord."""
    options = {"min_span_fraction": 0.6, "flow_azimuth": 0.0, "min_angle_to_flow": 30.0}
    members = np.stack([_head(slice(60, 112)), _head(slice(58, 110))])
    head_only, _, _ = scene_front(members, TRANSFORM, FJORD, **options, fronts_from="head")
    assert head_only.front is None and "partial" in head_only.reason
    result, spread, missing = scene_front(
        members, TRANSFORM, FJORD, zones=_zones(), zone_names=NAMES, fronts_from="zones", **options
    )
    assert result.quality["drawn_from"] == "zones" and "partial" in result.quality["head_reason"]
    assert symmetric_mean_distance(result.front, _truth()) < 0.6 * PIXEL
    # The views' spread is measured against the front reported: each view's partial line
    # is far from the whole front (the part it does not draw).
    assert spread > 5 * PIXEL and missing == 2


def test_without_zones_the_scene_front_is_the_heads():
    members = np.stack([_head(), _head()])
    head = extract_front(members.mean(axis=0), TRANSFORM, FJORD)
    result, spread, missing = scene_front(members, TRANSFORM, FJORD)
    assert result.front.equals(head.front) and spread == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="fronts_from"):
        scene_front(members, TRANSFORM, FJORD, fronts_from="both")


def test_both_readings_distance_is_recorded_whichever_is_kept():
    members = _head()[np.newaxis]
    for source in ("head", "zones"):
        result, _, _ = scene_front(
            members, TRANSFORM, FJORD, zones=_zones(), zone_names=NAMES, fronts_from=source
        )
        assert result.quality.get("drawn_from", "head") == source
        assert result.quality["readings_distance_m"] < PIXEL
    zones = _zones()
    zones[2], zones[1] = 0.0, 1.0
    result, _, _ = scene_front(members, TRANSFORM, FJORD, zones=zones, zone_names=NAMES)
    assert result.quality["readings_distance_m"] is None
    assert "no ocean zone" in result.quality["zone_reason"]
