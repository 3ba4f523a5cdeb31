"""An ensemble of networks of one recipe, trained with seeds of their own and shipped as one
ONNX model that averages their front probabilities."""

import hashlib
import json

import numpy as np
import onnx
import onnxruntime
import pytest
from test_training import _tiny_run, frontlearning_folder  # noqa: F401 - a fixture

from calvingfronts.inference.front_model import FrontModel
from calvingfronts.training.cross_validation import fold_config
from calvingfronts.training.ensemble import main as merge_main
from calvingfronts.training.ensemble import member_config, merge_onnx
from calvingfronts.training.train import train


def _run(path, image):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["front_probability"], {"image": image})[0]


def test_member_configs_differ_in_seed_and_folder_only():
    config = {"name": "m", "seed": 3, "run_dir": "runs/{name}", "epochs": 2}
    first, second = member_config(config, 0), member_config(config, 1)
    assert first["run_dir"] == "runs/m" and first["name"] == "m" and first["seed"] == 3
    assert second["run_dir"] == "runs/m/member1" and second["seed"] == 4
    assert second["output"] == "runs/m/member1/m-member1.onnx"
    assert first["output"] == "runs/m/m-member0.onnx"  # never the ensemble's own output
    assert first["epochs"] == second["epochs"] == 2 and first["ensemble"] == 1


def test_ensemble_run_averages_networks_of_their_own_seeds(frontlearning_folder, tmp_path):  # noqa: F811
    single = _tiny_run(frontlearning_folder, tmp_path, "ens", select_best=False)
    first = train(member_config(single, 0))
    # Adding a network to a finished run keeps the run: member 0 is not trained again.
    result = train({**single, "ensemble": 2})
    assert result.history == first.history
    saved = json.loads((tmp_path / "run" / "member1" / "config.json").read_text())
    assert saved["seed"] == 1 and saved["name"] == "ens-member1"
    members = [
        tmp_path / "run" / "ens-member0.onnx",
        tmp_path / "run" / "member1" / "ens-member1.onnx",
    ]
    image = np.random.default_rng(1).random((2, 1, 64, 96), dtype=np.float32)
    outputs = [_run(m, image) for m in members]
    assert np.abs(outputs[0] - outputs[1]).max() > 1e-3, "the seeds gave the same network"
    np.testing.assert_allclose(_run(result.onnx, image), np.mean(outputs, axis=0), atol=1e-6)
    # The workflow reads it as any model; its card names the merged file and each network.
    model = FrontModel(result.onnx, device="cpu")
    assert model.metadata["ensemble_networks"] == "2" and model.metadata["model_name"] == "ens"
    card = result.card.read_text()
    digest = hashlib.sha256(result.onnx.read_bytes()).hexdigest()
    assert f"sha256 `{digest}`" in card and "## Ensemble" in card
    assert "| 1 | 1 | `ens-member1.onnx`" in card and "| 0 | 0 | `ens-member0.onnx`" in card
    assert "kangerlussuaq**, 1 images" in card and result.validation["n_images"] == 1
    assert '"ensemble": 2' in card


def test_merge_command_and_contract_checks(frontlearning_folder, tmp_path, capsys):  # noqa: F811
    """A fold of an ensemble recipe is an ensemble, its networks in the fold's folder; the
    merge command rebuilds the same model from their files."""
    recipe = _tiny_run(frontlearning_folder, tmp_path, "pair", ensemble=2, select_best=False)
    fold = fold_config({**recipe, "run_dir": str(tmp_path / "runs" / "{name}")}, "jakobshavn")
    result = train(fold)
    folder = tmp_path / "runs" / "pair" / "folds" / "jakobshavn"
    assert result.onnx == folder / "pair-without-jakobshavn.onnx"
    members = [
        folder / "pair-without-jakobshavn-member0.onnx",
        folder / "member1" / "pair-without-jakobshavn-member1.onnx",
    ]
    assert merge_main([*map(str, members), "--output", str(tmp_path / "out" / "both.onnx")]) == 0
    with pytest.raises(SystemExit):  # a member is never overwritten by the merge
        merge_main([*map(str, members), "--output", str(members[1])])
    assert "member1" in capsys.readouterr().err
    card = (tmp_path / "out" / "both.md").read_text()
    assert card.startswith("# Model card: both\n")
    assert "| 1 | 1 | `pair-without-jakobshavn-member1.onnx`" in card
    # Network 0's held-out figures are not passed off as the ensemble's.
    held_out = card.split("## Held-out-glacier error", 1)[1].split("\n## ", 1)[0]
    assert "mean distance" not in held_out and "evaluate-images --model both.onnx" in held_out
    image = np.random.default_rng(2).random((1, 1, 32, 64), dtype=np.float32)
    np.testing.assert_allclose(
        _run(tmp_path / "out" / "both.onnx", image), _run(result.onnx, image), atol=1e-6
    )
    # A file of another contract is named, not merged.
    other = onnx.load(str(members[1]))
    other.graph.output[0].name = "logits"
    for node in other.graph.node:
        node.output[:] = ["logits" if o == "front_probability" else o for o in node.output]
    onnx.save(other, str(tmp_path / "other.onnx"))
    metadata = {p.key: p.value for p in onnx.load(str(members[0])).metadata_props}
    with pytest.raises(ValueError, match="other.onnx: inputs \\['image'\\] and outputs"):
        merge_onnx([members[0], tmp_path / "other.onnx"], tmp_path / "x.onnx", metadata)
    with pytest.raises(ValueError, match="at least 2 members"):
        merge_onnx([members[0]], tmp_path / "x.onnx", metadata)
    assert not (tmp_path / "x.onnx").exists()
