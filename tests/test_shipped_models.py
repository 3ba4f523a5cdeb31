"""The models in models/: each has a card that matches its file, and the default model's
held-out error is what its card says, measured again by evaluate-images."""

from __future__ import annotations

import hashlib
import re

import onnxruntime
import pytest
from conftest import REPO

from calvingfronts.evaluate_images import evaluate_folder

MODELS = sorted((REPO / "models").glob("*.onnx"))


@pytest.mark.parametrize("model", MODELS, ids=[m.stem for m in MODELS])
def test_card_names_the_file_and_its_metadata(model):
    card = model.with_suffix(".md")
    assert card.exists(), f"{model.name} has no model card"
    text = card.read_text()
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert f"sha256 `{digest}`" in text, f"{card.name}: sha256 does not match {model.name}"
    meta = onnxruntime.InferenceSession(
        str(model), providers=["CPUExecutionProvider"]
    ).get_modelmeta()
    metadata = meta.custom_metadata_map
    assert metadata["model_name"] == model.stem
    assert f"the band after the `{metadata['histogram']}` histogram treatment" in text


def test_the_default_model_is_trained_on_real_fronts(workflow_config, repo):
    card = (repo / workflow_config["model"]).with_suffix(".md").read_text()
    assert "frontlearning" in card and "Held-out glaciers (never seen in training)" in card


def test_default_models_held_out_error_is_reproduced(workflow_config, repo, shared_data):
    """The card's figure is what evaluate-images measures on the held-out glacier."""
    model = repo / workflow_config["model"]
    card = model.with_suffix(".md").read_text()
    glacier = re.search(r"Held-out glaciers \(never seen in training\): \*\*(\w+)\*\*", card)
    mean = re.search(r"- mean distance: \*\*([\d.]+) m\*\*", card)
    median = re.search(r"- median distance: ([\d.]+) m", card)
    assert glacier and mean and median, "the card lost its held-out section"
    folder = shared_data / "frontlearning" / "train"
    report = evaluate_folder(
        folder / "images", folder / "labels_1px", 49.0, model, glacier=glacier.group(1)
    )
    assert report["mean_m"] == pytest.approx(float(mean.group(1)), abs=0.1)
    assert report["median_m"] == pytest.approx(float(median.group(1)), abs=0.1)
