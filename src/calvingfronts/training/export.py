"""Export a trained network to the ONNX model the workflow runs (see docs/CONTRACTS.md).

The graph takes ``image`` (N, 1, H, W) float32 and returns ``front_probability``
(N, 1, H, W) float32: the sigmoid and the selection of the front channel (channel 0, when a
zone head was trained as well) are inside the graph, so inference needs only ONNX Runtime.
A network trained with a zone head also returns ``zone_probability`` (N, 3, H, W): the
softmax over the zones of ZONE_NAMES (rock, glacier, ocean), named in the metadata key
``zones``. N, H and W are dynamic; H and W must be multiples of 32 (the deepest network's
stride).
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import torch
from torch import nn

from calvingfronts.training.datasets import ZONE_NAMES

OPSET = 17
INPUT_NAME = "image"
OUTPUT_NAME = "front_probability"
ZONE_OUTPUT_NAME = "zone_probability"
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
    """Wraps a network: logits of the front channel -> probability; with ``zones``, also
    the zone channels' logits -> their softmax."""

    def __init__(self, network: nn.Module, zones: bool = False):
        super().__init__()
        self.network = network
        self.zones = zones

    def forward(self, image: torch.Tensor):
        logits = self.network(image)
        front = torch.sigmoid(logits[:, :1])
        if not self.zones:
            return front
        return front, torch.softmax(logits[:, 1 : 1 + len(ZONE_NAMES)], dim=1)


def has_zone_head(network: nn.Module, sample_size: tuple[int, int] = (64, 64)) -> bool:
    """Whether ``network`` returns the zone channels after the front channel."""
    was_training = network.training
    network.eval()
    with torch.no_grad():
        channels = network(torch.zeros(1, 1, *sample_size)).shape[1]
    network.train(was_training)
    return channels == 1 + len(ZONE_NAMES)


def export_onnx(
    network: nn.Module,
    path: str | Path,
    metadata: dict[str, object],
    sample_size: tuple[int, int] = (64, 64),
    zones: bool | None = None,
) -> Path:
    """Write ``network`` to ``path`` as ONNX with the contract's names, axes and metadata.

    ``metadata`` must hold every key in :data:`REQUIRED_METADATA`; values become strings.
    ``zones``: export the zone head as ``zone_probability`` too (default: where the network
    has one).
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
    if zones is None:
        zones = has_zone_head(network, sample_size)
    outputs = [OUTPUT_NAME, ZONE_OUTPUT_NAME] if zones else [OUTPUT_NAME]
    if zones:
        metadata = {**metadata, "zones": ",".join(ZONE_NAMES)}
    wrapped = FrontProbability(network, zones).eval()
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
            output_names=outputs,
            dynamic_axes={
                INPUT_NAME: {0: "N", 2: "H", 3: "W"},
                **{name: {0: "N", 2: "H", 3: "W"} for name in outputs},
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
