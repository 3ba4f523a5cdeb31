"""Uncertainty: the members' spread, its calibration into a 90 % bound, and the files."""

import json
import shutil

import numpy as np
import pytest
from affine import Affine
from shapely.geometry import LineString, box

from calvingfronts.evaluation.calibrate import calibrate_members, markdown_table, write_calibration
from calvingfronts.fronts.scene_front import scene_front
from calvingfronts.fronts.uncertainty import (
    Calibration,
    calibration_path,
    calibration_report,
    fit_calibration,
    member_spread,
    read_calibration,
)

PIXEL = 50.0


def test_members_that_agree_have_no_spread_and_a_missing_member_counts_as_far():
    front = LineString([(0, 0), (5000, 0)])
    assert member_spread([front, front], front) == (0.0, 0)
    shifted = LineString([(0, 100), (5000, 100)])
    spread, missing = member_spread([front, shifted], front)
    assert spread == pytest.approx(50.0) and missing == 0
    spread, missing = member_spread([front, None], front)
    assert spread == pytest.approx(2500.0) and missing == 1


def _band(row, shape=(80, 120)):
    probability = np.full(shape, 0.02, dtype=np.float32)
    probability[row - 1 : row + 2, 5:-5] = 0.9
    return probability


def test_the_consensus_front_and_its_spread_from_member_maps():
    transform = Affine(PIXEL, 0, 0, 0, -PIXEL, 80 * PIXEL)
    fjord = box(0, 0, 120 * PIXEL, 80 * PIXEL)
    agreeing = np.stack([_band(40)] * 4)
    result, spread, missing = scene_front(agreeing, transform, fjord, flow_azimuth=0.0)
    assert result.front is not None and spread == pytest.approx(0.0, abs=1.0) and missing == 0
    # One member sees the front 20 pixels away: the consensus stays, the spread grows.
    disagreeing = np.stack([_band(40)] * 3 + [_band(60)])
    result, spread, missing = scene_front(disagreeing, transform, fjord, flow_azimuth=0.0)
    assert result.front is not None
    assert spread == pytest.approx(20 * PIXEL / 4, rel=0.1), "one member of four, 20 px off"
    # One member only: a front, no spread.
    result, spread, _ = scene_front(agreeing[:1], transform, fjord, flow_azimuth=0.0)
    assert result.front is not None and spread is None


def test_the_fitted_bound_covers_the_asked_share_of_fronts():
    rng = np.random.default_rng(0)
    spreads = rng.lognormal(4.0, 1.2, 200)
    errors = 60.0 + 2.0 * spreads * rng.lognormal(0.0, 0.5, 200)
    pixels = np.full(200, PIXEL)
    calibration = fit_calibration(spreads, errors, pixels, coverage=0.9)
    bounds = [calibration.uncertainty_m(s, PIXEL) for s in spreads]
    assert np.mean(errors <= bounds) == pytest.approx(0.9, abs=0.01)
    assert calibration.floor_px > 0 and calibration.scale > 0
    tighter = fit_calibration(spreads, errors, pixels, coverage=0.5)
    assert tighter.uncertainty_m(100.0, PIXEL) < calibration.uncertainty_m(100.0, PIXEL)
    with pytest.raises(ValueError, match="at least 5 fronts"):
        fit_calibration(spreads[:3], errors[:3], pixels[:3])


def test_the_report_counts_what_each_cut_off_keeps_and_catches():
    uncertainty = [100, 150, 300, 900, 2000]
    errors = [50, 120, 250, 1500, 3000]
    report = calibration_report(uncertainty, errors, cutoffs_m=(200.0, 1000.0))
    assert report["coverage"] == pytest.approx(0.6)  # 50<=100, 120<=150, 250<=300
    assert report["spearman"] == pytest.approx(1.0)
    first, second = report["cutoffs"]
    assert (first["kept"], first["far_caught"], first["near_lost"]) == (2, 2, 0)
    assert first["mean_kept_m"] == pytest.approx(85.0)
    assert (second["kept"], second["far_caught"], second["near_lost"]) == (4, 1, 0)


def _fake_report(n=12):
    rng = np.random.default_rng(1)
    spreads = rng.lognormal(4.0, 1.0, n)
    per_image = [
        {"image": f"i{k}", "front_found": True, "spread_m": float(s), "mean_m": float(80 + 2 * s)}
        for k, s in enumerate(spreads)
    ]
    return {
        "per_image": per_image,
        "pixel_size_m": 49.0,
        "n_images": n,
        "n_no_front": 0,
        "mean_m": 200.0,
        "median_m": 90.0,
    }


def test_calibration_file_is_tied_to_the_model_file(tmp_path, repo):
    model = tmp_path / "m.onnx"
    shutil.copy(repo / "models" / "demo-drn-deeplabv3plus.onnx", model)
    fit = calibrate_members(_fake_report(), 0.9, "test")
    assert 0.0 <= fit["leave_one_out_coverage"] <= 1.0
    assert "| 4 |" in markdown_table({4: fit})
    path = write_calibration(model, {4: fit})
    assert path == calibration_path(model) == tmp_path / "m.uncertainty.json"
    calibration = read_calibration(model, 4)
    assert isinstance(calibration, Calibration) and calibration.scale == fit["scale"]
    assert read_calibration(model, 8) is None, "no fit for 8 members"
    assert read_calibration(model, 1) is None, "one member has no spread"
    model.write_bytes(model.read_bytes() + b"\0")
    with pytest.raises(ValueError, match="another version"):
        read_calibration(model, 4)
    path.write_text(json.dumps({"nothing": 1}))
    with pytest.raises(ValueError, match="not a calibration file"):
        read_calibration(model, 4)


def test_a_calibration_with_position_errors_bounds_the_position_too(tmp_path, repo):
    """Fronts whose position error is known (evaluate-images' ``position_error_m``) get a
    position bound of the line's form; without them the calibration has none."""
    report = _fake_report(20)
    for k, entry in enumerate(report["per_image"]):
        entry["position_error_m"] = (-1) ** k * (40 + 1.5 * entry["spread_m"])
    fit = calibrate_members(report, 0.9, "test")
    position = fit["position"]
    assert position["n_fronts"] == 20 and position["coverage"] >= 0.9
    assert 0.0 <= position["leave_one_out_coverage"] <= 1.0
    model = tmp_path / "m.onnx"
    shutil.copy(repo / "models" / "demo-drn-deeplabv3plus.onnx", model)
    write_calibration(model, {4: fit})
    calibration = read_calibration(model, 4)
    assert calibration.position_scale == position["scale"]
    bound = calibration.position_uncertainty_m(100.0, 49.0)
    assert bound == pytest.approx(np.hypot(position["floor_px"] * 49.0, position["scale"] * 100))
    without = calibrate_members(_fake_report(), 0.9, "test")
    assert "position" not in without
    write_calibration(model, {4: without})
    assert read_calibration(model, 4).position_uncertainty_m(100.0, 49.0) is None


def test_the_shipped_model_has_a_calibration(repo):
    calibration = read_calibration(repo / "models" / "frontlearning-all-drn-deeplabv3plus.onnx", 8)
    assert calibration is not None and calibration.coverage == 0.9
    assert "jakobshavn" in calibration.fitted_on


def test_the_model_card_gets_one_calibration_section(tmp_path):
    from calvingfronts.evaluation.calibrate import CARD_SECTION, card_section, update_card

    card = tmp_path / "m.md"
    card.write_text("# Model card\n\n## Data\n\nx\n\n## Configuration\n\n{}\n")
    fit = calibrate_members(_fake_report(), 0.9, "test")
    for _ in range(2):
        update_card(card, card_section({4: fit}, "calvingfronts calibrate-uncertainty ..."))
    text = card.read_text()
    assert text.count(CARD_SECTION) == 1
    assert text.index("## Data") < text.index(CARD_SECTION) < text.index("## Configuration")
    assert f"| 4 | {fit['scale']} | {fit['floor_px']} |" in text


def test_fold_reports_pool_into_one_calibration_report():
    from calvingfronts.evaluation.calibrate import merge_fold_reports

    a, b = _fake_report(6), _fake_report(8)
    a.update(n_points=100, mean_m=100.0, n_no_front=1)
    b.update(n_points=300, mean_m=300.0, n_no_front=2)
    merged = merge_fold_reports({"a": a, "b": b})
    assert merged["mean_m"] == pytest.approx(250.0)  # weighted by the distances
    assert merged["median_m"] is None  # a report keeps no distances to pool a median from
    assert merged["n_images"] == 14 and merged["n_no_front"] == 3
    assert len(merged["per_image"]) == 14
    assert merge_fold_reports({"a": a}) is a  # one held-out glacier: its report as it is
    fit = calibrate_members(merged, 0.9, "folds")
    assert "| 4 | " in markdown_table({4: fit})
    b["pixel_size_m"] = 30.0
    with pytest.raises(ValueError, match="different pixel sizes"):
        merge_fold_reports({"a": a, "b": b})


def test_calibrate_takes_a_glacier_or_folds(tmp_path, capsys):
    from calvingfronts.evaluation.calibrate import calibrate_main

    base = ["--images", str(tmp_path), "--labels", str(tmp_path), "--pixel-size", "49"]
    with pytest.raises(SystemExit):
        calibrate_main(base)
    assert "either --glacier or --fold" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        calibrate_main([*base, "--glacier", "jakobshavn", "--fold", "a=b.onnx"])
    assert "either --glacier or --fold" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        calibrate_main([*base, "--fold", "jakobshavn"])
    assert "expected GLACIER=MODEL" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        calibrate_main([*base, "--fold", f"jakobshavn={tmp_path / 'none.onnx'}"])
    assert "no model file" in capsys.readouterr().err
