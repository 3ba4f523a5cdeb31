"""A network with a zone head exports its zones too: ONNX Runtime agrees with PyTorch, an
ensemble file averages them, and inference turns each view's zones back onto the image."""

import numpy as np
import onnx
import pytest
import torch

from calvingfronts.inference.front_model import FRAME_PX, FrontModel
from calvingfronts.models import build_model
from calvingfronts.training.ensemble import check_merge, merge_onnx
from calvingfronts.training.export import REQUIRED_METADATA, export_onnx
from calvingfronts.training.publish import check_parity

onnxruntime = pytest.importorskip("onnxruntime")

# Every key the contract asks for; the values do not matter here.
METADATA = {**dict.fromkeys(REQUIRED_METADATA, "0"), "histogram": "equalize"}


def _network(seed: int, zones: bool = True) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model("unet", width=0.125, out_channels=4 if zones else 1).eval()


@pytest.fixture(scope="module")
def zone_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("zones")
    networks = [_network(seed) for seed in (0, 1)]
    paths = [export_onnx(n, folder / f"m{i}.onnx", METADATA) for i, n in enumerate(networks)]
    return networks, paths, folder


def test_the_zone_head_is_exported_beside_the_front(zone_models):
    networks, paths, _ = zone_models
    session = onnxruntime.InferenceSession(str(paths[0]), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["front_probability", "zone_probability"]
    assert session.get_modelmeta().custom_metadata_map["zones"] == "rock,glacier,ocean"
    image = np.random.default_rng(0).random((2, 1, 64, 96), dtype=np.float32)
    front, zones = session.run(None, {"image": image})
    assert front.shape == (2, 1, 64, 96) and zones.shape == (2, 3, 64, 96)
    np.testing.assert_allclose(zones.sum(axis=1), 1.0, atol=1e-5)
    assert check_parity(networks[0], paths[0]) <= 1e-4


def test_a_front_only_network_exports_the_front_alone(tmp_path):
    path = export_onnx(_network(0, zones=False), tmp_path / "front.onnx", METADATA)
    model = FrontModel(path, device="cpu")
    assert not model.has_zones and model.info.zones == ()
    assert model.predict_scene(np.zeros((64, 64), np.float32)).zones is None


def test_an_ensemble_file_averages_the_zones_of_its_networks(zone_models):
    """The zones' names come from the members, as train_ensemble's metadata lacks them."""
    _, paths, folder = zone_models
    merged = merge_onnx(paths, folder / "pair.onnx", METADATA)
    assert check_merge(paths, merged) <= 1e-5
    assert FrontModel(merged, device="cpu").info.zones == ("rock", "glacier", "ocean")


def test_an_ensemble_of_zone_and_front_only_networks_is_refused(zone_models, tmp_path):
    _, paths, _ = zone_models
    front_only = export_onnx(_network(2, zones=False), tmp_path / "f.onnx", METADATA)
    with pytest.raises(ValueError, match="differ"):
        merge_onnx([paths[0], front_only], tmp_path / "mixed.onnx", METADATA)


@pytest.mark.parametrize("names", [None, "rock,ice,sea", "glacier,ocean"])
def test_zones_without_their_right_names_are_refused(zone_models, tmp_path, names):
    _, paths, _ = zone_models
    model = onnx.load(str(paths[0]))
    kept = [p for p in model.metadata_props if p.key != "zones"]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    if names:
        entry = model.metadata_props.add()
        entry.key, entry.value = "zones", names
    onnx.save(model, str(tmp_path / "renamed.onnx"))
    with pytest.raises(ValueError, match="zones"):
        FrontModel(tmp_path / "renamed.onnx", device="cpu")


def test_each_views_zones_are_turned_back_onto_the_image(zone_models):
    """The mean zones of 8 views equal the mean of each view's zones turned back by hand."""
    _, paths, _ = zone_models
    model = FrontModel(paths[0], device="cpu")
    image = np.random.default_rng(4).random((96, 64), dtype=np.float32)
    prediction = model.predict_scene(image, tile_size=256, overlap=32, members=8)
    assert prediction.members.shape == (8, 96, 64) and prediction.zones.shape == (3, 96, 64)
    np.testing.assert_allclose(prediction.zones.sum(axis=0), 1.0, atol=1e-4)
    session = onnxruntime.InferenceSession(str(paths[0]), providers=["CPUExecutionProvider"])
    framed = np.pad(image, FRAME_PX)
    by_hand = []
    for turns in range(4):
        for mirrored in (False, True):
            view = np.rot90(framed, turns)
            view = view[:, ::-1] if mirrored else view
            _, zones = session.run(None, {"image": np.ascontiguousarray(view)[None, None]})
            zones = zones[0][:, :, ::-1] if mirrored else zones[0]
            inner = np.s_[:, FRAME_PX:-FRAME_PX, FRAME_PX:-FRAME_PX]
            by_hand.append(np.rot90(zones, -turns, axes=(1, 2))[inner])
    np.testing.assert_allclose(prediction.zones, np.mean(by_hand, axis=0), atol=1e-4)
    # The zones of views 3-8 alone are their own mean: weighted with the first two's, the
    # mean of all eight (adaptive views add the later views to the first ones).
    first = model.predict_scene(image, tile_size=256, overlap=32, members=2)
    rest = model.predict_scene(image, tile_size=256, overlap=32, members=8, first_member=2)
    np.testing.assert_allclose((2 * first.zones + 6 * rest.zones) / 8, prediction.zones, atol=1e-5)
    np.testing.assert_allclose(rest.zones, np.mean(by_hand[2:], axis=0), atol=1e-4)
