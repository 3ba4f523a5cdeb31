"""Inference with ONNX Runtime: a front-probability map for a whole area of interest.

The area of interest is cut into large overlapping tiles; each tile's prediction is weighted
by a window that falls off towards the tile edges, where a convolutional network sees least
context, and the weighted predictions are averaged. Torch is never imported here: the
workflow runs on machines with ONNX Runtime only.

Members: the network also sees each tile mirrored and turned (test-time augmentation). Each
member's probability is turned back onto the image, so the members are predictions of the
same front that differ only by what the network makes of the view; where they disagree the
front is uncertain (:mod:`calvingfronts.fronts.uncertainty`), and their mean is a better map than
any one of them. A tile's members run as one batch per tile shape.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

INPUT_NAME = "image"
OUTPUT_NAME = "front_probability"
# A model trained with a zone head also returns each pixel's zone probabilities (rock,
# glacier, ocean: the metadata key ``zones`` names them), from which a front can be drawn
# as the glacier-ocean boundary (calvingfronts.fronts.zones).
ZONE_OUTPUT_NAME = "zone_probability"
# The networks downsample by up to 32; every tile is padded to a multiple of it.
SIZE_MULTIPLE = 32
# Pixels of nodata (0) framing the image the network sees. Training crops that reach past an
# image's edge see nodata there, written as 0 by the preprocessing contract
# (calvingfronts.training.augment.make_example), so the network has learnt that a scene ends
# in zeros. Mirrored padding instead shows it a reflected copy of whatever lies at the
# border, a front or a fjord wall included: on the leave-one-glacier-out folds it put 25 of
# north-west Greenland's 70 fronts over 1 km off, against 5 with this frame
# (docs/training/padding-2026-11-26.md). 32 px rather than the 64 used until 2026-12-04: on
# the folds it is as good or better with 4 and 8 views and with adaptive views (376 against
# 388 m pooled), worse with 1 view, and the network sees 8-25 % fewer pixels (model card,
# "Leave-one-glacier-out cross-validation").
FRAME_PX = 32
# Pixels of the scene around the fjord's bounding box that the network is shown: fronts are
# only drawn inside the fjord, so the rest of the area of interest is never inferred. The
# network still sees this much real context past the fjord's walls (about 4 km at 30 m).
CONTEXT_PX = 128


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


def tile_spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """(start, size) of the fewest tiles of at most ``tile`` pixels that cover ``length``
    with at least ``overlap`` shared by neighbours, all of one size: the length shared out
    evenly, in multiples of SIZE_MULTIPLE where the tile allows.

    Full-size tiles from the start, with the last one moved back to end on the edge, would
    cover a 1461-pixel framed scene with two 1152-pixel tiles (2304 pixels, 58 % more
    network work than the scene); shared out, two 800-pixel tiles do (1600 pixels).
    """
    if length <= tile:
        return [(0, length)]
    count = -(-(length - overlap) // max(tile - overlap, 1))
    size = -(-(length + (count - 1) * overlap) // count)
    rounded = -(-size // SIZE_MULTIPLE) * SIZE_MULTIPLE
    size = rounded if rounded <= tile else size
    last = length - size
    starts = sorted({round(i * last / (count - 1)) for i in range(count)})
    return [(start, size) for start in starts]


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
    """``tile`` with nodata (0) rows and columns added at the bottom and right up to a
    multiple of ``multiple``."""
    height, width = tile.shape
    return np.pad(tile, ((0, (-height) % multiple), (0, (-width) % multiple)))


def framed(image: np.ndarray) -> np.ndarray:
    """``image`` inside a frame of FRAME_PX nodata (0) pixels on every side."""
    return np.pad(image, FRAME_PX)


def unframed(output, height: int, width: int):
    """The (..., height, width) part of a framed image's ``output`` (NumPy or torch) that
    lies on the image itself: the frame and any padding after it cut away."""
    return output[..., FRAME_PX : FRAME_PX + height, FRAME_PX : FRAME_PX + width]


# The views of a tile, in order, as (quarter turns counter-clockwise, then mirrored left-right):
# the symmetries of a square. The first four keep a tile's shape; the quarter-turned four
# swap its height and width, so a tile's members run as at most two batches.
MEMBER_VIEWS = {
    "identity": (0, False),
    "mirror_lr": (0, True),
    "mirror_ud": (2, True),
    "turn_180": (2, False),
    "turn_90": (1, False),
    "turn_270": (3, False),
    "turn_90_mirror_lr": (1, True),
    "turn_270_mirror_lr": (3, True),
}
_VIEW_ORDER = tuple(MEMBER_VIEWS)


def member_view(array: np.ndarray, member: int) -> np.ndarray:
    """The (..., H, W) ``array`` as member ``member`` sees it."""
    turns, mirrored = MEMBER_VIEWS[_VIEW_ORDER[member]]
    turned = np.rot90(array, turns, axes=(-2, -1))
    return turned[..., ::-1] if mirrored else turned


def member_unview(array: np.ndarray, member: int) -> np.ndarray:
    """Member ``member``'s (..., H, W) output turned back onto the image."""
    turns, mirrored = MEMBER_VIEWS[_VIEW_ORDER[member]]
    return np.rot90(array[..., ::-1] if mirrored else array, -turns, axes=(-2, -1))


def check_members(members: int) -> int:
    if not 1 <= members <= len(MEMBER_VIEWS):
        raise ValueError(f"members must be 1 to {len(MEMBER_VIEWS)}, got {members}")
    return int(members)


def check_member_range(members: int, first_member: int) -> tuple[int, int]:
    """(members, first_member) checked: members ``first_member`` to ``members - 1``, at
    least one of them."""
    members = check_members(members)
    if not 0 <= first_member < members:
        raise ValueError(f"first_member must be 0 to {members - 1}, got {first_member}")
    return members, int(first_member)


@dataclass(frozen=True)
class Prediction:
    """What the network makes of a scene: each view's front probability (members, H, W)
    and, from a model with a zone head, the views' mean zone probabilities (zones, H, W)."""

    members: np.ndarray
    zones: np.ndarray | None = None


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

    @property
    def zones(self) -> tuple[str, ...]:
        """The zone classes of the model's ``zone_probability`` (empty without one)."""
        return tuple(name for name in self.metadata.get("zones", "").split(",") if name)


class FrontModel:
    """An exported front-detection network loaded into ONNX Runtime."""

    def __init__(
        self,
        path: str | Path,
        device: str = "auto",
        threads: int | None = None,
        batch_size: int | None = None,
    ):
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
        if (ZONE_OUTPUT_NAME in outputs) != bool(self.info.zones):
            raise ValueError(
                f"{path}: a '{ZONE_OUTPUT_NAME}' output needs the metadata key 'zones' naming "
                f"its classes, and the key the output (outputs {outputs}, zones "
                f"{self.metadata.get('zones')!r})"
            )
        if self.info.zones:
            channels = next(
                o.shape[1] for o in self.session.get_outputs() if o.name == ZONE_OUTPUT_NAME
            )
            if not {"glacier", "ocean"} <= set(self.info.zones) or (
                isinstance(channels, int) and channels != len(self.info.zones)
            ):
                raise ValueError(
                    f"{path}: metadata 'zones' {self.metadata['zones']!r} must name each of the "
                    f"{channels} channels of '{ZONE_OUTPUT_NAME}', glacier and ocean among them"
                )
        # The session's outputs, in the order of the channels run_session returns.
        self.outputs = [OUTPUT_NAME] + ([ZONE_OUTPUT_NAME] if self.info.zones else [])
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        # Views per call of the network (None: a tile's views of one shape in one call).
        self.batch_size = batch_size
        # What runs a stack of views: the session itself, or a TileBatcher that stacks the
        # views of several scenes into one call (calvingfronts.inference.tile_batching).
        self.network = self.run_session
        log.info("model %s %s on %s", self.info.name, self.info.version, self.provider)

    @property
    def metadata(self) -> dict[str, str]:
        return self.info.metadata

    @property
    def has_zones(self) -> bool:
        return bool(self.info.zones)

    def run_session(self, views: np.ndarray) -> np.ndarray:
        """The network's output for a stack of views (N, 1, H, W), one call: (N, 1, H, W)
        front probability, followed by the zones' channels where the model has them (one
        array, so a TileBatcher splits it by view like any other)."""
        outputs = self.session.run(self.outputs, {INPUT_NAME: views})
        return outputs[0] if len(outputs) == 1 else np.concatenate(outputs, axis=1)

    def run_network(self, views: np.ndarray) -> np.ndarray:
        """The network's output for a stack of views, in calls of at most ``batch_size``."""
        size = self.batch_size or len(views)
        parts = [self.network(views[start : start + size]) for start in range(0, len(views), size)]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def predict_tile(self, tile: np.ndarray, members: int = 1, first_member: int = 0) -> Prediction:
        """Each member's probability (members - first_member, H, W) for one (H, W) tile of
        the normalized band, members ``first_member`` to ``members - 1``, each member's view
        turned back onto the tile, and those members' mean zone probabilities where the
        model has them. Members whose views share a shape go through the network as one
        batch."""
        members, first_member = check_member_range(members, first_member)
        height, width = tile.shape
        tile = tile.astype(np.float32)
        out = np.empty((members - first_member, height, width), dtype=np.float32)
        zones = np.zeros((len(self.info.zones), height, width), dtype=np.float32)
        wanted = range(first_member, members)
        for batch_members in (
            [m for m in wanted if MEMBER_VIEWS[_VIEW_ORDER[m]][0] % 2 == 0],
            [m for m in wanted if MEMBER_VIEWS[_VIEW_ORDER[m]][0] % 2 == 1],
        ):
            if not batch_members:
                continue
            views = [np.ascontiguousarray(member_view(tile, m)) for m in batch_members]
            view_h, view_w = views[0].shape
            batch = np.stack([pad_to_multiple(v) for v in views])[:, np.newaxis]
            output = self.run_network(batch)
            for index, m in enumerate(batch_members):
                out[m - first_member] = member_unview(output[index, 0, :view_h, :view_w], m)
                if len(zones):
                    zones += member_unview(output[index, 1:, :view_h, :view_w], m)
        return Prediction(out, zones / len(out) if len(zones) else None)

    def predict_scene(
        self,
        image: np.ndarray,
        tile_size: int = 1024,
        overlap: int = 128,
        members: int = 1,
        first_member: int = 0,
    ) -> Prediction:
        """Each member's front probability (members - first_member, H, W) for a whole
        (H, W) image, tiled with blended overlaps, and those members' mean zone
        probabilities where the model has a zone head. Members before ``first_member`` are
        left out: views come in a fixed order, so a scene seen with a few views gets the
        rest without making those again (calvingfronts.workflow.pipeline.inference_stage)."""
        members, first_member = check_member_range(members, first_member)
        if image.ndim != 2:
            raise ValueError(f"expected a single-band (H, W) image, got shape {image.shape}")
        if overlap >= tile_size:
            raise ValueError(f"overlap {overlap} must be smaller than tile_size {tile_size}")
        height, width = image.shape
        # The frame comes on top of the tile size, which counts the image's own pixels: an
        # image of up to tile_size pixels a side stays one tile.
        image = framed(image)
        tile_size += 2 * FRAME_PX
        total = np.zeros((members - first_member, *image.shape), dtype=np.float32)
        zone_total = np.zeros((len(self.info.zones), *image.shape), dtype=np.float32)
        weight = np.zeros(image.shape, dtype=np.float32)
        rows = tile_spans(image.shape[0], tile_size, overlap)
        cols = tile_spans(image.shape[1], tile_size, overlap)
        for row, tile_height in rows:
            for col, tile_width in cols:
                tile = image[row : row + tile_height, col : col + tile_width]
                window = blend_window(*tile.shape, overlap)
                place = np.s_[row : row + tile.shape[0], col : col + tile.shape[1]]
                prediction = self.predict_tile(tile, members, first_member)
                total[(slice(None), *place)] += prediction.members * window
                if prediction.zones is not None:
                    zone_total[(slice(None), *place)] += prediction.zones * window
                weight[place] += window
        weight = np.maximum(unframed(weight, height, width), 1e-6)
        zones = unframed(zone_total, height, width) / weight if len(zone_total) else None
        return Prediction(unframed(total, height, width) / weight, zones)

    def predict_members(
        self, image: np.ndarray, tile_size: int = 1024, overlap: int = 128, members: int = 1
    ) -> np.ndarray:
        """Each member's front probability (members, H, W) for a whole (H, W) image, tiled
        with blended overlaps."""
        return self.predict_scene(image, tile_size, overlap, members).members

    def predict(self, image: np.ndarray, tile_size: int = 1024, overlap: int = 128) -> np.ndarray:
        """Front probability for a whole (H, W) image (one member: the image as it is)."""
        return self.predict_members(image, tile_size, overlap, members=1)[0]
