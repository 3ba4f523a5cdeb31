"""Front distance metrics on geometries whose answers can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from shapely.geometry import LineString, MultiLineString, Point

from calvingfronts.evaluation.metrics import (
    densify,
    front_distances,
    pooled_summary,
    symmetric_mean_distance,
)


def test_densify_includes_ends_and_keeps_spacing():
    points = densify(LineString([(0, 0), (100, 0)]), 10.0)
    assert len(points) == 11
    np.testing.assert_allclose(points[:, 0], np.arange(0, 101, 10))
    # 95 m at 10 m: ten equal steps of 9.5 m, never more than the spacing.
    points = densify(LineString([(0, 0), (95, 0)]), 10.0)
    assert len(points) == 11
    np.testing.assert_allclose(np.diff(points[:, 0]), 9.5)


def test_densify_multilinestring_and_empty():
    multi = MultiLineString([[(0, 0), (20, 0)], [(0, 50), (0, 80)]])
    assert len(densify(multi, 10.0)) == 3 + 4
    assert densify(LineString(), 10.0).shape == (0, 2)
    with pytest.raises(ValueError, match="spacing_m"):
        densify(multi, 0.0)


@pytest.mark.parametrize("d", [0.0, 7.5, 250.0])
def test_parallel_lines_are_d_apart(d):
    pred = LineString([(0, 0), (1000, 0)])
    truth = LineString([(0, d), (1000, d)])
    to_truth, to_pred = front_distances(pred, truth, spacing_m=10.0)
    np.testing.assert_allclose(to_truth, d, atol=1e-9)
    np.testing.assert_allclose(to_pred, d, atol=1e-9)
    assert symmetric_mean_distance(pred, truth) == pytest.approx(d)


def test_partial_prediction_is_penalised_from_the_truth_side():
    pred = LineString([(0, 0), (500, 0)])
    truth = LineString([(0, 0), (1000, 0)])
    to_truth, to_pred = front_distances(pred, truth, spacing_m=10.0)
    assert len(to_truth) == 51 and not to_truth.any()
    # Truth points at x = 510 ... 1000 are x - 500 away: 10 * (1 + ... + 50) = 12750.
    assert to_pred.sum() == pytest.approx(12750.0)
    assert symmetric_mean_distance(pred, truth, 10.0) == pytest.approx(12750.0 / (51 + 101))


def test_distance_is_to_the_line_not_its_vertices():
    """A reference with two vertices measures the same as one with a hundred."""
    pred = LineString([(0, 3), (1000, 3)])
    sparse = LineString([(0, 0), (1000, 0)])
    dense = LineString([(x, 0) for x in np.linspace(0, 1000, 100)])
    assert symmetric_mean_distance(pred, sparse) == pytest.approx(
        symmetric_mean_distance(pred, dense)
    )


def test_multilinestring_prediction():
    pred = MultiLineString([[(0, 5), (400, 5)], [(600, 5), (1000, 5)]])
    truth = LineString([(0, 0), (1000, 0)])
    to_truth, to_pred = front_distances(pred, truth, spacing_m=10.0)
    np.testing.assert_allclose(to_truth, 5.0)
    # Truth points in the hole (x = 410 ... 590) are farther than 5 m from both pieces.
    assert to_pred.max() == pytest.approx(np.hypot(100.0, 5.0))


def test_pooled_summary_weights_points_not_fronts():
    truth = LineString([(0, 0), (1000, 0)])
    near = LineString([(0, 10), (1000, 10)])
    far_short = (LineString([(0, 30), (100, 30)]), LineString([(0, 0), (100, 0)]))
    summary = pooled_summary([(near, truth), far_short], spacing_m=10.0)
    assert summary["n_fronts"] == 2
    assert [f["mean_m"] for f in summary["per_front"]] == pytest.approx([10.0, 30.0])
    n_near, n_far = 2 * 101, 2 * 11
    assert summary["n_points"] == n_near + n_far
    assert summary["mean_m"] == pytest.approx((10 * n_near + 30 * n_far) / (n_near + n_far))
    assert summary["median_m"] == pytest.approx(10.0)


def test_pooled_summary_of_nothing():
    assert pooled_summary([]) == {
        "mean_m": None,
        "median_m": None,
        "n_points": 0,
        "pred_to_reference_mean_m": None,
        "reference_to_pred_mean_m": None,
        "n_fronts": 0,
        "per_front": [],
    }


def test_pooled_summary_tells_a_short_line_from_an_offset_one():
    truth = LineString([(0, 0), (1000, 0)])
    short = LineString([(0, 0), (500, 0)])  # in place, half the front
    offset = LineString([(0, 100), (1000, 100)])  # the whole front, 100 m off
    short_stats = pooled_summary([(short, truth)], spacing_m=10.0)
    offset_stats = pooled_summary([(offset, truth)], spacing_m=10.0)
    assert short_stats["pred_to_reference_mean_m"] == pytest.approx(0.0)
    # The reference's far half is 0-500 m beyond the line's end: 125 m on average overall.
    assert short_stats["reference_to_pred_mean_m"] == pytest.approx(125.0, rel=0.02)
    assert offset_stats["pred_to_reference_mean_m"] == pytest.approx(100.0)
    assert offset_stats["reference_to_pred_mean_m"] == pytest.approx(100.0)
    assert short_stats["per_front"][0]["reference_to_pred_mean_m"] == pytest.approx(
        short_stats["reference_to_pred_mean_m"]
    )


def test_bad_geometries_raise():
    line = LineString([(0, 0), (1, 0)])
    with pytest.raises(ValueError, match="predicted front is empty"):
        front_distances(LineString(), line)
    with pytest.raises(ValueError, match="reference front is a Point"):
        front_distances(line, Point(0, 0))
