"""evaluate-fronts end to end on small GeoPackages written in tmp_path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import LineString, Point

from calvingfronts.evaluation.evaluate_fronts import (
    FrontsInputError,
    evaluate_fronts,
    evaluate_fronts_main,
    match_by_date,
)

CRS = "EPSG:3413"
TERMINI = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "data"
    / "jakobshavn_termini"
    / "jakobshavn_1990_2023_TP.shp"
)


def front(offset=0.0, x0=-190_000.0, y0=-2_270_000.0, length=5000.0):
    """A straight 5 km front; ``offset`` shifts it north by that many metres."""
    return LineString([(x0, y0 + offset), (x0 + length, y0 + offset)])


def frame(rows, crs=CRS):
    """GeoDataFrame from dicts with a ``geometry`` key."""
    records = [{k: v for k, v in r.items() if k != "geometry"} for r in rows]
    return gpd.GeoDataFrame(records, geometry=[r["geometry"] for r in rows], crs=crs)


def run_cli(argv, capsys):
    code = evaluate_fronts_main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


# -- matching -------------------------------------------------------------------------------


def test_match_by_scene_id_counts_missing_and_extra():
    pred = frame(
        [
            {"scene_id": "S1", "geometry": front(20.0)},
            {"scene_id": "S2", "geometry": front(20.0)},
            {"scene_id": "S3", "geometry": front(500.0)},
        ]
    )
    truth = frame(
        [
            {"scene_id": "S1", "geometry": front()},
            {"scene_id": "S2", "geometry": front()},
            {"scene_id": "S4", "geometry": front()},
        ]
    )
    result = evaluate_fronts(pred, truth, spacing_m=50.0)
    assert result["matched_by"] == "scene_id"
    assert (result["matched"], result["missing"], result["extra"]) == (2, 1, 1)
    assert result["missing_fronts"] == ["S4"] and result["extra_fronts"] == ["S3"]
    assert result["mean_distance_m"] == pytest.approx(20.0)
    assert result["median_distance_m"] == pytest.approx(20.0)
    assert [f["pred_scene_id"] for f in result["per_front"]] == ["S1", "S2"]
    assert result["per_front"][0]["n_points"] == 2 * 101
    assert "mean_distance_px" not in result


def test_match_by_date_within_tolerance_nearest_first():
    pred = frame(
        [
            {"acquired": "2019-07-14T13:00:00Z", "geometry": front(30.0)},
            {"acquired": "2019-07-15T13:00:00Z", "geometry": front(10.0)},
            {"acquired": "2019-08-20T13:00:00Z", "geometry": front(10.0)},
        ]
    )
    truth = frame(
        [
            {"Date": "2019/07/15", "geometry": front()},
            {"Date": "2019/08/23", "geometry": front()},
        ]
    )
    strict = evaluate_fronts(pred, truth, tolerance_days=1, spacing_m=50.0)
    assert strict["matched_by"] == "date"
    # Both July predictions are within a day of 15 July; the same-day one wins, and the
    # reference is used once.
    assert (strict["matched"], strict["missing"], strict["extra"]) == (1, 1, 2)
    assert strict["per_front"][0]["pred_acquired"] == "2019-07-15T13:00:00Z"
    assert strict["per_front"][0]["truth_acquired"] == "2019-07-15"
    assert strict["mean_distance_m"] == pytest.approx(10.0)
    assert strict["missing_fronts"] == ["2019-08-23"]

    loose = evaluate_fronts(pred, truth, tolerance_days=3, spacing_m=50.0)
    assert (loose["matched"], loose["missing"], loose["extra"]) == (2, 0, 1)


def test_match_by_date_helper_is_one_to_one():
    times = pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-02"], utc=True)
    truth = pd.to_datetime(["2020-01-02"], utc=True)
    assert match_by_date(times, truth, 5) == [(1, 0)]
    assert match_by_date(times, truth, 0) == [(1, 0)]
    assert match_by_date(times[:1], truth, 0) == []


def test_ids_that_do_not_overlap_fall_back_to_dates():
    pred = frame([{"scene_id": "A", "acquired": "2020-03-01T10:00:00Z", "geometry": front(5)}])
    truth = frame([{"scene_id": "Z", "date": "2020-03-01", "geometry": front()}])
    result = evaluate_fronts(pred, truth)
    assert result["matched_by"] == "date" and result["matched"] == 1


def test_truth_is_reprojected_to_the_prediction_crs():
    pred = frame([{"scene_id": "S1", "geometry": front(25.0)}])
    truth = frame([{"scene_id": "S1", "geometry": front()}]).to_crs("EPSG:4326")
    result = evaluate_fronts(pred, truth, spacing_m=50.0)
    assert result["crs"] == CRS
    assert result["mean_distance_m"] == pytest.approx(25.0, abs=0.01)


def test_pixels_from_option_or_column():
    pred = frame([{"scene_id": "S1", "pixel_size_m": 10.0, "geometry": front(25.0)}])
    truth = frame([{"scene_id": "S1", "geometry": front()}])
    assert evaluate_fronts(pred, truth)["mean_distance_px"] == pytest.approx(2.5)
    assert evaluate_fronts(pred, truth, pixel_size_m=50.0)["mean_distance_px"] == 0.5


def test_pieces_of_one_scene_are_merged():
    left = LineString([(0, 0), (100, 0)])
    right = LineString([(200, 0), (300, 0)])
    pred = frame([{"scene_id": "S1", "geometry": LineString([(0, 4), (300, 4)])}])
    truth = frame([{"scene_id": "S1", "geometry": left}, {"scene_id": "S1", "geometry": right}])
    result = evaluate_fronts(pred, truth, spacing_m=10.0)
    assert (result["matched"], result["missing"]) == (1, 0)


# -- the command ----------------------------------------------------------------------------


def write_pair(tmp_path):
    pred = frame(
        [
            {"scene_id": "S1", "acquired": "2019-07-15T13:00:00Z", "geometry": front(20.0)},
            {"scene_id": "S2", "acquired": "2019-07-20T13:00:00Z", "geometry": front(40.0)},
        ]
    )
    truth = frame(
        [
            {"Date": "2019/07/15", "geometry": front()},
            {"Date": "2019/07/30", "geometry": front()},
        ]
    )
    pred_path, truth_path = tmp_path / "fronts.gpkg", tmp_path / "truth.gpkg"
    pred.to_file(pred_path, layer="fronts")
    frame([{"stage": "x", "geometry": front()}]).to_file(pred_path, layer="other")
    truth.to_file(truth_path, layer="traces")
    return pred_path, truth_path


def test_cli_prints_json(tmp_path, capsys):
    pred_path, truth_path = write_pair(tmp_path)
    argv = ["--pred", pred_path, "--truth", truth_path, "--pixel-size", "10"]
    code, result, _ = run_cli(argv, capsys)
    assert code == 0
    assert (result["matched"], result["missing"], result["extra"]) == (1, 1, 1)
    assert result["mean_distance_m"] == pytest.approx(20.0)
    assert result["mean_distance_px"] == pytest.approx(2.0)
    assert result["median_distance_px"] == pytest.approx(2.0)
    assert result["per_front"][0]["mean_m"] == pytest.approx(20.0)
    assert result["extra_fronts"] == ["S2"]


def test_cli_tolerance_and_layers(tmp_path, capsys):
    pred_path, truth_path = write_pair(tmp_path)
    argv = ["--pred", pred_path, "--pred-layer", "fronts", "--truth", truth_path]
    argv += ["--truth-layer", "traces", "--tolerance-days", "10", "--spacing-m", "25"]
    code, result, _ = run_cli(argv, capsys)
    assert code == 0
    assert (result["matched"], result["missing"], result["extra"]) == (2, 0, 0)
    assert result["mean_distance_m"] == pytest.approx(30.0)
    assert result["spacing_m"] == 25.0


def test_module_runs_as_a_script(tmp_path):
    pred_path, truth_path = write_pair(tmp_path)
    command = [sys.executable, "-m", "calvingfronts.evaluation.evaluate_fronts"]
    command += ["--pred", pred_path, "--truth", truth_path]
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    assert json.loads(completed.stdout)["matched"] == 1


# -- bad inputs: a clear message naming the file --------------------------------------------


def expect_error(capsys, pred, truth, *words, extra=()):
    code, _, err = run_cli(["--pred", pred, "--truth", truth, *extra], capsys)
    assert code == 1
    assert err.startswith("evaluate-fronts: error: ")
    for word in words:
        assert word in err, err


def test_missing_file(tmp_path, capsys):
    pred_path, _ = write_pair(tmp_path)
    expect_error(capsys, pred_path, tmp_path / "nope.gpkg", "nope.gpkg", "no such file")


def test_not_a_vector_file(tmp_path, capsys):
    pred_path, _ = write_pair(tmp_path)
    junk = tmp_path / "junk.gpkg"
    junk.write_text("not a geopackage")
    expect_error(capsys, pred_path, junk, "junk.gpkg", "cannot be read")


def test_layer_without_geometry(tmp_path, capsys):
    pred_path, _ = write_pair(tmp_path)
    table = tmp_path / "table.gpkg"
    pyogrio.write_dataframe(pd.DataFrame({"scene_id": ["S1"]}), table, layer="t")
    expect_error(capsys, pred_path, table, "table.gpkg", "no geometry column")


def test_no_scene_id_or_date_column(tmp_path, capsys):
    pred_path, _ = write_pair(tmp_path)
    bare = tmp_path / "bare.gpkg"
    frame([{"name": "x", "geometry": front()}]).to_file(bare)
    expect_error(capsys, pred_path, bare, "bare.gpkg", "no date column", "scene_id")


def test_points_are_not_fronts(tmp_path, capsys):
    pred_path, _ = write_pair(tmp_path)
    points = tmp_path / "points.gpkg"
    frame([{"scene_id": "S1", "geometry": Point(0, 0)}]).to_file(points)
    expect_error(capsys, pred_path, points, "points.gpkg", "Point", "LineString")


def test_empty_layer(tmp_path, capsys):
    pred_path, _ = write_pair(tmp_path)
    empty = tmp_path / "empty.gpkg"
    gpd.GeoDataFrame({"scene_id": pd.Series([], dtype=str)}, geometry=[], crs=CRS).to_file(empty)
    expect_error(capsys, pred_path, empty, "empty.gpkg", "empty")


def test_dates_that_are_not_dates(tmp_path, capsys):
    pred_path, _ = write_pair(tmp_path)
    bad = tmp_path / "bad_dates.gpkg"
    frame([{"Date": "mid July", "geometry": front()}]).to_file(bad)
    expect_error(capsys, pred_path, bad, "bad_dates.gpkg", "'Date'", "mid July")


def test_ambiguous_or_unknown_layer(tmp_path, capsys):
    pred_path, truth_path = write_pair(tmp_path)
    # The prediction file has layers 'fronts' and 'other': as truth, one must be named.
    expect_error(capsys, truth_path, pred_path, "fronts.gpkg", "layers")
    expect_error(capsys, pred_path, truth_path, "no layer 'nope'", extra=["--truth-layer", "nope"])


def test_evaluate_fronts_rejects_bad_frames():
    good = frame([{"scene_id": "S1", "geometry": front()}])
    with pytest.raises(FrontsInputError, match="mine: no geometry column"):
        evaluate_fronts(pd.DataFrame({"a": [1]}), good, pred_name="mine")
    with pytest.raises(ValueError, match="tolerance_days"):
        evaluate_fronts(good, good, tolerance_days=-1)


# -- real traces ----------------------------------------------------------------------------


@pytest.mark.needs_shared
def test_real_traces_against_shifted_copies(tmp_path, capsys):
    if not TERMINI.exists():
        pytest.skip(f"{TERMINI} absent: real termini are only beside the project checkout")
    traces = gpd.read_file(TERMINI).iloc[:20]
    acquired = pd.to_datetime(traces["Date"], format="%Y/%m/%d", utc=True)
    pred = gpd.GeoDataFrame(
        {
            "scene_id": [f"L8_{i:03d}" for i in range(len(traces))],
            "acquired": (acquired + pd.Timedelta(hours=14)).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        geometry=traces.geometry.translate(0.0, 40.0).to_numpy(),
        crs=traces.crs,
    )
    pred_path = tmp_path / "fronts.gpkg"
    pred.to_file(pred_path, layer="fronts")
    code, result, _ = run_cli(
        ["--pred", pred_path, "--truth", TERMINI, "--tolerance-days", "0", "--pixel-size", "30"],
        capsys,
    )
    assert code == 0
    assert result["matched"] == 20 and result["extra"] == 0
    assert result["missing"] == 414 - 20
    # A 40 m northward shift is 40 m from an east-west stretch and 0 m from a north-south
    # one; real fronts are in between.
    assert 5.0 < result["mean_distance_m"] < 40.0
    assert all(f["mean_m"] <= 40.0 for f in result["per_front"])
    assert result["mean_distance_px"] == pytest.approx(result["mean_distance_m"] / 30, abs=0.01)


# -- space and screening -----------------------------------------------------------------


def test_fronts_of_another_glacier_are_refused_not_scored(tmp_path, capsys):
    """Matched by date, fronts 67 km away once gave '18 matched, mean 76,885 m'."""
    pred = frame([{"acquired": "2020-05-01T12:00:00Z", "geometry": front(x0=-150_000.0)}])
    truth = frame([{"date": "2020/05/01", "geometry": front(y0=-2_200_000.0)}])
    pred.to_file(tmp_path / "p.gpkg", layer="fronts")
    truth.to_file(tmp_path / "t.gpkg", layer="traces")
    code, _, err = run_cli(["--pred", tmp_path / "p.gpkg", "--truth", tmp_path / "t.gpkg"], capsys)
    assert code == 1
    assert "do not overlap in space" in err and "78.3 km apart" in err


def test_screening_effect_before_and_after(tmp_path, capsys):
    kept = frame(
        [
            {"scene_id": "A", "uncertainty_m": 100.0, "geometry": front(20.0)},
            {"scene_id": "B", "uncertainty_m": 30.0, "geometry": front(40.0)},
        ]
    )
    screened = frame(
        [
            {
                "scene_id": "C",
                "uncertainty_m": 3000.0,
                "screening_test": "temporal_outlier",
                "geometry": front(2000.0),
            },
            {
                "scene_id": "D",
                "uncertainty_m": 50.0,
                "screening_test": "uncertainty",
                "geometry": front(100.0),
            },
        ]
    )
    truth = frame([{"scene_id": s, "geometry": front()} for s in "ABCD"])
    pred_path = tmp_path / "demo_fronts.gpkg"
    kept.to_file(pred_path, layer="fronts")
    screened.to_file(pred_path, layer="screened")
    truth.to_file(tmp_path / "truth.gpkg")
    code, result, _ = run_cli(["--pred", pred_path, "--truth", tmp_path / "truth.gpkg"], capsys)
    assert code == 0 and result["matched"] == 2
    effect = result["screening"]
    assert effect["before"]["fronts"] == 4 and effect["after"]["fronts"] == 2
    assert effect["after"]["mean_distance_m"] == pytest.approx(30.0)
    assert effect["before"]["mean_of_front_means_m"] == pytest.approx((20 + 40 + 2000 + 100) / 4)
    assert (effect["screened"], effect["good_fronts_lost"], effect["far_fronts_caught"]) == (
        2,
        1,
        1,
    )
    # Errors 20, 40, 2000, 100 m against bounds 100, 30, 3000, 50 m: A and C within.
    assert effect["uncertainty_coverage"] == pytest.approx(0.5)
    assert effect["uncertainty_spearman"] == pytest.approx(0.4)
    assert {f["scene_id"]: f["test"] for f in effect["screened_fronts"]} == {
        "C": "temporal_outlier",
        "D": "uncertainty",
    }
