"""The models in models/: each has a card that matches its file, and the default model's
leave-one-glacier-out figures are what its card says, measured again by evaluate-images on
the fold models in models/folds/."""

from __future__ import annotations

import hashlib
import re

import onnxruntime
import pytest
from conftest import REPO

from calvingfronts.evaluation.evaluate_images import evaluate_folder

MODELS = sorted((REPO / "models").rglob("*.onnx"))
GLACIERS = ("jakobshavn", "kangerlussuaq", "northwest")


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


def test_the_default_model_is_trained_on_every_labelled_glacier(workflow_config, repo):
    card = (repo / workflow_config["model"]).with_suffix(".md").read_text()
    assert "| 123 | 0 | jakobshavn, kangerlussuaq, northwest |" in card, "not all glaciers"
    assert "## Leave-one-glacier-out cross-validation" in card


def test_the_default_model_holds_the_configured_networks(workflow_config, repo):
    """`snakemake train` regenerates the shipped file: as many networks as the recipe's
    `training.ensemble`, the card's table naming each with its seed."""
    networks = int(workflow_config["training"].get("ensemble", 1))
    model = repo / workflow_config["model"]
    meta = onnxruntime.InferenceSession(
        str(model), providers=["CPUExecutionProvider"]
    ).get_modelmeta()
    assert int(meta.custom_metadata_map.get("ensemble_networks", 1)) == networks
    card = model.with_suffix(".md").read_text()
    for network in range(networks if networks > 1 else 0):
        assert f"| {network} | {network} | `{model.stem}-member{network}.onnx`" in card


@pytest.mark.parametrize("glacier", GLACIERS)
def test_default_models_fold_figures_are_reproduced(glacier, workflow_config, repo, shared_data):
    """The card's fold row is what evaluate-images measures with that fold's model (the same
    recipe with the glacier held out) on the glacier it never saw."""
    model = repo / workflow_config["model"]
    card = model.with_suffix(".md").read_text()
    row = re.search(
        rf"^\| {glacier} \| (\d+) \| \*\*(\d+) m\*\* \| (\d+) m \| (\d+) \|$", card, re.MULTILINE
    )
    assert row, f"the card has no fold row for {glacier}"
    fold = repo / "models" / "folds" / f"{model.stem}-without-{glacier}.onnx"
    folder = shared_data / "frontlearning" / "train"
    report = evaluate_folder(folder / "images", folder / "labels_1px", 49.0, fold, glacier=glacier)
    assert report["n_images"] == int(row.group(1))
    assert report["mean_m"] == pytest.approx(int(row.group(2)), abs=1.0)
    assert report["median_m"] == pytest.approx(int(row.group(3)), abs=1.0)
    assert report["n_no_front"] == int(row.group(4))
