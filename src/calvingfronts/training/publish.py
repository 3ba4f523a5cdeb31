"""Export the trained weights, check the ONNX file against PyTorch, write the model card."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from calvingfronts.models import describe
from calvingfronts.training.config import TrainConfig
from calvingfronts.training.export import (
    ZONE_OUTPUT_NAME,
    FrontProbability,
    export_onnx,
    sha256,
)
from calvingfronts.training.model_card import render

PARITY_TOLERANCE = 1e-4


def trained_on(config: TrainConfig) -> str:
    kinds = sorted({entry["kind"] for entry in config.data})
    held = ",".join(config.validation_glaciers) or "none"
    return f"{'+'.join(kinds)} (held out: {held})"


def onnx_metadata(config: TrainConfig) -> dict[str, str]:
    """The metadata every exported model carries (export.REQUIRED_METADATA)."""
    pixel = config.augment.get("pixel_size_range_m", (10.0, 80.0))
    return {
        "model_name": config.name,
        "model_version": config.model_version,
        "architecture": describe(config.model, config.width),
        "histogram": config.histogram,
        "trained_on": trained_on(config),
        # Nominal: the geometric mean of the zoom range the network was trained over.
        "pixel_size_m": f"{float(np.sqrt(pixel[0] * pixel[1])):.0f}",
        "front_width_px": f"{config.front_width_px:g}",
    }


def check_parity(model: torch.nn.Module, path: Path, size: tuple[int, int] = (96, 160)) -> float:
    """Max |ONNX Runtime - PyTorch| probability on a random image, over every output the
    file has (the front's, and the zones' where it has them); raises above tolerance."""
    import onnxruntime

    rng = np.random.default_rng(0)
    image = rng.random((1, 1, *size), dtype=np.float32)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [output.name for output in session.get_outputs()]
    with torch.no_grad():
        expected = FrontProbability(model.eval(), zones=ZONE_OUTPUT_NAME in names)(
            torch.from_numpy(image)
        )
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = session.run(names, {"image": image})
    diff = max(float(np.abs(g - e.numpy()).max()) for g, e in zip(got, expected, strict=True))
    if diff > PARITY_TOLERANCE:
        raise RuntimeError(f"{path}: ONNX Runtime differs from PyTorch by {diff:.2e}")
    return diff


def publish(
    model: torch.nn.Module,
    config: TrainConfig,
    data_info: dict,
    validation: dict | None,
    minutes: float,
    extra: str = "",
    training: dict | None = None,
):
    """Write ``config.output`` (ONNX) and ``config.card`` (markdown); return both paths."""
    model.eval()
    onnx_path, card_path = config.path("output"), config.path("card")
    metadata = onnx_metadata(config)
    export_onnx(model, onnx_path, metadata)
    check_parity(model, onnx_path)
    card = render(
        config.to_dict(),
        metadata["architecture"],
        data_info,
        validation,
        minutes,
        sha256(onnx_path),
        onnx_path,
        extra,
        training,
    )
    card_path.parent.mkdir(parents=True, exist_ok=True)
    card_path.write_text(card)
    return onnx_path, card_path
