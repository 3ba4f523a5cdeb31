"""Inference with ONNX Runtime: a front-probability map for a whole area of interest.

The area of interest is cut into large overlapping tiles; each tile's prediction is weighted
by a window that falls off towards the tile edges, where a convolutional network sees least
context, and the weighted predictions are averaged. Torch is never imported here: the
workflow runs on machines with ONNX Runtime only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

INPUT_NAME = "image"
OUTPUT_NAME = "front_probability"
# The networks downsample by up to 32; every tile is padded to a multiple of it.
SIZE_MULTIPLE = 32


def available_providers(device: str = "auto") -> list[str]:
    """ONNX Runtime execution providers for ``device`` (auto | cuda | cpu), best first."""
    import onnxruntime

    present = onnxruntime.get_available_providers()
    if device == "cpu":
        return ["CPUExecutionProvider"]
    if device == "cuda":
        if "CUDAExecutionProvider" not in present:
            raise RuntimeError(
                "device 'cuda' asked for, but this onnxruntime has no CUDA provider "
                f"(available: {', '.join(present)}); install onnxruntime-gpu"
            )
        return ["CUDAExecutionProvider", "CPUExecutionProvider"]
    if device != "auto":
        raise ValueError(f"device must be auto, cuda or cpu, got {device!r}")
    return [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in present]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles of size ``tile`` covering ``length`` with at least ``overlap``."""
    if length <= tile:
        return [0]
    step = max(tile - overlap, 1)
    starts = list(range(0, length - tile, step))
    starts.append(length - tile)
    return starts


def blend_window(height: int, width: int, overlap: int) -> np.ndarray:
    """Weights rising from ~0 at each tile edge to 1 at ``overlap`` pixels inside.

    A squared-sine ramp: a tile's outermost pixels, whose context was cut off, hardly count
    where a neighbouring tile saw them from inside; the weights never reach zero, so pixels
    on the image border that only one tile covers are still defined.
    """

    def ramp(n: int) -> np.ndarray:
        if overlap <= 0:
            return np.ones(n, dtype=np.float32)
        distance = np.minimum(np.arange(n), np.arange(n)[::-1]).astype(np.float32)
        weights = np.sin(np.pi / 2 * np.minimum((distance + 0.5) / overlap, 1.0)) ** 2
        return np.maximum(weights, 1e-4).astype(np.float32)

    return np.outer(ramp(height), ramp(width))


def pad_to_multiple(tile: np.ndarray, multiple: int = SIZE_MULTIPLE) -> np.ndarray:
    height, width = tile.shape
    pad_h = (-height) % multiple
    pad_w = (-width) % multiple
    if pad_h == 0 and pad_w == 0:
        return tile
    mode = "reflect" if height > pad_h and width > pad_w else "edge"
    return np.pad(tile, ((0, pad_h), (0, pad_w)), mode=mode)


@dataclass(frozen=True)
class ModelInfo:
    path: str
    metadata: dict[str, str]

    @property
    def name(self) -> str:
        return self.metadata.get("model_name", Path(self.path).stem)

    @property
    def version(self) -> str:
        return self.metadata.get("model_version", "unknown")

    @property
    def histogram(self) -> str | None:
        return self.metadata.get("histogram")


class FrontModel:
    """An exported front-detection network loaded into ONNX Runtime."""

    def __init__(self, path: str | Path, device: str = "auto", threads: int | None = None):
        import onnxruntime

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"model file {path} does not exist")
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        # Quiet ORT's own warnings (e.g. about unused CUDA) unless they are errors.
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(
            str(path), sess_options=options, providers=available_providers(device)
        )
        self.provider = self.session.get_providers()[0]
        metadata = self.session.get_modelmeta().custom_metadata_map
        self.info = ModelInfo(path=str(path), metadata=dict(metadata))
        inputs = [i.name for i in self.session.get_inputs()]
        outputs = [o.name for o in self.session.get_outputs()]
        if INPUT_NAME not in inputs or OUTPUT_NAME not in outputs:
            raise ValueError(
                f"{path}: expected input '{INPUT_NAME}' and output '{OUTPUT_NAME}', "
                f"found inputs {inputs} and outputs {outputs}"
            )
        log.info("model %s %s on %s", self.info.name, self.info.version, self.provider)

    @property
    def metadata(self) -> dict[str, str]:
        return self.info.metadata

    def predict_tile(self, tile: np.ndarray) -> np.ndarray:
        """Probabilities for one (H, W) tile of the normalized band."""
        height, width = tile.shape
        padded = pad_to_multiple(tile.astype(np.float32))
        batch = padded[np.newaxis, np.newaxis]
        (probability,) = self.session.run([OUTPUT_NAME], {INPUT_NAME: batch})
        return probability[0, 0, :height, :width]

    def predict(self, image: np.ndarray, tile_size: int = 1024, overlap: int = 128) -> np.ndarray:
        """Front probability for a whole (H, W) image, tiled with blended overlaps."""
        if image.ndim != 2:
            raise ValueError(f"expected a single-band (H, W) image, got shape {image.shape}")
        if overlap >= tile_size:
            raise ValueError(f"overlap {overlap} must be smaller than tile_size {tile_size}")
        height, width = image.shape
        total = np.zeros((height, width), dtype=np.float32)
        weight = np.zeros((height, width), dtype=np.float32)
        rows = tile_starts(height, tile_size, overlap)
        cols = tile_starts(width, tile_size, overlap)
        for row in rows:
            for col in cols:
                tile = image[row : row + tile_size, col : col + tile_size]
                window = blend_window(*tile.shape, overlap)
                total[row : row + tile.shape[0], col : col + tile.shape[1]] += (
                    self.predict_tile(tile) * window
                )
                weight[row : row + tile.shape[0], col : col + tile.shape[1]] += window
        return total / np.maximum(weight, 1e-6)
