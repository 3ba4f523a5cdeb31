"""Export a trained network to the ONNX model the workflow runs (see docs/CONTRACTS.md).

The graph takes ``image`` (N, 1, H, W) float32 and returns ``front_probability``
(N, 1, H, W) float32: the sigmoid and the selection of the front channel (channel 0, when a
zone head was trained as well) are inside the graph, so inference needs only ONNX Runtime.
N, H and W are dynamic; H and W must be multiples of 32 (the deepest network's stride).
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import torch
from torch import nn

OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAME = "front_probability"
REQUIRED_METADATA = (
    "model_name",
    "model_version",
    "architecture",
    "histogram",
    "trained_on",
    "pixel_size_m",
    "front_width_px",
)


class FrontProbability(nn.Module):
    """Wraps a network: logits of the front channel -> probability."""

    def __init__(self, network: nn.Module):
        super().__init__()
        self.network = network

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.network(image)[:, :1])


def export_onnx(
    network: nn.Module,
    path: str | Path,
    metadata: dict[str, object],
    sample_size: tuple[int, int] = (64, 64),
) -> Path:
    """Write ``network`` to ``path`` as ONNX with the contract's names, axes and metadata.

    ``metadata`` must hold every key in :data:`REQUIRED_METADATA`; values become strings.
    The file is written next to its destination first and renamed, so a crash never leaves
    a half-written model where the workflow looks for one.
    """
    import onnx

    missing = [key for key in REQUIRED_METADATA if key not in metadata]
    if missing:
        raise ValueError(f"ONNX metadata missing {missing}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".onnx.tmp")
    wrapped = FrontProbability(network).eval()
    dummy = torch.zeros(1, 1, *sample_size)
    with warnings.catch_warnings():
        # The TorchScript-based exporter is used on purpose (no onnxscript dependency); it
        # warns about its own deprecation and about traced shape arithmetic, both harmless.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            (dummy,),
            str(tmp),
            dynamo=False,
            opset_version=OPSET,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={
                INPUT_NAME: {0: "N", 2: "H", 3: "W"},
                OUTPUT_NAME: {0: "N", 2: "H", 3: "W"},
            },
            do_constant_folding=True,
        )
    model = onnx.load(str(tmp))
    del model.metadata_props[:]
    for key, value in metadata.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = str(key), str(value)
    onnx.checker.check_model(model)
    onnx.save(model, str(tmp))
    tmp.replace(path)
    return path


def sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file (recorded in the model card so the weights can be verified)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
