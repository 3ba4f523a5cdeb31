"""ONNX export: names, dynamic axes, metadata, and ONNX Runtime agreeing with PyTorch."""

import numpy as np
import pytest
import torch

from calvingfronts.models import build_model
from calvingfronts.training.export import REQUIRED_METADATA, export_onnx

onnxruntime = pytest.importorskip("onnxruntime")

METADATA = {
    "model_name": "tiny",
    "model_version": "0",
    "architecture": "test",
    "histogram": "equalize",
    "trained_on": "nothing",
    "pixel_size_m": "49",
    "front_width_px": "3",
}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    model = build_model("deeplabv3plus-drn-d-22", width=0.125, out_channels=2).eval()
    # Non-trivial BatchNorm statistics, as after training.
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    path = export_onnx(model, tmp_path_factory.mktemp("onnx") / "tiny.onnx", METADATA)
    return model, onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("shape", [(1, 1, 64, 96), (2, 1, 128, 64)])
def test_parity_at_two_sizes(exported, shape):
    model, session = exported
    image = np.random.default_rng(1).random(shape, dtype=np.float32)
    with torch.no_grad():
        expected = torch.sigmoid(model(torch.from_numpy(image))[:, :1]).numpy()
    (got,) = session.run(["front_probability"], {"image": image})
    assert got.shape == shape
    assert np.abs(got - expected).max() <= 1e-4


def test_contract_names_and_metadata(exported):
    _, session = exported
    assert [i.name for i in session.get_inputs()] == ["image"]
    assert [o.name for o in session.get_outputs()] == ["front_probability"]
    meta = session.get_modelmeta().custom_metadata_map
    assert set(REQUIRED_METADATA) <= set(meta)
    assert meta["histogram"] == "equalize"


def test_missing_metadata_is_refused(tmp_path):
    model = build_model("unet", width=0.125)
    with pytest.raises(ValueError, match="metadata missing"):
        export_onnx(model, tmp_path / "x.onnx", {"model_name": "x"})
