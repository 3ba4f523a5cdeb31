"""A warm start from an exported ONNX model: its weights back into the network, exactly, with
the BatchNorm statistics its export folded kept frozen through training."""

import json

import numpy as np
import onnxruntime
import pytest
import torch
from test_training import _tiny_run, frontlearning_folder  # noqa: F401 - a fixture

from calvingfronts.models import build_model
from calvingfronts.training.averaging import recompute_batchnorm
from calvingfronts.training.ensemble import member_config, merge_onnx
from calvingfronts.training.export import export_onnx
from calvingfronts.training.train import train
from calvingfronts.training.warm_start import (
    FrozenStatisticsBatchNorm2d,
    freeze_batchnorm_statistics,
    state_dict_from_onnx,
)

METADATA = {
    "model_name": "warm",
    "model_version": "0",
    "architecture": "test",
    "histogram": "equalize",
    "trained_on": "test",
    "pixel_size_m": "49",
    "front_width_px": "3",
}


def _trained_looking_network(seed: int, width: float = 0.125) -> torch.nn.Module:
    """A zone-and-front DRN-DeepLabv3+ whose BatchNorms have statistics and affine weights far
    from the identity, as a trained network's are: folding them must not be a no-op."""
    torch.manual_seed(seed)
    network = build_model("deeplabv3plus-drn-d-22", width=width, out_channels=4)
    for module in network.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            size = module.num_features
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.2, 3.0)
            module.weight.data.uniform_(-1.5, 1.5)  # negative scales flip a channel's sign
            module.bias.data.uniform_(-0.3, 0.3)
            assert size == module.running_mean.numel()
    return network.eval()


def _logits(network, image: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return network(torch.from_numpy(image)).numpy()


def _rebuilt(path, member=0, width=0.125) -> torch.nn.Module:
    network = build_model("deeplabv3plus-drn-d-22", width=width, out_channels=4)
    network.load_state_dict(state_dict_from_onnx(network, path, member))
    assert freeze_batchnorm_statistics(network) > 20
    return network


def test_weights_come_back_exactly_and_statistics_stay_frozen(tmp_path):
    original = _trained_looking_network(0)
    path = export_onnx(original, tmp_path / "one.onnx", METADATA)
    image = np.random.default_rng(0).random((2, 1, 64, 96), dtype=np.float32)
    rebuilt = _rebuilt(path)
    rebuilt.eval()
    np.testing.assert_allclose(_logits(rebuilt, image), _logits(original, image), atol=2e-5)
    # The file's own outputs (sigmoid of the front, softmax of the zones) agree as well.
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    front, zones = session.run(["front_probability", "zone_probability"], {"image": image})
    logits = torch.from_numpy(_logits(rebuilt, image))
    np.testing.assert_allclose(torch.sigmoid(logits[:, :1]).numpy(), front, atol=1e-5)
    np.testing.assert_allclose(torch.softmax(logits[:, 1:], 1).numpy(), zones, atol=1e-5)
    # In training the statistics neither normalize by the batch nor move, and measuring
    # them afresh for averaged weights leaves them alone: they are part of the weights.
    norms = [m for m in rebuilt.modules() if isinstance(m, FrozenStatisticsBatchNorm2d)]
    before = [m.running_var.clone() for m in norms]
    rebuilt.train()
    assert not any(m.training for m in norms)
    rebuilt(torch.from_numpy(image))
    recompute_batchnorm(rebuilt, [torch.from_numpy(image)])
    assert all(torch.equal(m.running_var, b) for m, b in zip(norms, before, strict=True))
    # The frozen network exports as a plain one: the same state-dict keys and function.
    plain = build_model("deeplabv3plus-drn-d-22", width=0.125, out_channels=4)
    plain.load_state_dict(rebuilt.state_dict())
    np.testing.assert_allclose(_logits(plain.eval(), image), _logits(original, image), atol=2e-5)


def test_each_network_of_an_ensemble_file_and_refusals(tmp_path):
    networks = [_trained_looking_network(seed) for seed in (1, 2)]
    members = [
        export_onnx(network, tmp_path / f"m{i}.onnx", METADATA)
        for i, network in enumerate(networks)
    ]
    merged = merge_onnx(members, tmp_path / "pair.onnx", {**METADATA, "ensemble_networks": "2"})
    image = np.random.default_rng(1).random((1, 1, 64, 64), dtype=np.float32)
    for member, network in enumerate(networks):
        rebuilt = _rebuilt(merged, member).eval()
        np.testing.assert_allclose(_logits(rebuilt, image), _logits(network, image), atol=2e-5)
    with pytest.raises(ValueError, match=r"pair\.onnx: an ensemble of 2 networks.*member 2"):
        _rebuilt(merged, 2)
    with pytest.raises(ValueError, match=r"m0\.onnx: holds one network, so init_member must be 0"):
        _rebuilt(members[0], 1)
    # Another width: the convolutions' shapes differ, and the file is named.
    with pytest.raises(ValueError, match=r"m0\.onnx: convolution \d+ \(backbone.*in the file and"):
        _rebuilt(members[0], 0, width=0.25)
    # Another architecture: a different count of convolutions.
    unet = build_model("unet", width=0.125, out_channels=4)
    with pytest.raises(ValueError, match=r"m0\.onnx: \d+ convolutions, but the network has"):
        state_dict_from_onnx(unet, members[0])


def test_a_run_fine_tunes_an_onnx_model_and_says_so(frontlearning_folder, tmp_path):  # noqa: F811
    start = export_onnx(_trained_looking_network(3), tmp_path / "start.onnx", METADATA)
    config = _tiny_run(
        frontlearning_folder,
        tmp_path,
        "tuned",
        width=0.125,
        zone_weight=0.5,
        select_best=False,
        init_from=str(start),
    )
    # An ensemble needs as many networks in the file: refused before anything trains.
    with pytest.raises(ValueError, match=r"start\.onnx: holds 1 network\(s\), but the run"):
        train({**config, "ensemble": 2})
    assert not (tmp_path / "run" / "last.pt").exists()
    result = train(config)
    card = result.card.read_text()
    assert "Pretrained weights: network 0 of the ONNX model `warm` (1 network(s)" in card
    assert "BatchNorm statistics frozen" in card and "Staged training" not in card
    # One step of training moved the weights from the start, and the statistics did not.
    saved = torch.load(tmp_path / "run" / "final.pt", weights_only=False)
    assert saved["frozen_batchnorm"]
    network = build_model("deeplabv3plus-drn-d-22", width=0.125, out_channels=4)
    started = state_dict_from_onnx(network, start)
    variances = [k for k in started if k.endswith("running_var")]
    assert all(torch.equal(saved["model"][k], started[k]) for k in variances)
    weights = [k for k in started if k.endswith(".weight") and "bn" not in k]
    assert any(not torch.equal(saved["model"][k], started[k]) for k in weights)
    # A resumed run freezes the statistics again when it loads its checkpoint.
    resumed = train({**config, "epochs": 2, "export": False})
    assert [h["epoch"] for h in resumed.history] == [1, 2]
    last = torch.load(tmp_path / "run" / "last.pt", weights_only=False)["model"]
    assert all(torch.equal(last[k], started[k]) for k in variances)
    # An ensemble starts each of its networks from the file's network of the same number.
    assert member_config({**config, "ensemble": 2}, 1)["init_member"] == 1
    assert "init_member" not in member_config({"name": "plain"}, 1)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["init_member"] == 0


def test_later_stages_and_averaging_keep_the_statistics_frozen(frontlearning_folder, tmp_path):  # noqa: F811
    networks = [_trained_looking_network(seed) for seed in (4, 5)]
    members = [export_onnx(n, tmp_path / f"s{i}.onnx", METADATA) for i, n in enumerate(networks)]
    pair = merge_onnx(members, tmp_path / "pair.onnx", {**METADATA, "ensemble_networks": "2"})
    config = _tiny_run(
        frontlearning_folder,
        tmp_path,
        "staged",
        width=0.125,
        zone_weight=0.5,
        select_best=False,
        epochs=2,
        average_epochs=2,
        init_from=str(pair),
        init_member=1,
        stages=[{"learning_rate": 0.001}],
    )
    result = train(config)
    started = state_dict_from_onnx(
        build_model("deeplabv3plus-drn-d-22", width=0.125, out_channels=4), pair, 1
    )
    # The second stage starts from the first's checkpoint, and the averaged export keeps
    # the statistics exactly (they were not measured afresh).
    final = torch.load(tmp_path / "run" / "final.pt", weights_only=False)
    assert final["frozen_batchnorm"]
    for key in (k for k in started if k.endswith(("running_var", "running_mean"))):
        assert torch.equal(final["model"][key], started[key]), key
    card = result.card.read_text()
    assert "network 1 of the ONNX model `warm` (2 network(s)" in card
    assert "BatchNorm statistics kept frozen (a warm start from ONNX)" in card
    assert "measured afresh" not in card and "Staged training: 2 stages" in card


def test_an_unfolded_batchnorm_is_refused(tmp_path):
    """A file whose BatchNorm was not folded would lose its scale without a word."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    def tensor(name, shape):
        return numpy_helper.from_array(np.ones(shape, np.float32), name)

    graph = helper.make_graph(
        [
            helper.make_node("Conv", ["image", "w"], ["c"], name="conv", pads=[1, 1, 1, 1]),
            helper.make_node(
                "BatchNormalization", ["c", "scale", "shift", "mean", "var"], ["out"], name="bn"
            ),
        ],
        "unfolded",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4, 8, 8])],
        [tensor("w", (4, 1, 3, 3))] + [tensor(n, (4,)) for n in ("scale", "shift", "mean", "var")],
    )
    path = tmp_path / "unfolded.onnx"
    onnx.save(helper.make_model(graph), str(path))
    network = build_model("deeplabv3plus-drn-d-22", width=0.125, out_channels=4)
    with pytest.raises(ValueError, match=r"unfolded\.onnx: BatchNormalization node 'bn' was not"):
        state_dict_from_onnx(network, path)
