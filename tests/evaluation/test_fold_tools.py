"""The fold analysis tools (tools/fold_front_picking.py, tools/label_coverage.py): their
cache, ensembles and the leaving out of gross failures, on tiny labelled folders."""

import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import export_tiny_unet
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))

from fold_front_picking import (  # noqa: E402
    drawn_front,
    gross_failure,
    predict_ensemble,
    predict_glacier,
    score,
)
from label_coverage import coverage  # noqa: E402

PIXEL = 50.0
SHAPE = (64, 96)
# FrontLearning-style names: the WRS-2 path/row says the glacier.
JAKOBSHAVN = "LE07_L1TP_008011_20000323_x"
KANGERLUSSUAQ = "LC08_L1TP_230012_20150801_x"


def _label(row: int) -> np.ndarray:
    front = np.zeros(SHAPE, bool)
    front[row, 5:90] = True
    return front


def _band(row: int) -> np.ndarray:
    """Members' probabilities (1, H, W) of a front band along ``row``."""
    probability = np.where(np.abs(np.arange(SHAPE[0])[:, None] - row) <= 1, 0.9, 0.05)
    probability = probability * (np.arange(SHAPE[1])[None, :] >= 5)
    return (probability * (np.arange(SHAPE[1])[None, :] < 90))[None].astype(np.float32)


def _folders(tmp_path, labelled_rows: dict[str, int]):
    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    for name, row in labelled_rows.items():
        pixels = np.random.default_rng(0).integers(0, 255, SHAPE, np.uint8)
        Image.fromarray(pixels).save(images / f"{name}_Subset.png")
        Image.fromarray(np.where(_label(row), 0, 255).astype(np.uint8)).save(
            labels / f"{name}_Front.png"
        )
    return images, labels


def test_one_model_on_several_glaciers_reads_each_glaciers_own_cache(tmp_path):
    """The cache is keyed by glacier too: one model scoring two glaciers must not read the
    first glacier's probabilities back for the second."""
    pytest.importorskip("torch")
    model = export_tiny_unet(tmp_path / "m.onnx", "linear")
    images, labels = _folders(tmp_path, {JAKOBSHAVN: 20, KANGERLUSSUAQ: 40})
    cache = tmp_path / "cache"
    for _ in range(2):  # predicted, then read back from the cache
        first = predict_glacier(model, images, labels, "jakobshavn", 1, cache)
        second = predict_glacier(model, images, labels, "kangerlussuaq", 1, cache)
        assert [name for name, _, _ in first] == [f"{JAKOBSHAVN}_Subset.png"]
        assert [name for name, _, _ in second] == [f"{KANGERLUSSUAQ}_Subset.png"]
        assert np.argwhere(second[0][2])[0][0] == 40  # Kangerlussuaq's own label
    assert len(list(cache.glob("*.npz"))) == 2


def test_an_ensemble_stacks_every_models_views(tmp_path):
    pytest.importorskip("torch")
    models = [export_tiny_unet(tmp_path / f"m{i}.onnx", "linear") for i in range(2)]
    images, labels = _folders(tmp_path, {JAKOBSHAVN: 20})
    ((name, probabilities, _),) = predict_ensemble(models, images, labels, "jakobshavn", 2, None)
    assert name == f"{JAKOBSHAVN}_Subset.png" and probabilities.shape == (4, *SHAPE)
    alone = predict_glacier(models[1], images, labels, "jakobshavn", 2, None)[0][1]
    np.testing.assert_allclose(probabilities[2:], alone, atol=1e-6)


def test_a_gross_failure_is_left_out_and_counted():
    """A front drawn 1.5 km from its label (the wrong edge) is left out of every figure when
    asked; one drawn on its label stays."""
    cases = [("right", _band(30), _label(30)), ("wrong", _band(60), _label(30))]
    right, truth, _ = drawn_front(cases[0][1], cases[0][2], PIXEL)
    wrong, _, _ = drawn_front(cases[1][1], cases[1][2], PIXEL)
    assert not gross_failure(right, truth, 1000.0)
    assert gross_failure(wrong, truth, 1000.0)
    everything = score(cases, PIXEL, {})
    kept = score(cases, PIXEL, {}, leave_out_median_m=1000.0)
    assert everything["n_left_out"] == 0 and everything["mean_m"] > 500.0
    assert kept["n_left_out"] == 1 and kept["left_out"] == ["wrong"]
    assert kept["mean_m"] < PIXEL
    # The two directions apart: a line on its label is near it both ways.
    assert kept["pred_to_reference_mean_m"] < PIXEL and kept["reference_to_pred_mean_m"] < PIXEL
    figures = coverage(cases, PIXEL, [0.5], 300.0, 1000.0)
    assert figures["left_out"] == 1 and figures["line"][1] == 0.0
