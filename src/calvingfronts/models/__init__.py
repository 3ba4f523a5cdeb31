"""PyTorch networks for calving-front segmentation (training only; inference uses ONNX)."""

from calvingfronts.models.registry import ARCHITECTURES, MODELS, build_model, describe

__all__ = ["ARCHITECTURES", "MODELS", "build_model", "describe"]
