"""evaluate-images: label lines, scoring with the workflow's post-processing, the CLI."""

import json

import numpy as np
import pytest
from conftest import export_tiny_unet
from PIL import Image

from calvingfronts.evaluation.evaluate_images import (
    evaluate_images_main,
    image_transform,
    label_line,
    resampled,
    score_probability,
    summarize,
    turned,
    turned_azimuth,
)
from calvingfronts.fronts.vectorize import cross_flow_extent
from calvingfronts.inference import default_model
from calvingfronts.inference.default_model import CHECKOUT, DEFAULT_MODEL

PIXEL = 50.0


def _front(shape=(64, 96), row=30):
    front = np.zeros(shape, bool)
    front[row, 5:90] = True
    return front


def test_label_line_follows_the_skeleton():
    line = label_line(_front(), image_transform((64, 96), PIXEL))
    assert line.length == pytest.approx(84 * PIXEL)
    assert label_line(np.zeros((8, 8), bool), image_transform((8, 8), PIXEL)) is None


def test_a_perfect_probability_scores_near_zero():
    front = _front()
    probability = np.where(np.abs(np.arange(64)[:, None] - 30) <= 1, 0.9, 0.05)
    probability = probability * (np.arange(96)[None, :] >= 5) * (np.arange(96)[None, :] < 90)
    pred, truth, reason = score_probability(probability.astype(np.float32), front, PIXEL)
    assert reason is None
    report = summarize(["a"], [(pred, truth, reason)], PIXEL)
    assert report["mean_m"] < PIXEL and report["n_no_front"] == 0


def test_no_front_is_counted_not_scored():
    pred, truth, reason = score_probability(np.zeros((64, 96), np.float32), _front(), PIXEL)
    report = summarize(["a"], [(pred, truth, reason)], PIXEL)
    assert pred is None and report["n_no_front"] == 1 and report["mean_m"] is None


@pytest.mark.parametrize("target", [20.0, 30.0, 75.0])
def test_resampled_image_keeps_its_extent_and_front(target):
    """A front found on the image resampled to the workflow's pixel sizes lies where the
    label on the original image says, in metres."""
    front = _front()
    probability = np.where(np.abs(np.arange(64)[:, None] - 30) <= 1, 0.9, 0.05)
    probability = probability * (np.arange(96)[None, :] >= 5) * (np.arange(96)[None, :] < 90)
    zoomed, transform = resampled(probability.astype(np.float32), PIXEL, target)
    assert transform * (zoomed.shape[1], zoomed.shape[0]) == pytest.approx((96 * PIXEL, 0.0))
    assert transform.a == pytest.approx(target, rel=0.02)
    truth = label_line(front, image_transform(front.shape, PIXEL))
    pred, _, reason = score_probability(
        zoomed, front, target, transform=transform, flow_azimuth=0.0, truth=truth
    )
    assert reason is None
    report = summarize(["a"], [(pred, truth, reason)], target)
    assert report["mean_m"] < max(target, PIXEL)


@pytest.mark.parametrize("rotate", [90, 180, 270])
def test_turning_keeps_the_front_across_the_flow(rotate):
    """Image, label and flow turn together: the front still crosses the flow."""
    front = turned(_front(), rotate)
    flow = turned_azimuth(0.0, rotate)
    line = label_line(front, image_transform(front.shape, PIXEL))
    xy = np.asarray(line.coords) if line.geom_type == "LineString" else None
    assert cross_flow_extent(xy, flow) == pytest.approx(84 * PIXEL)
    assert cross_flow_extent(xy, flow + 90.0) == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="multiple of 90"):
        turned(front, 45)


def test_cli_prints_json(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = export_tiny_unet(tmp_path / "m.onnx", "linear")
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    # FrontLearning-style names: the WRS-2 path/row says the glacier.
    for name in ("LE07_L1TP_008011_20000323_x", "LC08_L1TP_230012_20150801_x"):
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 96), np.uint8)).save(
            tmp_path / "images" / f"{name}_Subset.png"
        )
        Image.fromarray(np.where(_front(), 0, 255).astype(np.uint8)).save(
            tmp_path / "labels" / f"{name}_Front.png"
        )
    args = ["--images", str(tmp_path / "images"), "--labels", str(tmp_path / "labels")]
    args += ["--pixel-size", "50", "--model", str(model)]
    evaluate_images_main(args)
    report = json.loads(capsys.readouterr().out)
    assert report["n_images"] == 2 and report["histogram"] == "linear"
    # The workflow's 8 views by default: each image found also gets their spread.
    assert report["members"] == 8
    found = [e for e in report["per_image"] if e.get("front_found")]
    assert all("spread_m" in e for e in found)
    evaluate_images_main([*args, "--members", "1"])
    single = json.loads(capsys.readouterr().out)
    assert single["members"] == 1 and not any("spread_m" in e for e in single["per_image"])
    with pytest.raises(SystemExit):
        evaluate_images_main([*args, "--members", "9"])
    assert "members must be 1 to 8, got 9" in capsys.readouterr().err
    assert report["flow_azimuth"] == 0.0  # FrontLearning's layout: the ice flows up
    evaluate_images_main([*args, "--flow-azimuth", "none"])
    assert json.loads(capsys.readouterr().out)["flow_azimuth"] is None
    evaluate_images_main([*args, "--glacier", "jakobshavn"])
    only = json.loads(capsys.readouterr().out)
    assert only["n_images"] == 1 and only["per_image"][0]["image"].startswith("LE07_L1TP_008011")
    evaluate_images_main([*args, "--glacier", "jakobshavn", "--rotate", "90"])
    turned = json.loads(capsys.readouterr().out)
    assert turned["rotate_deg"] == 90 and turned["flow_azimuth"] == 90.0
    assert turned["n_images"] == 1
    evaluate_images_main([*args, "--glacier", "jakobshavn", "--resample", "30"])
    finer = json.loads(capsys.readouterr().out)
    assert finer["resampled_to_m"] == 30.0 and finer["pixel_size_m"] == 30.0
    with pytest.raises(SystemExit, match="no image of glacier 'helheim'"):
        evaluate_images_main([*args, "--glacier", "helheim"])
    assert len(report["per_image"]) == 2
    assert report["n_no_front"] + sum(e.get("front_found", 0) for e in report["per_image"]) == 2


def _image_folders(tmp_path, names):
    """FrontLearning-style image and label folders holding ``names``."""
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    for name in names:
        Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 96), np.uint8)).save(
            tmp_path / "images" / f"{name}_Subset.png"
        )
        Image.fromarray(np.where(_front(), 0, 255).astype(np.uint8)).save(
            tmp_path / "labels" / f"{name}_Front.png"
        )
    return ["--images", str(tmp_path / "images"), "--labels", str(tmp_path / "labels")]


def test_the_default_model_is_found_outside_the_checkout(tmp_path, monkeypatch, capsys):
    """Run from another folder, the shipped model of the checkout is used (before: a
    FileNotFoundError traceback for models/frontlearning-all-drn-deeplabv3plus.onnx)."""
    shipped = CHECKOUT / DEFAULT_MODEL
    if not shipped.is_file():
        pytest.skip(f"{shipped} is not in this installation")
    args = _image_folders(tmp_path, ["LE07_L1TP_008011_20000323_x"])
    monkeypatch.chdir(tmp_path)
    evaluate_images_main([*args, "--pixel-size", "50"])
    report = json.loads(capsys.readouterr().out)
    assert report["model"] == str(shipped) and report["n_images"] == 1


def test_a_missing_default_model_says_where_it_looked(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(default_model, "CHECKOUT", tmp_path / "install")
    args = _image_folders(tmp_path, ["LE07_L1TP_008011_20000323_x"])
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as caught:
        evaluate_images_main([*args, "--pixel-size", "50"])
    message = capsys.readouterr().err
    assert caught.value.code == 2 and "Traceback" not in message
    assert str(tmp_path / "models") in message and str(tmp_path / "install" / "models") in message
    assert "pass --model PATH" in message
    with pytest.raises(SystemExit):
        evaluate_images_main([*args, "--pixel-size", "50", "--model", "absent.onnx"])
    assert "model file absent.onnx does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluate_images_main(["--images", "nowhere", "--labels", "x", "--pixel-size", "50"])
    assert "--images nowhere is not a folder" in capsys.readouterr().err


def test_a_corrupt_image_is_skipped_with_its_reason(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = export_tiny_unet(tmp_path / "m.onnx", "linear")
    names = ["LE07_L1TP_008011_20000323_a", "LE07_L1TP_008011_20000324_b"]
    names += ["LE07_L1TP_008011_20000325_c", "LE07_L1TP_008011_20000326_d"]
    args = _image_folders(tmp_path, names)
    truncated = tmp_path / "images" / f"{names[1]}_Subset.png"
    truncated.write_bytes(truncated.read_bytes()[:200])
    (tmp_path / "images" / f"{names[2]}_Subset.png").write_text("<html>not an image</html>")
    label = tmp_path / "labels" / f"{names[3]}_Front.png"
    label.write_bytes(label.read_bytes()[:100])
    evaluate_images_main([*args, "--pixel-size", "50", "--model", str(model)])
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["n_images"] == 1 and report["per_image"][0]["image"].startswith(names[0])
    assert report["n_skipped"] == 3
    skipped = {entry["image"]: entry["reason"] for entry in report["skipped"]}
    assert set(skipped) == {f"{name}_Subset.png" for name in names[1:]}
    assert skipped[f"{names[1]}_Subset.png"].startswith(f"cannot read {names[1]}_Subset.png")
    assert skipped[f"{names[3]}_Subset.png"].startswith(f"cannot read {names[3]}_Front.png")
    assert f"skipped {names[2]}_Subset.png" in captured.err


def test_the_workflows_tests_of_a_front_reject_a_line_along_the_flow():
    """A line running up the image (the flow direction of FrontLearning subsets) is scored
    as a front by default, as benchmarks score every image, and rejected with the
    workflow's angle test, as the workflow would reject it."""
    from calvingfronts.evaluation.evaluate_images import WORKFLOW_MIN_ANGLE_TO_FLOW, score_members

    along = np.where(np.abs(np.arange(96)[None, :] - 48) <= 1, 0.9, 0.05) * np.ones((64, 1))
    along = along[None].astype(np.float32)
    pred, _, reason, _ = score_members(along, _front(), PIXEL, flow_azimuth=0.0)
    assert pred is not None and reason is None
    rejections = {"min_angle_to_flow": WORKFLOW_MIN_ANGLE_TO_FLOW}
    pred, _, reason, _ = score_members(
        along, _front(), PIXEL, flow_azimuth=0.0, rejections=rejections
    )
    assert pred is None and "not a front" in reason


def test_the_workflows_tests_of_a_front_are_the_configs(workflow_config):
    from calvingfronts.evaluation.evaluate_images import (
        WORKFLOW_MEMBERS,
        WORKFLOW_MIN_ANGLE_TO_FLOW,
        WORKFLOW_MIN_LENGTH_M,
    )

    assert workflow_config["inference"]["members"] == WORKFLOW_MEMBERS

    vectorize = workflow_config["vectorize"]
    assert vectorize["min_angle_to_flow"] == WORKFLOW_MIN_ANGLE_TO_FLOW
    assert vectorize["min_length_m"] == WORKFLOW_MIN_LENGTH_M


def test_the_evidence_of_a_front_holds_its_position_error_along_the_flow():
    """Members that draw the front 4 rows (200 m) above the label, towards the top where
    the ice flows, put the terminus 200 m too far advanced; their quality figures and the
    members without a front come with it, for a conditional calibration."""
    from calvingfronts.evaluation.evaluate_images import score_members_with_evidence

    above = np.where(_front(row=26), 0.9, 0.05).astype(np.float32)
    members = np.stack([above, above, np.full_like(above, 0.05)])
    pred, truth, _, spread, evidence = score_members_with_evidence(
        members, _front(), PIXEL, flow_azimuth=0.0
    )
    assert pred is not None and spread is not None
    assert evidence["position_error_m"] == pytest.approx(4 * PIXEL, abs=1.0)
    assert evidence["members_without_front"] == 1
    assert 0.0 < evidence["mean_probability"] <= 1.0 and evidence["length_m"] > 0
