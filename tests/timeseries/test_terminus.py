"""Terminus position and box-method area on geometry with known answers.

The fjord runs west (flow azimuth 270): x = 0 is upstream, x = -20 km the mouth; its
walls are at y = -2 km and y = +2 km.
"""

import math

import pytest
from shapely.geometry import LineString, Polygon
from shapely.geometry import box as rectangle

from calvingfronts.timeseries.terminus import (
    box_area_change,
    extend_ends,
    line_azimuth,
    orient_downstream,
    straight_centreline,
    terminus_position,
)

CENTRELINE = LineString([(0, 0), (-20_000, 0)])  # upstream -> downstream
FJORD = rectangle(-20_000, -2_000, 0, 2_000)
BOX = rectangle(-15_000, -1_500, -2_000, 1_500)  # 13 km long, 3 km wide


def _across(x: float) -> LineString:
    """A straight front from wall to wall at x."""
    return LineString([(x, -2_000), (x, 2_000)])


def test_straight_front_position_is_its_distance_from_the_centreline_start():
    assert terminus_position(_across(-7_000), CENTRELINE) == pytest.approx(7_000)


def test_more_advanced_front_has_larger_position():
    retreated = terminus_position(_across(-5_000), CENTRELINE)
    advanced = terminus_position(_across(-12_000), CENTRELINE)
    assert advanced > retreated


def test_reversed_centreline_reverses_the_convention():
    reversed_line = LineString(CENTRELINE.coords[::-1])
    assert terminus_position(_across(-7_000), reversed_line) == pytest.approx(13_000)


def test_front_short_of_the_centreline_is_extended():
    partial = LineString([(-8_000, -2_000), (-8_000, -600)])  # stops 600 m short
    assert terminus_position(partial, CENTRELINE) == pytest.approx(8_000)


def test_front_too_far_from_the_centreline_gives_none():
    partial = LineString([(-8_000, -2_000), (-8_000, -1_900)])  # 100 m long, 1.9 km short
    assert terminus_position(partial, CENTRELINE) is None
    assert terminus_position(partial, CENTRELINE, reach_m=3_000) == pytest.approx(8_000)


def test_several_crossings_take_the_one_nearest_the_front_middle():
    # An S-shaped front crossing y = 0 three times; its middle crossing is at x = -9 km.
    wiggly = LineString(
        [(-10_000, -2_000), (-10_000, -100), (-8_000, 100), (-8_000, 300), (-9_000, 0),
         (-9_000, -300), (-10_000, -50), (-10_000, 2_000)]
    )  # fmt: skip
    middle = wiggly.interpolate(0.5, normalized=True)
    position = terminus_position(wiggly, CENTRELINE)
    crossings = [p for p in (8_050.0, 9_000.0, 10_000.0) if abs(position - p) < 1]
    assert crossings, position
    # Whatever the crossing, it is the one nearest the middle along the front.
    candidates = wiggly.intersection(CENTRELINE)
    best = min(candidates.geoms, key=lambda p: abs(wiggly.project(p) - wiggly.project(middle)))
    assert position == pytest.approx(CENTRELINE.project(best))


def test_box_area_of_a_straight_front_is_width_times_distance():
    area, width = box_area_change(_across(-7_000), BOX, CENTRELINE)
    assert width == pytest.approx(3_000)
    assert area == pytest.approx(3_000 * 5_000)  # upstream edge at x = -2 km
    assert area / width == pytest.approx(5_000)


def test_box_area_of_a_slanted_front_is_its_mean_position():
    # From x = -6 km on one side of the box to x = -8 km on the other: mean 7 km from x=0.
    slanted = LineString([(-6_000, -1_500), (-8_000, 1_500)])
    area, width = box_area_change(slanted, BOX, CENTRELINE)
    assert area / width == pytest.approx(5_000)


def test_box_area_extends_a_front_that_does_not_span_the_box():
    short = LineString([(-7_000, -500), (-7_000, 500)])
    area, _ = box_area_change(short, BOX, CENTRELINE)
    assert area == pytest.approx(3_000 * 5_000)


def test_front_outside_the_box_gives_none_and_the_width():
    area, width = box_area_change(_across(-18_000), BOX, CENTRELINE)
    assert area is None
    assert width == pytest.approx(3_000)


def test_box_area_grows_as_the_front_advances():
    areas = [box_area_change(_across(x), BOX, CENTRELINE)[0] for x in (-4_000, -9_000, -14_000)]
    assert areas == sorted(areas)


def test_box_area_follows_a_bent_box():
    # A centreline bending 90 degrees, its box a buffer with flat ends, 2 km wide.
    bent = LineString([(0, 0), (-10_000, 0), (-10_000, -10_000)])
    box = bent.buffer(1_000, cap_style="flat", join_style="mitre")
    front = LineString([(-11_000, -5_000), (-9_000, -5_000)])  # across the second leg
    area, width = box_area_change(front, box, bent)
    assert width == pytest.approx(2_000, rel=0.01)
    assert area / width == pytest.approx(15_000, rel=0.01)


def test_straight_centreline_runs_downstream_through_the_fjord():
    line = straight_centreline(FJORD, 270)
    assert line_azimuth(line) == pytest.approx(270)
    assert line.length == pytest.approx(20_000)
    assert line.coords[0][0] == pytest.approx(0)


def test_orient_and_extend():
    assert line_azimuth(orient_downstream(CENTRELINE, 90)) == pytest.approx(90)
    longer = extend_ends(LineString([(0, 0), (1_000, 0)]), 500)
    assert longer.length == pytest.approx(2_000)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="front"):
        terminus_position(LineString(), CENTRELINE)
    with pytest.raises(ValueError, match="centreline does not run through the box"):
        box_area_change(_across(-7_000), Polygon([(5, 5), (6, 5), (6, 6)]), CENTRELINE)
    assert math.isfinite(terminus_position(_across(-1), CENTRELINE))
